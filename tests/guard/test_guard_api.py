"""The guard's API: live check, banned phrases, particle settings; and the settings' effect on checks."""

from __future__ import annotations

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.core.models import AuditEvent
from samphan.guard import services
from samphan.guard.models import BannedPhrase
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _client(user, workspace):
    _, raw = api_token_create(user=user, workspace=workspace)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def agent(workspace):
    return MembershipFactory(workspace=workspace, role="agent").user


def test_check_returns_findings_reasons_and_suggestion(api, agent, workspace):
    response = api.post("/api/guard/check", data={"text": "ก็บอกแล้วไง อ่านไม่ออกเหรอ"},
                        content_type="application/json", HTTP_ACCEPT_LANGUAGE="th")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["rules"] == ["rude", "particle"]
    rude = body["findings"][0]
    assert rude["rule"] == "rude" and rude["text"] == "ก็บอกแล้วไง" and rude["span"] == {"start": 0, "end": 11}
    assert rude["reasons"]["th"] != rude["reasons"]["en"]
    assert body["suggestion"] == "ขออนุญาตทบทวนอีกครั้งค่ะ"
    assert body["can_override"] is True  # the owner
    as_agent = _client(agent, workspace).post("/api/guard/check", data={"text": "ได้ค่ะ"},
                                               content_type="application/json").json()
    assert as_agent == {"ok": True, "rules": [], "findings": [], "suggestion": None, "can_override": False}


def test_check_rejects_a_huge_text(api):
    response = api.post("/api/guard/check", data={"text": "ก" * 5001}, content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_banned_phrases_are_managed_by_managers_and_used_by_checks(api, agent, workspace, other_workspace):
    agent_api = _client(agent, workspace)
    assert agent_api.post("/api/guard/banned-phrases", data={"phrase": "ฟรี"},
                          content_type="application/json").status_code == 403
    created = api.post("/api/guard/banned-phrases",
                       data={"phrase": "  สตาร์บัคส์ ", "replacement": "ร้านอื่น", "reason": "competitor"},
                       content_type="application/json")
    assert created.status_code == 201 and created.json()["phrase"] == "สตาร์บัคส์"
    again = api.post("/api/guard/banned-phrases", data={"phrase": "สตาร์บัคส์"}, content_type="application/json")
    assert again.status_code == 409
    bad = api.post("/api/guard/banned-phrases", data={"phrase": "x", "replacement": "fuck"},
                   content_type="application/json")
    assert bad.status_code == 422 and "profanity" in bad.json()["message"]
    assert [p["phrase"] for p in agent_api.get("/api/guard/banned-phrases").json()] == ["สตาร์บัคส์"]

    body = agent_api.post("/api/guard/check", data={"text": "ถูกกว่าสตาร์บัคส์ค่ะ"},
                          content_type="application/json").json()
    assert body["rules"] == ["banned"] and body["suggestion"] == "ถูกกว่าร้านอื่นค่ะ"
    assert "competitor" in body["findings"][0]["reasons"]["en"]
    # Another workspace's bans do not apply here, and its phrases cannot be deleted from here.
    other = services.banned_phrase_add(workspace=other_workspace, phrase="กาแฟ")
    assert api.post("/api/guard/check", data={"text": "กาแฟค่ะ"}, content_type="application/json").json()["ok"]
    assert api.delete(f"/api/guard/banned-phrases/{other.pk}").status_code == 404

    phrase_id = created.json()["id"]
    assert api.delete(f"/api/guard/banned-phrases/{phrase_id}").status_code == 204
    assert not BannedPhrase.objects.filter(pk=phrase_id).exists()
    actions = list(AuditEvent.objects.filter(workspace=workspace, action__startswith="guard.")
                   .values_list("action", flat=True))
    assert sorted(actions) == ["guard.phrase_banned", "guard.phrase_unbanned"]


def test_particles_workspace_default_and_agent_preference(api, agent, workspace):
    agent_api = _client(agent, workspace)

    def suggestion(client):
        return client.post("/api/guard/check", data={"text": "ส่งพรุ่งนี้"},
                           content_type="application/json").json()["suggestion"]

    assert suggestion(agent_api) == "ส่งพรุ่งนี้ค่ะ"  # the built-in default
    assert agent_api.put("/api/guard/settings", data={"default_particle": "ครับ"},
                         content_type="application/json").status_code == 403
    response = api.put("/api/guard/settings", data={"default_particle": "ครับ"}, content_type="application/json")
    assert response.json() == {"default_particle": "ครับ", "my_particle": ""}
    assert suggestion(agent_api) == "ส่งพรุ่งนี้ครับ"
    mine = agent_api.put("/api/guard/me", data={"particle": "ค่ะ"}, content_type="application/json")
    assert mine.json() == {"default_particle": "ครับ", "my_particle": "ค่ะ"}
    assert suggestion(agent_api) == "ส่งพรุ่งนี้ค่ะ"
    assert suggestion(api) == "ส่งพรุ่งนี้ครับ"  # the owner has no preference of their own
    assert agent_api.put("/api/guard/me", data={"particle": "จ้ะ"},
                         content_type="application/json").status_code == 422
    assert agent_api.put("/api/guard/me", data={"particle": ""}, content_type="application/json").json()[
        "my_particle"] == ""
    assert AuditEvent.objects.filter(workspace=workspace, action="guard.settings_changed").count() == 1


def test_without_a_preference_the_text_decides(workspace, agent):
    result = services.check(text="สวัสดีครับ เดี๋ยวทางร้านส่งให้", workspace=workspace, author=agent)
    assert result.suggestion == "สวัสดีครับ เดี๋ยวทางร้านส่งให้ครับ"
