"""Spike alerts: shown in the app (the dashboard and ``GET /api/listening/alerts``) and e-mailed.

The e-mail goes after the ingest transaction commits, from a worker task that takes the alert
id: it locks the alert row and sends only while ``emailed_at`` is empty, then stamps it, so a
redelivered task does not send twice (a worker killed between the SMTP server accepting the
message and the stamp would send it again on retry: at least once, never lost). Recipients are
the workspace's members whose role may manage listening (``listening.manage``) and who have an
e-mail address; each gets it in their preferred language. Django's e-mail settings decide how
it leaves (``EMAIL_*``; README).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from samphan.accounts.models import Membership
from samphan.accounts.roles import CAPABILITIES
from samphan.listening.models import Alert

logger = logging.getLogger("samphan.listening")


def alert_raised(alert: Alert) -> None:
    from samphan.listening.tasks import alert_email

    transaction.on_commit(lambda: alert_email.delay(alert.pk))


def alert_recipients(workspace_id: int) -> list[tuple[str, str]]:
    """(e-mail, language) of the members who manage listening."""
    roles = CAPABILITIES["listening.manage"]
    rows = (Membership.objects.filter(workspace_id=workspace_id, role__in=list(roles), user__is_active=True)
            .exclude(user__email="").order_by("user__email")
            .values_list("user__email", "user__preferred_language"))
    return [(email, language or settings.LANGUAGE_CODE) for email, language in rows]


def alert_title(alert: Alert) -> str:
    topic = alert.topic.name if alert.topic is not None else _("all mentions")
    return _("Negative spike on %(topic)s: %(n)d negative mentions this hour") % {"topic": topic,
                                                                                  "n": alert.observed}


def _body(alert: Alert, url: str) -> str:
    return "\n".join([
        alert_title(alert),
        "",
        _("Hour (UTC): %(hour)s") % {"hour": alert.hour.strftime("%Y-%m-%d %H:00")},
        _("Usual negative mentions per hour over the last 7 days: %(mean).1f (standard deviation %(std).1f)")
        % {"mean": alert.baseline_mean, "std": alert.baseline_std},
        _("Alert threshold: %(threshold).1f") % {"threshold": alert.threshold},
        "",
        _("See the mentions, worst first: %(url)s") % {"url": url},
    ])


def alert_send_email(alert_id: int) -> int:
    """Send the alert's e-mail once. Returns how many recipients it went to (0: already sent or none)."""
    from samphan.channels.services import public_base_url

    with transaction.atomic():
        alert = Alert.objects.select_for_update(of=("self",)).select_related("topic", "workspace").filter(pk=alert_id).first()
        if alert is None or alert.emailed_at is not None:
            return 0
        recipients = alert_recipients(alert.workspace_id)
        if not recipients:
            Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now(), email_recipients=[])
            return 0
        url = f"{public_base_url()}/w/{alert.workspace.slug}/listening/mentions/?status=new"
        by_language: dict[str, list[str]] = {}
        for email, language in recipients:
            by_language.setdefault(language, []).append(email)
        messages: list[Any] = []
        for language, emails in by_language.items():
            with translation.override(language):
                subject = f"[Samphan · {alert.workspace.name}] {alert_title(alert)}"
                body = _body(alert, url)
            for email in emails:
                messages.append(EmailMessage(subject=subject, body=body, to=[email]))
        get_connection().send_messages(messages)
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now(),
                                                 email_recipients=[e for e, _lang in recipients])
        logger.info("spike alert %s e-mailed to %d members", alert.pk, len(recipients))
        return len(recipients)
