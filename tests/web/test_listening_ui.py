"""The listening pages: dashboard with its charts, mentions worst first with their actions, setup and uploads."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from samphan.inbox.models import Conversation
from samphan.listening.ingest import mentions_ingest
from samphan.listening.models import Mention, Topic
from samphan.listening.services import topic_create
from tests.factories import MembershipFactory
from tests.listening.conftest import mention


def _data(workspace):
    for name, kind, terms in (("Alpha Coffee", "brand", ["Alpha Coffee", "อัลฟ่า"]),
                              ("Beta Brew", "competitor", ["Beta Brew"])):
        topic_create(workspace=workspace, name=name, kind=kind, include_terms=terms, rematch=False)
    now = timezone.now()
    mentions_ingest(workspace=workspace, connector="x", items=[
        mention("Alpha Coffee แย่มาก รอนาน พนักงานไม่สนใจ", n=1, author_handle="foodiebkk", author_id="9",
                reach=250000, published_at=now - timedelta(hours=3), url="https://x.com/foodiebkk/status/1"),
        mention("Alpha Coffee อร่อยมาก ชอบ", n=2, published_at=now - timedelta(days=2), author_name="Nok"),
        mention("Beta Brew ก็โอเค", n=3, published_at=now - timedelta(days=3)),
    ])


def test_dashboard_shows_volume_share_of_voice_authors_and_the_worst_first(owner_client, workspace):
    _data(workspace)
    page = owner_client.get(f"/w/{workspace.slug}/listening/")
    assert page.status_code == 200
    html = page.content.decode()
    for testid in ("kpi-mentions", "volume", "share-of-voice", "top-authors", "priority", "topics"):
        assert f'data-testid="{testid}"' in html
    assert "<svg class=\"chart\"" in html and "seg-negative" in html  # inline SVG, no chart library
    assert "@foodiebkk" in html and "250,000" in html
    assert html.index('data-testid="mention-row"') > 0
    hour = owner_client.get(f"/w/{workspace.slug}/listening/", {"days": 1,
                                                                "topic": Topic.objects.get(name="Beta Brew").pk})
    assert hour.status_code == 200 and "Beta Brew" in hour.content.decode()
    assert owner_client.get(f"/w/{workspace.slug}/listening/", {"days": "x", "topic": "999999"}).status_code == 404


def test_dashboard_in_thai(owner_client, workspace):
    _data(workspace)
    owner_client.cookies["django_language"] = "th"
    html = owner_client.get(f"/w/{workspace.slug}/listening/").content.decode()
    assert "ส่วนแบ่งการพูดถึง" in html and "ส่วนแบ่งใจ" in html


def test_mentions_actions_by_htmx(owner_client, workspace):
    _data(workspace)
    worst = Mention.objects.get(external_id="m1")
    page = owner_client.get(f"/w/{workspace.slug}/listening/mentions/")
    assert page.status_code == 200 and page.content.decode().count('data-testid="mention-row"') == 3
    headers = {"HX-Request": "true"}
    row = owner_client.post(f"/w/{workspace.slug}/listening/mentions/{worst.pk}/label/", {"label": "neutral"},
                            headers=headers)
    assert row.status_code == 200 and 'data-label="neutral"' in row.content.decode()
    bad = owner_client.post(f"/w/{workspace.slug}/listening/mentions/{worst.pk}/label/", {"label": "angry"},
                            headers=headers)
    assert bad.status_code == 200 and "label must be one of" in bad.content.decode()
    converted = owner_client.post(f"/w/{workspace.slug}/listening/mentions/{worst.pk}/conversation/", headers=headers)
    assert 'data-testid="conversation-badge"' in converted.content.decode()
    assert Conversation.objects.filter(customer__isnull=False).count() == 1
    dismissed = owner_client.post(f"/w/{workspace.slug}/listening/mentions/{Mention.objects.get(external_id='m3').pk}"
                                  "/status/", {"status": "dismissed"}, headers=headers)
    assert "Dismissed" in dismissed.content.decode()
    newest = owner_client.get(f"/w/{workspace.slug}/listening/mentions/", {"status": "all", "order": "newest"})
    assert newest.content.decode().count('data-testid="mention-row"') == 3
    assert "not valid" in owner_client.get(f"/w/{workspace.slug}/listening/mentions/",
                                           {"cursor": "@@"}).content.decode()


def test_setup_topics_sources_and_upload(owner_client, workspace, django_capture_on_commit_callbacks):
    url = f"/w/{workspace.slug}/listening/"
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(url + "topics/", {"name": "Alpha", "kind": "brand",
                                            "include_terms": "Alpha Coffee\nอัลฟ่า\n#AlphaSummer"})
    assert Topic.objects.get(name="Alpha").include_terms == ["Alpha Coffee", "อัลฟ่า", "#AlphaSummer"]
    response = owner_client.post(url + "topics/", {"name": "Bad", "kind": "brand", "include_terms": "#two words"},
                                 follow=True)
    assert "include_terms[0]" in response.content.decode() and not Topic.objects.filter(name="Bad").exists()
    owner_client.post(url + "sources/", {"kind": "rss", "name": "Pantip", "url": "https://pantip.com/feed",
                                         "interval_minutes": "30"})
    bad_source = owner_client.post(url + "sources/", {"kind": "rss", "name": "Nope", "url": "ftp://x"}, follow=True)
    assert "url: an http://" in bad_source.content.decode()
    csv = "text,source,external_id,followers\nAlpha Coffee แย่,x,1,10\n,x,2,\nอัลฟ่า อร่อย,x,3,lots\n"
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = owner_client.post(url + "upload/", {"file": SimpleUploadedFile("m.csv", csv.encode())})
    assert uploaded.status_code == 302
    html = owner_client.get(uploaded["Location"]).content.decode()
    assert 'data-testid="upload-errors"' in html and "not a whole number" in html and "required" in html
    assert Mention.objects.count() == 1
    setup = owner_client.get(url + "setup/").content.decode()
    assert "Pantip" in setup and "Alpha Coffee" in setup


def test_roles_and_other_workspaces(workspace, other_workspace, owner_client):
    _data(workspace)
    staff = Client()
    staff.force_login(MembershipFactory(workspace=workspace, role="staff").user)
    assert staff.get(f"/w/{workspace.slug}/listening/").status_code == 403
    agent = Client()
    agent.force_login(MembershipFactory(workspace=workspace, role="agent").user)
    assert agent.get(f"/w/{workspace.slug}/listening/").status_code == 200
    assert agent.get(f"/w/{workspace.slug}/listening/setup/").status_code == 403
    outsider = Client()
    outsider.force_login(MembershipFactory(workspace=other_workspace, role="owner").user)
    mine = Mention.objects.first()
    assert outsider.get(f"/w/{workspace.slug}/listening/").status_code == 404
    assert outsider.post(f"/w/{other_workspace.slug}/listening/mentions/{mine.pk}/label/",
                         {"label": "positive"}).status_code == 404
