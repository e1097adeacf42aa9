"""Channel settings pages: the list, the generated add/edit forms for every provider, secrets
write-only, per-field errors, deactivation, the mailbox check, and failed webhook events with retry."""

# ruff: noqa: F811  (the channels' fixtures are imported, then named as test arguments)
from __future__ import annotations

import json

import pytest
from django.test import Client

from samphan.channels.models import ChannelAccount, ChannelPollState, WebhookEvent
from samphan.channels.services import channel_account_create
from samphan.core.models import AuditEvent
from samphan.inbox.models import Message
from tests.channels.conftest import (  # noqa: F401
    _clean_fake_outbox,
    email_account,
    imap_server,
    line_account,
    provider_client,
    run_on_commit,
    smtp_server,
    webchat_account,
)
from tests.channels.helpers import LINE_SECRET, LINE_TOKEN, line_text_event, post_line
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def url(workspace, path: str = "") -> str:
    return f"/w/{workspace.slug}/channels/{path}"


def client_for(workspace, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(workspace=workspace, role=role).user)
    return client


def test_list_shows_accounts_with_their_webhook_url_and_never_a_secret(owner_client, workspace, line_account,
                                                                       webchat_account):
    page = owner_client.get(url(workspace)).content.decode()
    assert "Baan Suan LINE OA" in page and "LINE Official Account" in page and "Web chat" in page
    assert f"/webhooks/line/{line_account.uuid}" in page
    assert LINE_SECRET not in page and LINE_TOKEN not in page
    assert 'data-testid="add-sms"' in page and 'data-testid="add-email"' in page
    assert 'data-testid="add-listening"' not in page  # made on first use, not by hand


