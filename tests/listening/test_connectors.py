"""Connectors against real HTTP peers (pytest-httpserver) and the real Facebook webhook endpoint."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from werkzeug import Response

from samphan.listening.connectors import FetchFailed
from samphan.listening.connectors.rss import fetch_feed, parse_feed
from samphan.listening.connectors.scheduler import fetch_due_sources
from samphan.listening.connectors.x import parse_saved, search_recent
from samphan.listening.models import Mention, Source
from samphan.listening.services import source_create
from tests.factories import CustomerFactory, IdentityFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
X_RESULTS = json.loads((FIXTURES / "x" / "recent_search.json").read_text(encoding="utf-8"))
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest-bearer"


@pytest.fixture
def x_api(httpserver, settings):
    settings.SAMPHAN_X_API_BASE = httpserver.url_for("/2")
    return httpserver


# --- X ---------------------------------------------------------------------------------------------


def test_x_saved_results_are_read_with_authors_and_reach():
    items, errors = parse_saved(json.dumps(X_RESULTS).encode())
    assert [i.external_id for i in items] == ["1798000000000000001", "1798000000000000002", "1798000000000000003"]
    assert errors == [{"row": 4, "field": "text", "reason": "missing or empty"}]
    first = items[0]
    assert (first.author_handle, first.reach, first.engagement) == ("foodiebkk", 250_000, 977)
    assert first.url == "https://x.com/foodiebkk/status/1798000000000000001"
    assert ("x_handle", "foodiebkk") in first.identities and first.published_at.hour == 9


def test_x_search_calls_the_recent_search_endpoint_and_follows_pages(x_api):
    page2 = {"data": [{"id": "1798000000000000009", "text": "Alpha Coffee หอมมาก", "author_id": "783214",
                       "created_at": "2026-03-01T09:40:00Z"}],
             "includes": {"users": [{"id": "783214", "username": "anna_drinks",
                                     "public_metrics": {"followers_count": 801}}]},
             "meta": {"result_count": 1, "newest_id": "1798000000000000009"}}
    first = {**X_RESULTS, "meta": {**X_RESULTS["meta"], "next_token": "b26v89c19zqg8o3f"}}
    x_api.expect_ordered_request(
        "/2/tweets/search/recent", method="GET", headers={"Authorization": f"Bearer {TOKEN}"},
        query_string={"query": "Alpha Coffee -is:retweet", "max_results": "100",
                      "tweet.fields": "created_at,lang,public_metrics,author_id,conversation_id",
                      "expansions": "author_id", "user.fields": "username,name,public_metrics",
                      "since_id": "1797"}).respond_with_json(first)
    x_api.expect_ordered_request("/2/tweets/search/recent", method="GET").respond_with_json(page2)
    items, errors, newest = search_recent(query="Alpha Coffee -is:retweet", bearer_token=TOKEN, since_id="1797")
    assert len(items) == 4 and len(errors) == 1
    assert newest == "1798000000000000009"
    second = x_api.log[1][0]
    assert second.args["next_token"] == "b26v89c19zqg8o3f"
    x_api.check_assertions()


@pytest.mark.parametrize(("status", "body", "headers", "reason"), [
    (401, {"title": "Unauthorized", "detail": "Unauthorized"}, {}, "X refused the token (HTTP 401)"),
    (429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "1772355600"}, "X's rate limit was reached"),
    (400, {"errors": [{"message": "Invalid query"}]}, {}, "X rejected the query (HTTP 400): Invalid query"),
    (503, {}, {}, "X answered HTTP 503"),
])
def test_x_errors_are_said_plainly(x_api, status, body, headers, reason):
    x_api.expect_request("/2/tweets/search/recent").respond_with_json(body, status=status, headers=headers)
    with pytest.raises(FetchFailed) as exc:
        search_recent(query="alpha", bearer_token=TOKEN)
    assert reason in exc.value.message and TOKEN not in exc.value.message


def test_x_source_on_schedule_ingests_and_remembers_since_id(x_api, workspace, topics):
    source = source_create(workspace=workspace, kind="x", name="Brand on X", query="Alpha Coffee",
                           bearer_token=TOKEN)
    assert TOKEN not in source.secrets_ciphertext  # encrypted at rest
    x_api.expect_request("/2/tweets/search/recent").respond_with_json(X_RESULTS)
    outcome = fetch_due_sources()
    assert outcome["created"] == 3 and outcome["failed"] == 0
    source.refresh_from_db()
    assert source.cursor == "1798000000000000004" and source.last_count == 3 and not source.last_error
    assert source.next_fetch_at > timezone.now()
    assert fetch_due_sources()["sources"] == 0  # not due again yet
    mention = Mention.objects.get(external_id="1798000000000000001")
    assert mention.connector == "x" and mention.feed_id == source.pk and mention.reach == 250_000
    assert set(mention.topics.values_list("name", flat=True)) == {"Alpha Coffee", "Summer"}


def test_a_failing_source_keeps_its_reason_and_is_retried_later(x_api, workspace):
    source = source_create(workspace=workspace, kind="x", name="Brand", query="alpha", bearer_token=TOKEN)
    x_api.expect_request("/2/tweets/search/recent").respond_with_json({"title": "Unauthorized"}, status=401)
    assert fetch_due_sources()["failed"] == 1
    source.refresh_from_db()
    assert source.last_error.startswith("X refused the token") and source.is_active


# --- RSS / Atom ----------------------------------------------------------------------------------


def test_rss_and_atom_entries_become_mentions():
    items, errors, info = parse_feed((FIXTURES / "rss" / "pantip.xml").read_bytes(),
                                     feed_url="https://pantip.com/forum/food/feed")
    assert info["site"] == "pantip.com" and len(items) == 2
    assert errors == [{"row": 3, "field": "title", "reason": "the entry has neither a title nor any text"}]
    review = items[0]
    assert review.source == "pantip.com" and review.external_id == "https://pantip.com/topic/42000001"
    assert review.text == "รีวิว Alpha Coffee สาขาใหม่ กาแฟหอมมาก\nวันนี้ไปลอง ลาเต้เย็น อร่อยมาก บรรยากาศดี"
    assert review.identities == [("email", "nok@example.com")]
    assert review.published_at.isoformat() == "2026-03-01T01:00:00+00:00"
    atom, _, _ = parse_feed((FIXTURES / "rss" / "news.atom").read_bytes())
    assert atom[0].source == "news.example.co.th" and atom[0].author_name == "Reporter One"


def test_rss_source_fetches_conditionally_and_links_customers(httpserver, workspace, topics):
    customer = CustomerFactory(workspace=workspace)
    IdentityFactory(workspace=workspace, customer=customer, kind="email", value="nok@example.com")
    body = (FIXTURES / "rss" / "pantip.xml").read_bytes()
    httpserver.expect_ordered_request("/feed.xml").respond_with_response(
        Response(body, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"}))
    httpserver.expect_ordered_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_response(
        Response(status=304))
    source = source_create(workspace=workspace, kind="rss", name="Pantip food", url=httpserver.url_for("/feed.xml"))
    assert fetch_due_sources()["created"] == 2
    review = Mention.objects.get(external_id="https://pantip.com/topic/42000001")
    assert review.customer == customer and review.connector == "rss"
    assert set(review.topics.values_list("name", flat=True)) == {"Alpha Coffee", "Iced latte"}
    Source.objects.filter(pk=source.pk).update(next_fetch_at=timezone.now() - timedelta(seconds=1))
    assert fetch_due_sources()["created"] == 0  # 304 Not Modified
    httpserver.check_assertions()


def test_not_a_feed_is_a_clear_failure(httpserver):
    httpserver.expect_request("/feed").respond_with_data("<html><body>hello</body", content_type="text/html")
    body, _, _ = fetch_feed(url=httpserver.url_for("/feed"))
    with pytest.raises(FetchFailed, match="not an RSS or Atom feed"):
        parse_feed(body)
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetch_feed(url=httpserver.url_for("/gone"))


# --- Facebook page feed (through the real webhook endpoint) -----------------------------------------


@pytest.fixture
def facebook_account(workspace):
    from samphan.channels.services import channel_account_create
    from tests.channels.helpers import FB_APP_SECRET, FB_PAGE_ID, FB_PAGE_TOKEN, FB_VERIFY_TOKEN

    return channel_account_create(workspace=workspace, provider="facebook", name="Page",
                                  secrets={"app_secret": FB_APP_SECRET, "page_access_token": FB_PAGE_TOKEN,
                                           "verify_token": FB_VERIFY_TOKEN}, config={"page_id": FB_PAGE_ID})


def _post(client, account, data):
    from tests.channels.helpers import FB_APP_SECRET, as_body, facebook_signature

    body = as_body(data)
    return client.post(f"/webhooks/facebook/{account.uuid}", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": facebook_signature(FB_APP_SECRET, body)})


def test_facebook_feed_posts_and_comments_become_mentions(client, facebook_account, topics,
                                                          django_capture_on_commit_callbacks):
    from samphan.channels.views import forget_cached_accounts
    from samphan.inbox.models import Message
    from tests.channels.helpers import fixture

    forget_cached_accounts()
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, facebook_account, fixture("facebook", "feed_comment")).status_code == 200
        assert _post(client, facebook_account, fixture("facebook", "feed_post")).status_code == 200
        assert _post(client, facebook_account, fixture("facebook", "feed_post")).status_code == 200  # again
    mentions = {m.external_id: m for m in Mention.objects.all()}
    assert set(mentions) == {"881234567890123_1122334455667788", "104729375231234_990011223344556"}
    comment = mentions["881234567890123_1122334455667788"]
    assert comment.connector == "facebook" and comment.label == "question"
    # the inbox made the commenter a customer in the same batch; the mention is linked to them
    assert comment.customer is not None and comment.customer.display_name == "Napat Srisuk"
    post = mentions["104729375231234_990011223344556"]
    assert post.label == "negative" and post.author_name == "Wichai Boonmee"
    assert post.meta["channel_account_id"] == facebook_account.pk
    # the inbox still takes only the comment (posts are listening's); the Page's own post is nobody's
    assert Message.objects.filter(kind="comment").count() == 1 and Message.objects.count() == 1


def test_feed_post_parse():
    from samphan.channels.adapters.facebook import FacebookAdapter
    from tests.channels.helpers import FB_PAGE_ID, as_body, fixture

    class Account:
        config = {"page_id": FB_PAGE_ID}
        secrets: dict = {}

    events = FacebookAdapter(Account()).parse(as_body(fixture("facebook", "feed_post")))
    assert [(e.kind, e.external_id) for e in events] == [("post", "104729375231234_990011223344556")]
    assert not events[0].is_message


def test_a_json_line_that_is_not_json_decoding_says_why_instead_of_crashing():
    # json.loads raises a plain ValueError, without the .msg of JSONDecodeError, for an integer
    # longer than Python's int digit limit; reading .msg of it raised AttributeError (a 500 / failed job).
    from samphan.listening.connectors.upload import parse_upload

    huge = b"9" * 5000
    items, errors = parse_upload(b'{"text": "Alpha Coffee"}\n' + huge + b"\n{oops\n", name="m.jsonl")
    assert [i.text for i in items] == ["Alpha Coffee"]
    assert [e["row"] for e in errors] == [2, 3]
    assert "Exceeds the limit" in errors[0]["reason"] and errors[1]["reason"].startswith("not JSON: Expecting")
    with pytest.raises(FetchFailed, match=r"line 2: not JSON \(Exceeds the limit"):
        parse_saved(b'{"data": []}\n' + huge + b"\n")
