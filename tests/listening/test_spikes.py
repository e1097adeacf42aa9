"""Spike detection (the documented rule) and its alerts: in the app and by e-mail to a real SMTP server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from samphan.listening.ingest import mentions_ingest
from samphan.listening.models import Alert
from samphan.listening.spikes import judge
from tests.factories import MembershipFactory, UserFactory
from tests.listening.conftest import mention

NOW = datetime(2026, 3, 1, 10, 40, tzinfo=UTC)


def test_the_rule():
    quiet = [0] * 168
    assert not judge(4, quiet).spike  # below the minimum of 5
    assert judge(5, quiet).spike  # 5 > 0 + 3·1
    busy = [10, 14] * 84  # mean 12, σ 2 → σ' = √12 ≈ 3.46
    assert not judge(22, busy).spike  # below 2μ = 24 and μ + 3σ = 22.4
    assert judge(25, busy).spike
    noisy = [0, 40] * 84  # mean 20, σ 20: 79 is not a spike, 81 is
    assert not judge(79, noisy).spike and judge(81, noisy).spike
    verdict = judge(30, busy)
    assert verdict.mean == 12 and verdict.threshold == 24  # twice the mean is the binding condition here


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "alerts@samphan.test"
    yield handler
    controller.stop()


def _negative_burst(workspace, n, *, start=0, at=NOW):
    return mentions_ingest(workspace=workspace, connector="x", now=at, items=[
        mention(f"Alpha Coffee แย่มาก รอนาน พนักงานไม่สนใจ เรื่องที่ {start + i}", n=start + i + 1,
                published_at=at - timedelta(minutes=5)) for i in range(n)])


def test_a_negative_spike_alerts_in_the_app_and_by_email(workspace, topics, smtp_server,
                                                         django_capture_on_commit_callbacks):
    manager = MembershipFactory(workspace=workspace, role="manager",
                                user=UserFactory(email="manager@alpha.test", preferred_language="th")).user
    MembershipFactory(workspace=workspace, role="agent", user=UserFactory(email="agent@alpha.test"))
    # a normal week: one negative mention a day
    mentions_ingest(workspace=workspace, connector="x", now=NOW, items=[
        mention(f"Alpha Coffee แย่มาก รอนาน พนักงานไม่สนใจ วันที่ {d}", n=1000 + d, published_at=NOW - timedelta(days=d)) for d in range(1, 8)])
    with django_capture_on_commit_callbacks(execute=True):
        first = _negative_burst(workspace, 4)
    assert first.alerts == 0 and Alert.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        second = _negative_burst(workspace, 3, start=4)
    assert second.alerts == 2  # the brand topic and all mentions
    alerts = {a.topic_id: a for a in Alert.objects.all()}
    brand = alerts[topics["brand"].pk]
    assert brand.observed == 7 and brand.hour == NOW.replace(minute=0)
    assert brand.baseline_mean == pytest.approx(7 / 168, abs=0.001)
    # e-mailed once per alert, to those who manage listening (owner/manager/marketer), not to agents
    recipients = sorted(r for env in smtp_server.messages for r in env.rcpt_tos)
    assert recipients == ["manager@alpha.test"] * 2
    body = smtp_server.messages[0].content.decode("utf-8", errors="replace")
    assert "Subject:" in body and manager.email in body
    brand.refresh_from_db()
    assert brand.emailed_at is not None and brand.email_recipients == ["manager@alpha.test"]
    # more negative mentions in the same hour raise the count of the same alert, no new e-mail
    with django_capture_on_commit_callbacks(execute=True):
        third = _negative_burst(workspace, 2, start=7)
    assert third.alerts == 0 and Alert.objects.count() == 2 and len(smtp_server.messages) == 2
    brand.refresh_from_db()
    assert brand.observed == 9


def test_email_task_is_safe_to_run_twice(workspace, topics, smtp_server, django_capture_on_commit_callbacks):
    from samphan.listening.alerts import alert_send_email

    MembershipFactory(workspace=workspace, role="owner", user=UserFactory(email="owner@alpha.test"))
    with django_capture_on_commit_callbacks(execute=True):
        _negative_burst(workspace, 6)
    alert = Alert.objects.get(topic__isnull=True)
    assert alert_send_email(alert.pk) == 0
    assert len([m for m in smtp_server.messages if "owner@alpha.test" in m.rcpt_tos]) == 2


def test_history_does_not_alert(workspace, topics, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = _negative_burst(workspace, 10, at=NOW)
        assert result.alerts == 2
        old = mentions_ingest(workspace=workspace, connector="x", now=NOW, items=[
            mention(f"Alpha Coffee แย่มาก ปีที่แล้ว {i}", n=500 + i, published_at=NOW - timedelta(days=300))
            for i in range(20)])
    assert old.alerts == 0
