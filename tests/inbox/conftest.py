# The inbox's tests use the channels' fixtures (accounts, provider client, on-commit runner).
from tests.channels.conftest import (  # noqa: F401
    _clean_fake_outbox,
    email_account,
    facebook_account,
    fake_account,
    imap_server,
    line_account,
    provider_client,
    run_on_commit,
    smtp_server,
    webchat_account,
)
