from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samphan.channels.models import ChannelAccount, WebhookEvent

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_add_line_prints_id_and_webhook_url(workspace, monkeypatch):
    monkeypatch.setenv("SAMPHAN_PUBLIC_URL", "https://crm.example.co.th/")
    out = run("channels", "add", "line", "--workspace", "alpha", "--name", "ร้านบ้านสวน LINE",
              "--channel-secret", "s3cr3t-channel", "--access-token", "t0ken", "--json")
    data = json.loads(out)
    account = ChannelAccount.objects.get(pk=data["id"])
    assert set(data) == {"id", "webhook_url"}
    assert data["webhook_url"] == f"https://crm.example.co.th/webhooks/line/{account.uuid}"
    assert account.secrets == {"channel_secret": "s3cr3t-channel", "access_token": "t0ken"}
    listed = json.loads(run("channels", "list", "--workspace", "alpha", "--json"))
    assert listed[0]["name"] == "ร้านบ้านสวน LINE" and "s3cr3t" not in json.dumps(listed)


def test_add_requires_the_secrets(workspace):
    with pytest.raises(CommandError, match="access_token is required"):
        run("channels", "add", "line", "--workspace", "alpha", "--name", "x", "--channel-secret", "s")
    with pytest.raises(CommandError, match="page_id is required"):
        run("channels", "add", "facebook", "--workspace", "alpha", "--name", "x", "--app-secret", "a",
            "--page-access-token", "p", "--verify-token", "v")


def test_failed_events_and_retry(workspace, line_account):
    event = WebhookEvent.objects.create(workspace=workspace, channel_account=line_account, body=b"{}",
                                        status="failed", failure_reason='expected an object with an "events" list')
    rows = json.loads(run("channels", "events", "--workspace", "alpha", "--json"))
    assert rows[0]["id"] == event.pk and "events" in rows[0]["reason"]
    assert "queued again" in run("channels", "retry", str(event.pk), "--workspace", "alpha")


def test_add_email_and_poll(workspace, imap_server, smtp_server):
    from samphan.channels.models import ChannelPollState
    from tests.channels.helpers import customer_mail
    from tests.channels.mailservers import IMAP_PASSWORD, IMAP_USER

    mailbox = imap_server.new_mailbox()
    out = run("channels", "add", "email", "--workspace", "alpha", "--name", "ร้านบ้านสวน mail",
              "--imap-host", imap_server.host, "--imap-port", str(imap_server.port), "--imap-security", "plain",
              "--imap-mailbox", mailbox, "--smtp-host", smtp_server.host, "--smtp-port", str(smtp_server.port),
              "--smtp-security", "plain", "--username", IMAP_USER, "--password", IMAP_PASSWORD, "--json")
    data = json.loads(out)
    account = ChannelAccount.objects.get(pk=data["id"])
    assert data == {"id": account.pk, "webhook_url": None}  # polled: no webhook
    assert account.secrets == {"password": IMAP_PASSWORD} and "password" not in account.config
    imap_server.deliver(mailbox, customer_mail())
    polled = json.loads(run("channels", "poll", "--workspace", "alpha", "--json"))
    assert polled == [{"account": account.pk, "name": "ร้านบ้านสวน mail", "fetched": 1}]
    assert json.loads(run("channels", "poll", "--workspace", "alpha", "--account", str(account.pk),
                          "--json"))[0]["fetched"] == 0
    assert ChannelPollState.objects.get(channel_account=account).cursor["last_uid"] > 0

    account.set_secrets({"password": "wrong"})
    account.save()
    with pytest.raises(CommandError, match="refused the login"):
        run("channels", "poll", "--workspace", "alpha", "--account", str(account.pk))
    with pytest.raises(CommandError, match="not found"):
        run("channels", "poll", "--workspace", "alpha", "--account", "999999")


def test_add_email_checks_its_settings(workspace):
    with pytest.raises(CommandError, match="smtp_host is required"):
        run("channels", "add", "email", "--workspace", "alpha", "--name", "x", "--imap-host", "imap.example.com",
            "--username", "shop@example.com", "--password", "p")
