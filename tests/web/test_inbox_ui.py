"""The inbox pages: the list and its filters, a conversation with the customer 360, replies (the
guard's 422 keeps the draft; a manager's override is audited), notes with @mentions, labels,
assignment, status, sentiment corrections, canned replies, the live poll and workspace scoping."""

from __future__ import annotations

import hashlib
from itertools import count

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from samphan.channels.adapters import fake
from samphan.channels.adapters.base import InboundEvent, SenderIdentity
from samphan.channels.models import OutboundMessage
from samphan.core.models import AuditEvent
from samphan.inbox.ingest import ingest_inbound
from samphan.inbox.models import Conversation, Message, NoteMention, SentimentCorrection, Team
from samphan.inbox.services import canned_reply_create, conversation_label_add, note_add
from tests.channels.conftest import _clean_fake_outbox, fake_account, run_on_commit  # noqa: F401
from tests.factories import CustomerFactory, MembershipFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
RUDE = "ก็บอกแล้วไง อ่านไม่ออกเหรอ"
_ids = count(1)


def customer_says(account, text: str = "สวัสดีค่ะ อยากสอบถามเรื่องสินค้า", who: str = "U-somchai") -> Conversation:
    """A customer's message through the inbox's real ingest, as the worker stores it."""
    user_id = "U" + hashlib.md5(who.encode()).hexdigest()  # noqa: S324  a LINE-shaped id, not security
    with transaction.atomic():  # as the worker runs it (a live-server test has no outer transaction)
        ingest_inbound(account, [InboundEvent(kind="message", dedupe_key=f"ui{next(_ids)}", text=text,
                                              sender=SenderIdentity("line", user_id, display_name=f"คุณ {who}"),
                                              occurred_at=timezone.now(), thread_key=user_id)])
    return Conversation.objects.filter(channel_account=account, thread_key=user_id).order_by("-id").first()


def member_client(workspace, role: str, **user) -> tuple:
    u = MembershipFactory(workspace=workspace, role=role, **({"user": UserFactory(**user)} if user else {})).user
    client = Client()
    client.force_login(u)
    return u, client


@pytest.fixture
def conversation(workspace, fake_account):  # noqa: F811
    return customer_says(fake_account)


