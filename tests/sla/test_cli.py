"""`samphan sla sweep` and `samphan sla recompute`."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from samphan.sla.services import sla_policy_create
from tests.sla.conftest import bkk, customer_says

pytestmark = pytest.mark.django_db


def test_sweep_and_recompute_from_the_command_line(workspace, fake_account, office_hours, capsys):
    conv = customer_says(fake_account, bkk(2020, 5, 11, 10, 0))  # long ago: any target is missed by now
    assert conv.sla_policy_id is None
    sla_policy_create(workspace=workspace, name="Standard", first_response_seconds=1800)  # job not run: no commit
    call_command("sla", "recompute", "--workspace", workspace.slug, "--json")
    assert json.loads(capsys.readouterr().out) == {"conversations": 1, "breaches_flagged": 1}
    call_command("sla", "sweep", "--json")
    assert json.loads(capsys.readouterr().out) == {"breaches_flagged": 0}
    conv.refresh_from_db()
    assert conv.first_response_due_at == bkk(2020, 5, 11, 10, 30) and conv.sla_breaches == 1
