from __future__ import annotations

import pytest
from django.test import Client

from samphan.channels.adapters import fake
from samphan.channels.services import channel_account_create
from tests.channels.helpers import (
    FB_APP_SECRET,
    FB_PAGE_ID,
    FB_PAGE_TOKEN,
    FB_VERIFY_TOKEN,
    LINE_SECRET,
    LINE_TOKEN,
)


@pytest.fixture(autouse=True)
def _clean_fake_outbox():
    from samphan.channels.views import forget_cached_accounts

    forget_cached_accounts()
    fake.OUTBOX.clear()
    fake.ATTEMPTS.clear()
    yield
    fake.OUTBOX.clear()
    fake.ATTEMPTS.clear()


@pytest.fixture
def line_account(workspace):
    return channel_account_create(workspace=workspace, provider="line", name="Baan Suan LINE OA",
                                  secrets={"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN})


@pytest.fixture
def facebook_account(workspace):
    return channel_account_create(workspace=workspace, provider="facebook", name="Baan Suan Page",
                                  secrets={"app_secret": FB_APP_SECRET, "page_access_token": FB_PAGE_TOKEN,
                                           "verify_token": FB_VERIFY_TOKEN},
                                  config={"page_id": FB_PAGE_ID})


@pytest.fixture
def fake_account(workspace):
    return channel_account_create(workspace=workspace, provider="fake", name="Test channel",
                                  secrets={"signing_secret": "fake-secret"})


@pytest.fixture
def provider_client() -> Client:
    """What LINE / Facebook are to us: an anonymous HTTP client, CSRF enforced like in production."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit callbacks (the webhook's processing task, the outbound send) like a real commit would."""
    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


@pytest.fixture
def webchat_account(workspace):
    return channel_account_create(workspace=workspace, provider="webchat", name="Baan Suan website",
                                  secrets={}, config={"allowed_origins": ["https://shop.example"],
                                                      "title_th": "แชทกับบ้านสวน", "title_en": "Chat with Baan Suan",
                                                      "color": "#7c2d12"})


# --- e-mail: real IMAP (pymap) and SMTP (aiosmtpd) servers on 127.0.0.1 -------------------


@pytest.fixture(scope="session")
def imap_server(tmp_path_factory):
    from tests.channels.mailservers import start_imap

    server = start_imap(tmp_path_factory.mktemp("imap"))
    yield server
    server.stop()


@pytest.fixture
def smtp_server():
    from tests.channels.mailservers import start_smtp

    server = start_smtp()
    yield server
    server.stop()


@pytest.fixture
def email_account(workspace, imap_server, smtp_server):
    from tests.channels.mailservers import IMAP_PASSWORD, IMAP_USER, SMTP_PASSWORD, SMTP_USER

    return channel_account_create(
        workspace=workspace, provider="email", name="Baan Suan mail",
        secrets={"password": IMAP_PASSWORD, "smtp_password": SMTP_PASSWORD},
        config={"imap_host": imap_server.host, "imap_port": imap_server.port, "imap_security": "plain",
                "imap_mailbox": imap_server.new_mailbox(), "smtp_host": smtp_server.host,
                "smtp_port": smtp_server.port, "smtp_security": "plain", "username": IMAP_USER,
                "smtp_username": SMTP_USER, "from_name": "บ้านสวนคอฟฟี่"})