def test_add_line_account_from_the_generated_form(owner_client, workspace):
    form = owner_client.get(url(workspace, "new/line/")).content.decode()
    assert 'name="channel_secret"' in form and 'name="access_token"' in form and 'type="password"' in form
    response = owner_client.post(url(workspace, "new/line/"), {
        "name": "ร้านบ้านสวน LINE", "channel_secret": LINE_SECRET, "access_token": LINE_TOKEN})
    account = ChannelAccount.objects.get(provider="line")
    assert response.status_code == 302 and response["Location"] == url(workspace, f"{account.pk}/")
    assert account.secrets == {"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN}
    assert LINE_SECRET not in account.secrets_ciphertext  # encrypted by the service
    edit = owner_client.get(response["Location"]).content.decode()
    assert f"/webhooks/line/{account.uuid}" in edit
    assert LINE_SECRET not in edit and LINE_TOKEN not in edit and "leave blank to keep it" in edit
    audit = AuditEvent.objects.get(action="channel.created")
    assert audit.via == "web" and audit.changes["secrets_set"] == ["access_token", "channel_secret"]


def test_missing_fields_are_named_and_what_was_typed_stays(owner_client, workspace):
    response = owner_client.post(url(workspace, "new/facebook/"), {"name": "", "app_secret": "s3cret-app",
                                                                   "graph_base_url": "https://graph.test"})
    page = response.content.decode()
    assert response.status_code == 422 and not ChannelAccount.objects.exists()
    assert 'data-testid="error-name"' in page and 'data-testid="error-page_id"' in page
    assert 'value="https://graph.test"' in page  # config kept
    assert "s3cret-app" not in page  # a secret is never echoed back, even on an error
    # Name given: the service's own checks come back on the secrets they name.
    response = owner_client.post(url(workspace, "new/facebook/"), {"name": "Page", "page_id": "1047",
                                                                   "app_secret": "s3cret-app"})
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="error-page_access_token"' in page and 'data-testid="error-verify_token"' in page


def test_bad_values_are_named_per_field(owner_client, workspace):
    response = owner_client.post(url(workspace, "new/email/"), {
        "name": "Mail", "imap_host": "imap.example.com", "smtp_host": "smtp.example.com", "username": "shop",
        "password": "pw", "imap_port": "nine-nine-three", "imap_security": "tls1.3"})
    page = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="error-imap_port"' in page and 'data-testid="error-imap_security"' in page
    response = owner_client.post(url(workspace, "new/email/"), {
        "name": "Mail", "imap_host": "imap.example.com", "smtp_host": "smtp.example.com", "username": "shop",
        "password": "pw"})
    assert response.status_code == 422 and 'data-testid="error-from_address"' in response.content.decode()
    response = owner_client.post(url(workspace, "new/sms/"), {"name": "SMS", "preset": "generic",
                                                             "fields": "{not json"})
    assert response.status_code == 422 and 'data-testid="error-fields"' in response.content.decode()
    response = owner_client.post(url(workspace, "new/webchat/"), {"name": "Site",
                                                                 "allowed_origins": "https://shop.example/path"})
    page = response.content.decode()
    assert response.status_code == 422 and 'data-testid="error-allowed_origins"' in page
    assert "is not an origin" in page
    assert not ChannelAccount.objects.exists()


def test_every_provider_can_be_added(owner_client, workspace):
    cases = {
        "facebook": {"app_secret": "a" * 32, "page_access_token": "EAAG-token", "verify_token": "โทเคน",
                     "page_id": "104729375231234"},
        "email": {"imap_host": "imap.example.com", "smtp_host": "smtp.example.com",
                  "username": "shop@baansuan.co.th", "password": "รหัสผ่าน", "imap_port": "993",
                  "smtp_security": "starttls", "poll_interval": "120"},
        "sms": {"preset": "thaibulksms", "api_key": "key-1", "api_secret": "secret-1", "sender": "BAANSUAN"},
        "webchat": {"allowed_origins": "https://Shop.Example:443/\nhttps://baansuan.co.th",
                    "title_th": "แชทกับบ้านสวน", "color": "#0f766e"},
    }
    for provider, data in cases.items():
        response = owner_client.post(url(workspace, f"new/{provider}/"), {"name": provider.upper(), **data})
        assert response.status_code == 302, (provider, response.content.decode()[:3000])
    accounts = {a.provider: a for a in ChannelAccount.objects.all()}
    assert accounts["email"].config["imap_port"] == 993 and accounts["email"].secrets["password"] == "รหัสผ่าน"
    assert accounts["webchat"].config["allowed_origins"] == ["https://shop.example", "https://baansuan.co.th"]
    assert accounts["sms"].secrets["webhook_secret"]  # generated
    sms_page = owner_client.get(url(workspace, f"{accounts['sms'].pk}/")).content.decode()
    # The ThaiBulkSMS webhook address carries the webhook secret: masked, shown only on request.
    secret = accounts["sms"].secrets["webhook_secret"]
    assert secret not in sms_page and "key-1" not in sms_page and "secret-1" not in sms_page
    assert "?token=••••" in sms_page
    revealed = owner_client.post(url(workspace, f"{accounts['sms'].pk}/webhook-url/")).content.decode()
    assert f"token={secret}" in revealed
    assert "https://api-v2.thaibulksms.com/sms" in sms_page  # the preset's value as the placeholder
    chat_page = owner_client.get(url(workspace, f"{accounts['webchat'].pk}/")).content.decode()
    # The embed snippet to copy (escaped inside its text box).
    assert f'data-channel=&quot;{accounts["webchat"].uuid}&quot;' in chat_page and "/webchat/widget.js" in chat_page
    listing = owner_client.get(url(workspace)).content.decode()
    assert "รหัสผ่าน" not in listing and "key-1" not in listing and secret not in listing


def test_edit_keeps_blank_secrets_replaces_typed_ones_and_clears_optional_ones(owner_client, workspace):
    account = channel_account_create(workspace=workspace, provider="email", name="Mail", secrets={
        "password": "old-pass", "smtp_password": "smtp-pass"}, config={
        "imap_host": "imap.example.com", "smtp_host": "smtp.example.com", "username": "shop@example.com",
        "imap_port": 993})
    base = {"name": "Mail renamed", "imap_host": "imap2.example.com", "smtp_host": "smtp.example.com",
            "username": "shop@example.com", "imap_port": ""}
    assert owner_client.post(url(workspace, f"{account.pk}/"), base).status_code == 302
    account.refresh_from_db()
    assert account.name == "Mail renamed" and account.config["imap_host"] == "imap2.example.com"
    assert "imap_port" not in account.config  # blank: back to the default
    assert account.secrets == {"password": "old-pass", "smtp_password": "smtp-pass"}
    owner_client.post(url(workspace, f"{account.pk}/"), {**base, "password": "new-pass", "clear_smtp_password": "1"})
    account.refresh_from_db()
    assert account.secrets == {"password": "new-pass"}
    bad = owner_client.post(url(workspace, f"{account.pk}/"), {**base, "smtp_host": "", "password": "typed"})
    assert bad.status_code == 422 and 'data-testid="error-smtp_host"' in bad.content.decode()
    assert "typed" not in bad.content.decode()
    account.refresh_from_db()
    assert account.config["smtp_host"] == "smtp.example.com" and account.secrets["password"] == "new-pass"


def test_deactivate_and_reactivate(owner_client, workspace, line_account, provider_client):
    owner_client.post(url(workspace, f"{line_account.pk}/active/"), {"active": "0"})
    line_account.refresh_from_db()
    assert not line_account.is_active
    assert post_line(provider_client, line_account, {"destination": "U", "events": []}).status_code == 404
    assert "Reactivate" in owner_client.get(url(workspace)).content.decode()
    owner_client.post(url(workspace, f"{line_account.pk}/active/"), {"active": "1", "next": "list"})
    line_account.refresh_from_db()
    assert line_account.is_active
    assert AuditEvent.objects.filter(action="channel.updated").count() == 2


def test_another_workspaces_account_is_404_and_non_admins_are_403(workspace, other_workspace, owner_client,
                                                                  line_account):
    theirs = channel_account_create(workspace=other_workspace, provider="line", name="Theirs",
                                    secrets={"channel_secret": "x" * 32, "access_token": "t"})
    assert owner_client.get(url(workspace, f"{theirs.pk}/")).status_code == 404
    assert owner_client.post(url(workspace, f"{theirs.pk}/"), {"name": "mine now"}).status_code == 404
    assert owner_client.post(url(workspace, f"{theirs.pk}/active/"), {"active": "0"}).status_code == 404
    assert owner_client.post(url(workspace, f"{theirs.pk}/webhook-url/")).status_code == 404
    assert owner_client.post(url(workspace, f"{theirs.pk}/retry-failed/")).status_code == 404
    assert "Theirs" not in owner_client.get(url(workspace)).content.decode()
    assert owner_client.get(f"/w/{other_workspace.slug}/channels/").status_code == 404  # not a member
    for role in ("staff", "agent", "marketer"):
        client = client_for(workspace, role)
        for method, path, data in (("get", "", None), ("get", "new/line/", None),
                                   ("get", f"{line_account.pk}/", None),
                                   ("post", f"{line_account.pk}/", {"name": "x"}),
                                   ("post", f"{line_account.pk}/active/", {"active": "0"}),
                                   ("get", "events/", None)):
            response = getattr(client, method)(url(workspace, path), data or {})
            assert response.status_code == 403, (role, path)
    theirs.refresh_from_db()
    line_account.refresh_from_db()
    assert theirs.name == "Theirs" and line_account.is_active and line_account.name == "Baan Suan LINE OA"
    assert owner_client.get(url(workspace, "new/listening/")).status_code == 404
    assert owner_client.get(url(workspace, "new/nonsense/")).status_code == 404


def test_the_menu_links_channels_for_admins_only(owner_client, workspace):
    assert 'data-testid="menu-channels"' in owner_client.get(f"/w/{workspace.slug}/").content.decode()
    staff = client_for(workspace, "staff")
    assert 'data-testid="menu-channels"' not in staff.get(f"/w/{workspace.slug}/").content.decode()


def test_email_check_uses_the_real_mailbox_and_shows_its_error(owner_client, workspace, email_account,
                                                               imap_server):
    page = owner_client.get(url(workspace, f"{email_account.pk}/")).content.decode()
    assert 'data-testid="poll-now"' in page and "/webhooks/" not in page
    response = owner_client.post(url(workspace, f"{email_account.pk}/poll/"), follow=True)
    assert "The connection works" in response.content.decode()
    assert ChannelPollState.objects.get(channel_account=email_account).last_success_at is not None
    # A wrong password: the IMAP server refuses, the reason is on the page and in the list.
    owner_client.post(url(workspace, f"{email_account.pk}/"), {
        "name": email_account.name, **email_account.config, "password": "wrong"})
    response = owner_client.post(url(workspace, f"{email_account.pk}/poll/"), follow=True)
    assert "The mailbox could not be read" in response.content.decode()
    assert "refused the login" in owner_client.get(url(workspace)).content.decode()


BAD_BODY = json.dumps({"destination": "U0", "access_token": "leaked-token-value",
                       "events": [{"type": "message", "text": "<script>alert(1)</script>"}]})


@pytest.fixture
def failed_event(workspace, line_account):
    return WebhookEvent.objects.create(workspace=workspace, channel_account=line_account, body=BAD_BODY.encode(),
                                       status=WebhookEvent.Status.FAILED, failure_reason="event 0 has no id")


def test_failed_events_list_shows_a_safe_excerpt(owner_client, workspace, failed_event, line_account):
    page = owner_client.get(url(workspace, "events/")).content.decode()
    assert "event 0 has no id" in page and "Baan Suan LINE OA" in page
    assert "leaked-token-value" not in page and "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'data-testid="failed-count"' in owner_client.get(url(workspace)).content.decode()
    assert owner_client.get(url(workspace, "events/?account=999999")).status_code == 404


def test_retry_one_failed_event_processes_it_again(owner_client, workspace, line_account, run_on_commit):
    event = WebhookEvent.objects.create(
        workspace=workspace, channel_account=line_account, status=WebhookEvent.Status.FAILED,
        failure_reason="the inbox was down",
        body=json.dumps({"destination": "U0", "events": [line_text_event(event_id="ev-r", message_id="m-r",
                                                                         text="retry me")]}).encode())
    with run_on_commit():
        response = owner_client.post(url(workspace, f"events/{event.pk}/retry/"))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED and Message.objects.get().text == "retry me"
    assert AuditEvent.objects.filter(action="webhook.retried").exists()
    # A processed event cannot be retried again: a message, not an error page.
    again = owner_client.post(url(workspace, f"events/{event.pk}/retry/"), follow=True)
    assert again.status_code == 200 and "only failed events can be retried" in again.content.decode()


def test_retry_all_failed_of_one_account(owner_client, workspace, line_account, provider_client, run_on_commit):
    other = channel_account_create(workspace=workspace, provider="line", name="Second OA",
                                   secrets={"channel_secret": "y" * 32, "access_token": "t"})
    for i in range(3):
        WebhookEvent.objects.create(
            workspace=workspace, channel_account=line_account, status=WebhookEvent.Status.FAILED,
            failure_reason="down", body=json.dumps({"destination": "U0", "events": [
                line_text_event(event_id=f"ev-{i}", message_id=f"m-{i}", text=f"msg {i}")]}).encode())
    untouched = WebhookEvent.objects.create(workspace=workspace, channel_account=other, body=b"{}",
                                            status=WebhookEvent.Status.FAILED, failure_reason="bad")
    with run_on_commit():
        owner_client.post(url(workspace, f"{line_account.pk}/retry-failed/"))
    assert Message.objects.count() == 3
    assert not WebhookEvent.objects.filter(channel_account=line_account, status="failed").exists()
    untouched.refresh_from_db()
    assert untouched.status == "failed"
    assert AuditEvent.objects.get(action="webhook.retried_all").changes["events"].__len__() == 3
def test_thai_labels(owner_client, workspace, line_account):
    page = owner_client.get(url(workspace), HTTP_ACCEPT_LANGUAGE="th").content.decode()
    assert "ช่องทาง" in page and "บัญชี LINE Official Account" in page and "เพิ่มช่องทาง" in page




def test_provider_labels_are_translated_everywhere():
    from django.template import Context, Template
    from django.utils import translation

    tpl = Template("{% load channels_ui %}{% for p in ps %}{{ p|provider_label }}|{% endfor %}")
    providers = ["line", "facebook", "email", "sms", "webchat", "fake", "listening", "unknown"]
    with translation.override("th"):
        thai = tpl.render(Context({"ps": providers})).split("|")
    assert thai[:7] == ["บัญชี LINE Official Account", "เพจ Facebook", "อีเมล (IMAP + SMTP)",
                        "SMS (ผ่านเกตเวย์ HTTP)", "แชทบนเว็บไซต์", "ช่องทางทดสอบ", "การรับฟังโซเชียล"]
    assert thai[7] == "unknown"
