"""Channel secrets are encrypted at rest, never shown, and survive a key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from samphan.channels.crypto import SecretsUnavailable, mask
from samphan.channels.models import ChannelAccount
from samphan.channels.services import channel_secrets_rotate_all
from samphan.core.models import AuditEvent
from tests.channels.helpers import LINE_SECRET, LINE_TOKEN, fixture, post_line

pytestmark = pytest.mark.django_db


def test_secrets_are_not_stored_in_clear(line_account):
    raw = ChannelAccount.objects.filter(pk=line_account.pk).values_list("secrets_ciphertext", "config").get()
    assert LINE_SECRET not in raw[0] and LINE_TOKEN not in raw[0] and LINE_SECRET not in str(raw[1])
    assert ChannelAccount.objects.get(pk=line_account.pk).secrets == {"channel_secret": LINE_SECRET,
                                                                      "access_token": LINE_TOKEN}
    audit = AuditEvent.objects.get(action="channel.created")
    assert LINE_SECRET not in str(audit.changes) and audit.changes["secrets_set"] == ["access_token", "channel_secret"]


def test_api_masks_secrets(api, line_account):
    [account] = api.get("/api/channels/accounts").json()
    assert account["secrets"] == {"channel_secret": "••••4f50", "access_token": "••••ests"}
    assert account["webhook_url"].endswith(f"/webhooks/line/{line_account.uuid}")
    assert mask("short") == "••••"


def test_rotation_keeps_secrets_readable(line_account, monkeypatch, settings):
    old_key = settings.SECRET_KEY
    new_key = Fernet.generate_key().decode()
    before = ChannelAccount.objects.get(pk=line_account.pk).secrets_ciphertext
    monkeypatch.setenv("SAMPHAN_ENCRYPTION_KEY", f"{new_key},{old_key}")
    assert ChannelAccount.objects.get(pk=line_account.pk).secrets["channel_secret"] == LINE_SECRET
    assert channel_secrets_rotate_all() == 1
    after = ChannelAccount.objects.get(pk=line_account.pk).secrets_ciphertext
    assert after != before
    monkeypatch.setenv("SAMPHAN_ENCRYPTION_KEY", new_key)  # the old key is gone: still readable
    assert ChannelAccount.objects.get(pk=line_account.pk).secrets["access_token"] == LINE_TOKEN


def test_a_lost_key_is_a_clear_503_not_a_crash(line_account, provider_client, monkeypatch):
    monkeypatch.setenv("SAMPHAN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(SecretsUnavailable):
        _ = ChannelAccount.objects.get(pk=line_account.pk).secrets
    response = post_line(provider_client, line_account, fixture("line", "message_text"))
    assert response.status_code == 503


def test_secrets_never_reach_the_log(line_account, provider_client, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        post_line(provider_client, line_account, fixture("line", "message_text"), signature="bad")
    assert "bad signature" in caplog.text
    assert LINE_SECRET not in caplog.text and LINE_TOKEN not in caplog.text


def test_rotate_secrets_command_reencrypts_listening_x_tokens(line_account, workspace, monkeypatch, settings):
    """`samphan channels rotate-secrets` rewrites every encrypted column, not only channel accounts:
    an X source's bearer token must survive dropping the old key."""
    from io import StringIO

    from django.core.management import call_command

    from samphan.listening.models import Source
    from samphan.listening.services import source_create

    source = source_create(workspace=workspace, kind="x", name="Brand on X", query="samphan",
                           bearer_token="x-bearer-token-value")
    before = Source.objects.get(pk=source.pk).secrets_ciphertext
    assert "x-bearer-token-value" not in before
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("SAMPHAN_ENCRYPTION_KEY", f"{new_key},{settings.SECRET_KEY}")
    out = StringIO()
    call_command("channels", "rotate-secrets", stdout=out)
    assert "1 channel accounts and 1 listening sources" in out.getvalue()
    assert Source.objects.get(pk=source.pk).secrets_ciphertext != before
    monkeypatch.setenv("SAMPHAN_ENCRYPTION_KEY", new_key)  # the old key is gone
    assert Source.objects.get(pk=source.pk).secrets == {"bearer_token": "x-bearer-token-value"}
    assert ChannelAccount.objects.get(pk=line_account.pk).secrets["channel_secret"] == LINE_SECRET