def test_inbox_list_shows_rows_and_filters(owner_client, owner, workspace, fake_account):  # noqa: F811
    first = customer_says(fake_account, "มีสินค้าไหมคะ", who="U-a")
    second = customer_says(fake_account, "ขอบคุณครับ", who="U-b")
    conversation_label_add(conversation=second, name="refund")
    page = owner_client.get(f"/w/{workspace.slug}/inbox/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(f'data-conversation="{second.pk}"') < html.index(f'data-conversation="{first.pk}"')
    assert "มีสินค้าไหมคะ" in html and "Test channel" in html and 'data-testid="inbox-poller"' in html
    labelled = owner_client.get(f"/w/{workspace.slug}/inbox/?label=refund").content.decode()
    assert f'data-conversation="{second.pk}"' in labelled and f'data-conversation="{first.pk}"' not in labelled
    mine = owner_client.get(f"/w/{workspace.slug}/inbox/?assignee=mine").content.decode()
    assert 'data-testid="inbox-empty"' in mine
    unassigned = owner_client.get(f"/w/{workspace.slug}/inbox/?assignee=unassigned&status=open").content.decode()
    assert unassigned.count('data-testid="inbox-row"') == 2
    # htmx asks for the rows only.
    rows = owner_client.get(f"/w/{workspace.slug}/inbox/?part=rows", **HX).content.decode()
    assert rows.count('data-testid="inbox-row"') == 2 and "<html" not in rows
    # A hand-edited filter is explained, not a 500.
    bad = owner_client.get(f"/w/{workspace.slug}/inbox/?sla=late")
    assert bad.status_code == 200 and "unknown sla filter" in bad.content.decode()
    assert "unknown cursor" not in owner_client.get(f"/w/{workspace.slug}/inbox/?cursor=zz").content.decode()
    for query, reason in (("cursor=zz", "invalid cursor"), ("channel=abc", "channel is a channel account id"),
                          ("assignee=abc", "assignee is a user id")):
        page = owner_client.get(f"/w/{workspace.slug}/inbox/?{query}")
        assert page.status_code == 200 and reason in page.content.decode(), query


def test_inbox_list_is_paginated_by_cursor(owner_client, workspace, fake_account):  # noqa: F811
    for i in range(27):
        customer_says(fake_account, f"hello {i}", who=f"U-{i}")
    html = owner_client.get(f"/w/{workspace.slug}/inbox/").content.decode()
    assert html.count('data-testid="inbox-row"') == 25 and 'data-testid="inbox-older"' in html
    cursor = html.split("cursor=", 1)[1].split('"', 1)[0]
    older = owner_client.get(f"/w/{workspace.slug}/inbox/?status=active&sort=recent&cursor={cursor}").content.decode()
    assert older.count('data-testid="inbox-row"') == 2
    assert 'data-testid="inbox-poller"' not in older  # an older page does not jump back to the newest


def test_placeholder_address_goes_to_the_inbox(owner_client, workspace):
    response = owner_client.get(f"/w/{workspace.slug}/area/inbox/")
    assert response.status_code == 302 and response["Location"] == f"/w/{workspace.slug}/inbox/"
    nav = owner_client.get(f"/w/{workspace.slug}/").content.decode()
    assert f'href="/w/{workspace.slug}/inbox/"' in nav


def test_conversation_page_shows_thread_and_customer_360(owner_client, workspace, conversation):
    OrderFactory(workspace=workspace, customer=conversation.customer, external_id="SO-991")
    inbound = Message.objects.get(conversation=conversation)
    html = owner_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert "อยากสอบถามเรื่องสินค้า" in html and f'data-message="{inbound.pk}"' in html
    assert 'data-testid="customer-360"' in html and "SO-991" in html and 'data-testid="identities-card"' in html
    assert 'id="reply-guard-live"' in html and f'/w/{workspace.slug}/guard/check/' in html
    assert 'data-testid="sentiment-select"' in html


def test_another_workspaces_conversation_is_404(workspace, other_workspace, fake_account, conversation):  # noqa: F811
    _outsider, client = member_client(other_workspace, "owner")
    base = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "reply/", {"text": "สวัสดีค่ะ"}).status_code == 404
    # Their own workspace's address, our conversation's id: still 404.
    own = f"/w/{other_workspace.slug}/inbox/c/{conversation.pk}/"
    assert client.get(own).status_code == 404
    assert client.post(own + "reply/", {"text": "สวัสดีค่ะ"}).status_code == 404
    assert client.post(own + "notes/", {"text": "x"}).status_code == 404
    assert client.post(own + "status/", {"status": "resolved"}).status_code == 404
    message = Message.objects.get(conversation=conversation)
    assert client.post(f"/w/{other_workspace.slug}/inbox/messages/{message.pk}/sentiment/",
                       {"label": "negative"}).status_code == 404
    assert client.get(f"/w/{other_workspace.slug}/inbox/poll/?conversation={conversation.pk}").status_code == 404
    assert not Message.objects.filter(direction="out").exists() and fake.OUTBOX == []


def test_staff_can_reply_and_it_goes_out_once(workspace, conversation, run_on_commit):  # noqa: F811
    staff, client = member_client(workspace, "staff")
    url = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/reply/"
    data = {"text": "ได้เลยค่ะ ขอบคุณที่สอบถามนะคะ", "idempotency_key": "k-1"}
    with run_on_commit():
        response = client.post(url, data, **HX)
    assert response.status_code == 200 and 'data-testid="reply-sent"' in response.content.decode()
    assert response["HX-Trigger"] == "inbox-changed"
    with run_on_commit():
        again = client.post(url, data, **HX)  # a double click: same key, nothing new
    assert again.status_code == 200
    assert [m["text"] for m in fake.OUTBOX] == ["ได้เลยค่ะ ขอบคุณที่สอบถามนะคะ"]
    reply = Message.objects.get(conversation=conversation, direction="out")
    assert reply.author == staff and reply.outbound.status == OutboundMessage.Status.SENT
    conversation.refresh_from_db()
    assert conversation.assignee == staff  # whoever answers an unassigned conversation takes it
    thread = client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/thread/", **HX).content.decode()
    assert 'data-testid="delivery" data-status="sent"' in thread


