"""The brand-voice page: live check partial, particles, banned phrases (managers only)."""

from __future__ import annotations

import pytest
from django.test import Client

from samphan.guard.models import BannedPhrase, GuardSettings, VoicePreference
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(workspace):
    user = MembershipFactory(workspace=workspace, role="agent").user
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_page_for_an_agent_and_a_manager(owner_client, agent_client):
    page = agent_client.get("/w/alpha/guard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="guard-try-text"' in html and 'data-testid="my-particle-form"' in html
    assert 'data-testid="banned-form"' not in html and 'data-testid="default-particle-form"' not in html
    html = owner_client.get("/w/alpha/guard/").content.decode()
    assert 'data-testid="banned-form"' in html and 'data-testid="default-particle-form"' in html
    assert 'data-testid="menu-guard"' in html


def test_live_check_partial(agent_client):
    response = agent_client.post("/w/alpha/guard/check/", {"text": "ก็บอกแล้วไง อ่านไม่ออกเหรอ",
                                                           "target": "#reply-text"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<mark class="guard-mark guard-rude">ก็บอกแล้วไง</mark>' in html
    assert 'data-rule="rude"' in html and 'data-rule="particle"' in html
    assert 'data-guard-use="#reply-text" data-suggestion="ขออนุญาตทบทวนอีกครั้งค่ะ"' in html
    assert "Only a manager can override" in html
    clean = agent_client.post("/w/alpha/guard/check/", {"text": "ได้ค่ะ"}).content.decode()
    assert 'data-testid="guard-ok"' in clean and "guard-findings" not in clean
    assert agent_client.post("/w/alpha/guard/check/", {"text": ""}).content.decode().count("<li") == 0


def test_thai_reasons_in_thai(agent_client):
    agent_client.cookies["django_language"] = "th"
    html = agent_client.post("/w/alpha/guard/check/", {"text": "ส่งพรุ่งนี้นะ"}, HTTP_ACCEPT_LANGUAGE="th").content
    assert "ควรลงท้ายด้วยคำลงท้าย" in html.decode()


def test_particles(owner_client, agent_client, workspace):
    assert agent_client.post("/w/alpha/guard/settings/", {"default_particle": "ครับ"}).status_code == 403
    assert owner_client.post("/w/alpha/guard/settings/", {"default_particle": "ครับ"}).status_code == 302
    assert GuardSettings.objects.get(workspace=workspace).default_particle == "ครับ"
    assert agent_client.post("/w/alpha/guard/me/", {"particle": "ค่ะ"}).status_code == 302
    assert VoicePreference.objects.get(workspace=workspace, user=agent_client.user).particle == "ค่ะ"
    response = agent_client.post("/w/alpha/guard/me/", {"particle": "จ้า"}, follow=True)
    assert "particle must be one of" in response.content.decode()


def test_banned_phrases(owner_client, agent_client, workspace, other_workspace):
    assert agent_client.post("/w/alpha/guard/banned/", {"phrase": "ฟรี"}).status_code == 403
    response = owner_client.post("/w/alpha/guard/banned/", {"phrase": "สตาร์บัคส์", "replacement": "ร้านอื่น",
                                                           "reason": "competitor"}, follow=True)
    assert "สตาร์บัคส์" in response.content.decode()
    phrase = BannedPhrase.objects.get(workspace=workspace)
    html = agent_client.post("/w/alpha/guard/check/", {"text": "ถูกกว่าสตาร์บัคส์ค่ะ"}).content.decode()
    assert "competitor" in html and "ถูกกว่าร้านอื่นค่ะ" in html
    again = owner_client.post("/w/alpha/guard/banned/", {"phrase": "สตาร์บัคส์"}, follow=True)
    assert "already banned" in again.content.decode()
    assert agent_client.post(f"/w/alpha/guard/banned/{phrase.pk}/delete/").status_code == 403
    assert owner_client.post(f"/w/alpha/guard/banned/{phrase.pk}/delete/").status_code == 302
    assert not BannedPhrase.objects.exists()
    MembershipFactory(workspace=other_workspace, role="owner")
    assert owner_client.get("/w/beta/guard/").status_code == 404
