from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests.channels.helpers import fixture, post_line

pytestmark = pytest.mark.django_db


def test_inbox_list_json(workspace, line_account, provider_client, run_on_commit):
    with run_on_commit():
        post_line(provider_client, line_account, fixture("line", "message_text"))
    out = io.StringIO()
    call_command("inbox", "list", "--workspace", "alpha", "--json", stdout=out)
    [row] = json.loads(out.getvalue())
    assert row["status"] == "open" and row["message_count"] == 1
    assert row["channel"]["provider"] == "line" and row["channel"]["name"] == "Baan Suan LINE OA"
    assert row["customer"]["id"] and row["last_message_preview"].startswith("สวัสดีค่ะ")
