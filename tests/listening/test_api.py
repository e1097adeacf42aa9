"""The API and the CLI: uploads with per-row errors, lists, dashboard figures, scoping and bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from samphan.accounts.services import api_token_create
from samphan.listening.ingest import mentions_ingest
from samphan.listening.models import Mention
from tests.factories import MembershipFactory
from tests.listening.conftest import mention

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CSV = (
    "text,source,external_id,published_at,author_handle,followers,engagement,url\n"
    "Alpha Coffee แย่มาก รอนาน,x,111,2026-03-01 10:00,nok,1200,30,https://x.com/nok/status/111\n"
    ",x,112,2026-03-01 10:00,nok,5,,\n"
    "Alpha Coffee อร่อย,x,113,yesterday,nok,5,,\n"
    "Beta Brew ดีกว่า,pantip.com,t/1,2026-03-01,,many,,\n"
    "\"Alpha Coffee, iced latte\nสองบรรทัด\",x,114,2026-03-01T03:00:00Z,anna,,,ftp://nope\n"
    "Alpha Coffee ชอบมาก,x,115,2026-03-01T03:00:00+07:00,anna,10,2,\n"
)


def _client_for(workspace, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    _, token = api_token_create(user=user, workspace=workspace)
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_upload_keeps_good_rows_and_reports_bad_ones(api, workspace, topics, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/listening/mentions/upload",
                            {"file": SimpleUploadedFile("mentions.csv", CSV.encode(), content_type="text/csv")})
    assert response.status_code == 202
    job = api.get(f"/api/jobs/{response.json()['id']}").json()
    assert job["status"] == "succeeded"
    result = job["result"]
    assert result["created"] == 2 and result["rows_rejected"] == 4
    assert result["errors"] == [
        {"row": 3, "field": "text", "reason": "required: the words of the mention"},
        {"row": 4, "field": "published_at",
         "reason": "not a date and time (ISO 8601, e.g. 2026-03-01 14:30): 'yesterday'"},
        {"row": 5, "field": "followers", "reason": "not a whole number: 'many'"},
        {"row": 7, "field": "url", "reason": "must start with http:// or https://"},  # the quoted row spans lines 6-7
    ]
    kept = Mention.objects.get(external_id="115")
    assert kept.published_at.isoformat() == "2026-02-28T20:00:00+00:00" and kept.connector == "upload"


def test_upload_rejects_unreadable_files_whole(api, workspace, django_capture_on_commit_callbacks):
    bad = api.post("/api/listening/mentions/upload", {"file": SimpleUploadedFile("a.pdf", b"%PDF")})
    assert bad.status_code == 422 and "csv" in bad.json()["message"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/listening/mentions/upload",
                            {"file": SimpleUploadedFile("m.csv", b"title,url\nx,y\n")})
    assert response.status_code == 202  # the file is read by the job
    job = api.get(f"/api/jobs/{response.json()['id']}").json()
    assert job["status"] == "failed" and 'needs a "text" column' in job["message"]
    with django_capture_on_commit_callbacks(execute=True):
        latin1 = api.post("/api/listening/mentions/upload",
                          {"file": SimpleUploadedFile("m.csv", "text\ncafé".encode("latin-1"))})
    assert "not UTF-8" in api.get(f"/api/jobs/{latin1.json()['id']}").json()["message"]


def test_post_json_mentions_and_list_them_worst_first(api, workspace, topics):
    response = api.post("/api/listening/mentions", {"mentions": [
        {"text": "Alpha Coffee แย่มาก พนักงานไม่สนใจ", "source": "x", "external_id": "1", "followers": 90000},
        {"text": "Alpha Coffee แย่", "source": "x", "external_id": "2", "followers": 3},
        {"text": "Alpha Coffee is lovely", "source": "x", "external_id": "3"},
        {"source": "x", "external_id": "4"},
        {"text": "x", "engagement": -1},
    ]}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 3 and body["rows_rejected"] == 2
    assert body["errors"][1] == {"row": 5, "field": "engagement", "reason": "cannot be negative"}
    page = api.get("/api/listening/mentions", {"status": "new", "limit": 2}).json()
    assert [m["external_id"] for m in page["items"]] == ["1", "2"]
    rest = api.get("/api/listening/mentions", {"status": "new", "limit": 2, "cursor": page["next_cursor"]}).json()
    assert [m["external_id"] for m in rest["items"]] == ["3"] and rest["next_cursor"] is None
    first = page["items"][0]
    assert first["topics"][0]["name"] == "Alpha Coffee" and set(first["scores"]) == {
        "positive", "neutral", "negative", "question"}
    assert api.get("/api/listening/mentions", {"cursor": "garbage!"}).status_code == 422
    assert api.get("/api/listening/mentions", {"order": "random"}).status_code == 422


def test_dashboard_endpoints(api, workspace, topics):
    now = timezone.now()
    mentions_ingest(workspace=workspace, connector="x", items=[
        mention("Alpha Coffee อร่อยมาก ชอบ", n=1, published_at=now - timedelta(hours=2), author_id="a", reach=500),
        mention("Alpha Coffee แย่มาก", n=2, published_at=now - timedelta(days=1), author_id="b", reach=90),
        mention("Beta Brew อร่อยมาก ชอบ", n=3, published_at=now - timedelta(days=2), author_id="c", reach=10),
        mention("Beta Brew ชอบมาก อร่อย", n=4, published_at=now - timedelta(days=2), author_id="c", reach=10),
        mention("Alpha Coffee", n=5, published_at=now - timedelta(days=60), author_id="d", reach=10**6),
    ])
    sov = {r["name"]: r for r in api.get("/api/listening/dashboard/share-of-voice", {"days": 7}).json()}
    assert sov["Alpha Coffee"]["mentions"] == 2 and sov["Beta Brew"]["mentions"] == 2
    assert sov["Alpha Coffee"]["share_of_voice"] == 0.5
    assert sov["Alpha Coffee"]["heart_share"] == pytest.approx(1 / 3, abs=0.001)
    assert sov["Beta Brew"]["heart_share"] == pytest.approx(2 / 3, abs=0.001)
    volume = api.get("/api/listening/dashboard/volume", {"days": 7}).json()
    assert volume["bucket"] == "day" and len(volume["buckets"]) in (7, 8)
    assert sum(volume["positive"]) == 3 and sum(volume["negative"]) == 1
    authors = api.get("/api/listening/dashboard/top-authors", {"days": 7}).json()
    assert [a["reach"] for a in authors] == [500, 90, 10]  # d's million followers posted 60 days ago
    assert authors[2]["mentions"] == 2
    per_topic = api.get("/api/listening/dashboard/top-authors",
                        {"days": 7, "topic": topics["competitor"].pk}).json()
    assert [a["author_id"] for a in per_topic] == [authors[2]["author_id"]]
    assert api.get("/api/listening/dashboard/volume", {"days": 0}).status_code == 422


def test_roles_and_workspace_scoping(api, workspace, other_workspace, topics):
    mentions_ingest(workspace=workspace, connector="x", items=[mention("Alpha Coffee แย่", n=1)])
    mine = Mention.objects.get()
    theirs_client = _client_for(other_workspace, "owner")
    assert theirs_client.get(f"/api/listening/mentions/{mine.pk}").status_code == 404
    assert theirs_client.post(f"/api/listening/mentions/{mine.pk}/label", {"label": "positive"},
                              content_type="application/json").status_code == 404
    assert theirs_client.get("/api/listening/mentions").json()["items"] == []
    assert theirs_client.get("/api/listening/dashboard/top-authors", {"topic": topics["brand"].pk}).status_code == 404
    staff = _client_for(workspace, "staff")
    assert staff.get("/api/listening/mentions").status_code == 403
    agent = _client_for(workspace, "agent")
    assert agent.get("/api/listening/mentions").status_code == 200
    assert agent.post("/api/listening/topics", {"name": "x", "include_terms": ["x"]},
                      content_type="application/json").status_code == 403
    conversation = agent.post(f"/api/listening/mentions/{mine.pk}/conversation")
    assert conversation.status_code == 200 and conversation.json()["conversation_id"]


def test_topics_api_and_bad_input(api, workspace):
    created = api.post("/api/listening/topics", {"name": "Samphan", "kind": "brand",
                                                 "include_terms": ["Samphan", "สัมพันธ์", "#samphan"],
                                                 "exclude_terms": ["ความสัมพันธ์"]},
                       content_type="application/json")
    assert created.status_code == 201
    topic_id = created.json()["id"]
    assert api.post("/api/listening/topics", {"name": "Samphan", "include_terms": ["x"]},
                    content_type="application/json").status_code == 409
    bad = api.post("/api/listening/topics", {"name": "Bad", "include_terms": ["ok", "# no"]},
                   content_type="application/json")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "include_terms[1]"
    assert api.post("/api/listening/topics", {"name": "K", "kind": "enemy", "include_terms": ["x"]},
                    content_type="application/json").status_code == 422
    assert api.post("/api/listening/topics", {"name": "E", "include_terms": []},
                    content_type="application/json").status_code == 422
    patched = api.patch(f"/api/listening/topics/{topic_id}", {"is_active": False}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert api.post("/api/listening/sources", {"kind": "rss", "name": "F", "url": "file:///etc/passwd"},
                    content_type="application/json").status_code == 422
    token_source = api.post("/api/listening/sources", {"kind": "x", "name": "X", "query": "samphan",
                                                       "bearer_token": "secret-token"},
                            content_type="application/json")
    assert token_source.status_code == 201 and "secret-token" not in token_source.content.decode()
    assert token_source.json()["has_token"] is True
    assert api.delete(f"/api/listening/topics/{topic_id}").status_code == 204


def test_cli_import_topics_and_mentions(workspace, topics, tmp_path):
    path = tmp_path / "mentions.csv"
    path.write_text(CSV, encoding="utf-8")
    out = StringIO()
    call_command("listening", "import", str(path), "--workspace", workspace.slug, "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["created"] == 2 and [e["row"] for e in report["errors"]] == [3, 4, 5, 7]
    out = StringIO()
    call_command("listening", "import", str(FIXTURES / "x" / "recent_search.json"), "--workspace", workspace.slug,
                 stdout=out)
    assert "created 3" in out.getvalue() and "row 4: text: missing or empty" in out.getvalue()
    out = StringIO()
    call_command("listening", "mentions", "--workspace", workspace.slug, "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows[0]["priority"] >= rows[-1]["priority"] and len(rows) == 5
    out = StringIO()
    call_command("listening", "topics", "--workspace", workspace.slug, "--json", stdout=out)
    assert {t["name"]: t["mentions"] for t in json.loads(out.getvalue())}["Alpha Coffee"] >= 3
    with pytest.raises(CommandError, match="no such file"):
        call_command("listening", "import", str(tmp_path / "nope.csv"), "--workspace", workspace.slug)
    bad = tmp_path / "bad.csv"
    bad.write_text("title\nx\n")
    with pytest.raises(CommandError, match="header needs a"):
        call_command("listening", "import", str(bad), "--workspace", workspace.slug)


def test_cli_fetch_x(workspace, httpserver, settings, monkeypatch):
    settings.SAMPHAN_X_API_BASE = httpserver.url_for("/2")
    monkeypatch.setenv("SAMPHAN_X_BEARER_TOKEN", "tok")
    httpserver.expect_request("/2/tweets/search/recent", headers={"Authorization": "Bearer tok"}).respond_with_json(
        json.loads((FIXTURES / "x" / "recent_search.json").read_text(encoding="utf-8")))
    out = StringIO()
    call_command("listening", "fetch-x", "--workspace", workspace.slug, "--query", "alpha", "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] == 3