def test_a_member_without_the_workspace_cannot_reply(workspace, conversation):
    """There is no read-only role: every role holds inbox.reply (accounts/roles.py). Someone who is
    not a member — signed out, or a member elsewhere — gets nothing and sends nothing."""
    url = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/reply/"
    anonymous = Client().post(url, {"text": "สวัสดีค่ะ"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(url, {"text": "สวัสดีค่ะ"}).status_code == 404
    assert not Message.objects.filter(direction="out").exists()


def test_blocked_reply_is_422_with_reasons_and_keeps_the_draft(workspace, conversation):
    _, agent = member_client(workspace, "agent")
    url = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/reply/"
    response = agent.post(url, {"text": RUDE}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="reply-blocked"' in html and "sounds rude or dismissive" in html
    assert "ขออนุญาตทบทวนอีกครั้งค่ะ" in html  # the suggestion, with its "Use suggestion" button
    assert f">{RUDE}</textarea>" in html  # the draft stays
    assert 'data-testid="guard-override"' not in html  # an agent cannot override
    # Without JavaScript: the whole page, still 422, draft kept.
    plain = agent.post(url, {"text": RUDE})
    assert plain.status_code == 422 and f">{RUDE}</textarea>" in plain.content.decode()
    # An agent's forged override is refused.
    forged = agent.post(url, {"text": RUDE, "override_guard": "on", "override_reason": "x"}, **HX)
    assert forged.status_code == 403 and "only a manager" in forged.content.decode()
    assert not Message.objects.filter(direction="out").exists() and fake.OUTBOX == []


def test_manager_overrides_with_a_reason_audited(workspace, conversation, run_on_commit):  # noqa: F811
    manager, client = member_client(workspace, "manager")
    url = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/reply/"
    blocked = client.post(url, {"text": RUDE}, **HX).content.decode()
    assert 'data-testid="guard-override"' in blocked and 'data-testid="override-reason"' in blocked
    no_reason = client.post(url, {"text": RUDE, "override_guard": "on"}, **HX)
    assert no_reason.status_code == 422 and "give a reason" in no_reason.content.decode()
    with run_on_commit():
        sent = client.post(url, {"text": RUDE, "override_guard": "on", "override_reason": "the customer's own words"},
                           **HX)
    assert sent.status_code == 200 and fake.OUTBOX[-1]["text"] == RUDE
    event = AuditEvent.objects.get(action="guard.overridden")
    assert event.actor == manager and "the customer's own words" in event.summary


def test_canned_reply_is_rendered_into_the_reply_box(owner_client, workspace, conversation):
    conversation.customer.first_name = "สมชาย"
    conversation.customer.save()
    canned = canned_reply_create(workspace=workspace, shortcut="hi", body="สวัสดีค่ะ คุณ{{ customer.first_name }}")
    page = owner_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-testid="canned-pick"' in page and "/hi" in page
    box = owner_client.post(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/canned/",
                            {"canned": canned.pk, "text": "ขอบคุณค่ะ"}, **HX).content.decode()
    assert "ขอบคุณค่ะ\nสวัสดีค่ะ คุณสมชาย</textarea>" in box
    assert 'hx-trigger="load, input changed' in box  # the guard reads the inserted text at once


def test_canned_reply_management(workspace):
    _, manager = member_client(workspace, "manager")
    url = f"/w/{workspace.slug}/inbox/canned/"
    bad = manager.post(url, {"shortcut": "x", "body": "{% include 'secret' %}"})
    assert bad.status_code == 422 and "is not allowed in a canned reply" in bad.content.decode()
    ok = manager.post(url, {"shortcut": "thanks", "body": "ขอบคุณค่ะ {{ customer.first_name }}"})
    assert ok.status_code == 302
    assert "/thanks" in manager.get(url).content.decode()
    _, staff = member_client(workspace, "staff")
    assert staff.get(url).status_code == 200
    assert staff.post(url, {"shortcut": "nope", "body": "hi"}).status_code == 403
    from samphan.inbox.models import CannedReply

    reply = CannedReply.objects.get(shortcut="thanks")
    assert staff.post(f"{url}{reply.pk}/delete/").status_code == 403
    assert manager.post(f"{url}{reply.pk}/delete/").status_code == 302 and not CannedReply.objects.exists()


def test_note_with_mention_is_recorded_and_shown_to_the_colleague(workspace, conversation):
    _author, client = member_client(workspace, "agent", email="nok@example.com")
    colleague, colleague_client = member_client(workspace, "staff", email="somsak@example.com")
    response = client.post(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/notes/",
                           {"text": "@somsak ช่วยดูเรื่องคืนเงินหน่อย"}, **HX)
    assert response.status_code == 200 and response["HX-Trigger"] == "inbox-changed"
    mention = NoteMention.objects.get()
    assert mention.user == colleague and mention.seen_at is None
    inbox = colleague_client.get(f"/w/{workspace.slug}/inbox/").content.decode()
    assert 'data-testid="my-mentions"' in inbox and "ช่วยดูเรื่องคืนเงินหน่อย" in inbox
    page = colleague_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-testid="note"' in page and "Internal note" in page
    mention.refresh_from_db()
    assert mention.seen_at is not None  # opened: no longer new
    assert 'data-testid="my-mentions"' not in colleague_client.get(f"/w/{workspace.slug}/inbox/").content.decode()
    empty = client.post(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/notes/", {"text": "  "}, **HX)
    assert "a note needs text" in empty.content.decode()


def test_labels_assignment_and_status(owner_client, owner, workspace, conversation):
    base = f"/w/{workspace.slug}/inbox/c/{conversation.pk}/"
    html = owner_client.post(base + "labels/", {"name": "คืนเงิน"}, **HX).content.decode()
    assert 'data-testid="label-chip"' in html and "คืนเงิน" in html
    owner_client.post(base + "labels/remove/", {"name": "คืนเงิน"}, **HX)
    assert not conversation.labels.exists()

    team = Team.objects.create(workspace=workspace, name="Support")
    colleague = MembershipFactory(workspace=workspace, role="agent").user
    owner_client.post(base + "assign/", {"assignee": colleague.pk, "team": team.pk}, **HX)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (colleague, team)
    owner_client.post(base + "assign/", {"assignee": "me", "team": team.pk}, **HX)
    conversation.refresh_from_db()
    assert conversation.assignee == owner
    owner_client.post(base + "assign/", {"assignee": "", "team": ""}, **HX)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (None, None)
    stranger = UserFactory()
    bad = owner_client.post(base + "assign/", {"assignee": stranger.pk}, **HX).content.decode()
    assert "is not a member of this workspace" in bad

    resolved = owner_client.post(base + "status/", {"status": "resolved"}, **HX)
    assert 'data-testid="status-reopen"' in resolved.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    owner_client.post(base + "status/", {"status": "open"}, **HX)
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert "unknown status" in owner_client.post(base + "status/", {"status": "gone"}, **HX).content.decode()


def test_sentiment_correction_uses_the_service(owner_client, owner, workspace, conversation):
    message = Message.objects.get(conversation=conversation)
    url = f"/w/{workspace.slug}/inbox/messages/{message.pk}/sentiment/"
    html = owner_client.post(url, {"label": "negative"}, **HX).content.decode()
    assert '<option value="negative" selected>' in html
    message.refresh_from_db()
    assert message.sentiment == "negative" and message.sentiment_corrected
    correction = SentimentCorrection.objects.get()
    assert correction.corrected_by == owner and correction.new_label == "negative"
    assert AuditEvent.objects.filter(action="inbox.sentiment_corrected").exists()
    assert "label must be one of" in owner_client.post(url, {"label": "angry"}, **HX).content.decode()


def test_poll_says_204_until_something_changes(owner_client, workspace, fake_account, conversation):  # noqa: F811
    url = f"/w/{workspace.slug}/inbox/poll/?conversation={conversation.pk}"
    first = owner_client.get(url, **HX)
    assert first.status_code == 200 and first["HX-Trigger"] == "inbox-changed"
    token = first.content.decode().split('data-token="', 1)[1].split('"', 1)[0]
    assert owner_client.get(f"{url}&since={token}", **HX).status_code == 204
    customer_says(fake_account, "ยังอยู่ไหมคะ")  # a new inbound message
    changed = owner_client.get(f"{url}&since={token}", **HX)
    assert changed.status_code == 200 and changed["HX-Trigger"] == "inbox-changed"
    thread = owner_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/thread/", **HX).content.decode()
    assert "ยังอยู่ไหมคะ" in thread


def _seed(workspace, account, n: int) -> Conversation:
    team = Team.objects.create(workspace=workspace, name="Support")
    last = None
    for i in range(n):
        last = customer_says(account, f"ข้อความ {i}", who=f"U-q{i}")
        conversation_label_add(conversation=last, name=f"l{i % 3}")
        Conversation.objects.filter(pk=last.pk).update(team=team)
    assert last is not None
    for i in range(5):
        customer_says(account, f"ต่อ {i}", who=f"U-q{n - 1}")
    canned_reply_create(workspace=workspace, shortcut="hi", body="สวัสดีค่ะ")
    note_add(conversation=last, actor=None, text="ดูให้หน่อย")
    OrderFactory(workspace=workspace, customer=last.customer)
    return last


def test_inbox_list_query_count_is_pinned(owner_client, workspace, fake_account, django_assert_max_num_queries):  # noqa: F811
    _seed(workspace, fake_account, 30)
    owner_client.get(f"/w/{workspace.slug}/inbox/")  # warm the session
    with django_assert_max_num_queries(13):
        response = owner_client.get(f"/w/{workspace.slug}/inbox/?label=l1&sort=recent")
    assert response.status_code == 200 and response.content.decode().count('data-testid="inbox-row"') == 10
    with django_assert_max_num_queries(13):
        assert owner_client.get(f"/w/{workspace.slug}/inbox/").status_code == 200


def test_conversation_page_query_count_is_pinned(owner_client, workspace, fake_account,  # noqa: F811
                                                 django_assert_max_num_queries):
    conversation = _seed(workspace, fake_account, 3)
    CustomerFactory(workspace=workspace)
    owner_client.get(f"/w/{workspace.slug}/inbox/")
    with django_assert_max_num_queries(28):
        response = owner_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/")
    assert response.status_code == 200 and response.content.decode().count('data-testid="message"') == 6
    with django_assert_max_num_queries(7):
        owner_client.get(f"/w/{workspace.slug}/inbox/poll/?conversation={conversation.pk}&since=x", **HX)


def test_inbox_pages_in_thai(owner_client, workspace, conversation):
    from django.conf import settings

    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    inbox = owner_client.get(f"/w/{workspace.slug}/inbox/").content.decode()
    assert "เปิดอยู่และรอดำเนินการ" in inbox and "ข้อความสำเร็จรูป" in inbox
    page = owner_client.get(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/").content.decode()
    for thai in ("บันทึกภายใน", "ผู้รับผิดชอบ", "ป้ายกำกับ", "ปิดเรื่อง", "ตัวตรวจน้ำเสียงแบรนด์จะอ่านไปขณะที่คุณพิมพ์"):
        assert thai in page
    blocked = owner_client.post(f"/w/{workspace.slug}/inbox/c/{conversation.pk}/reply/", {"text": RUDE},
                                **HX).content.decode()
    assert "ยังไม่ได้ส่ง: ตัวตรวจน้ำเสียงแบรนด์หยุดคำตอบนี้ไว้" in blocked
