"""Conversations follow a customer merge, and an undo brings them back."""

from __future__ import annotations

import pytest

from samphan.customers.merge import customer_merge, customer_merge_undo
from samphan.customers.models import Customer
from samphan.customers.selectors import customer_360
from samphan.inbox.models import Conversation
from tests.channels.helpers import LINE_USER, LINE_USER_2, line_text_event, post_line

pytestmark = pytest.mark.django_db


def test_merge_moves_conversations_and_undo_restores(provider_client, line_account, run_on_commit, owner,
                                                     workspace):
    with run_on_commit():
        post_line(provider_client, line_account, {"events": [
            line_text_event(event_id="E1", message_id="1", user_id=LINE_USER, text="phone"),
            line_text_event(event_id="E2", message_id="2", user_id=LINE_USER_2, text="tablet")]})
    a = Conversation.objects.get(thread_key=LINE_USER)
    b = Conversation.objects.get(thread_key=LINE_USER_2)
    survivor, merged = a.customer, b.customer
    record = customer_merge(survivor=survivor, merged=merged, actor=owner)
    assert set(Conversation.objects.values_list("customer_id", flat=True)) == {survivor.pk}
    assert len(customer_360(workspace=workspace, customer_id=survivor.pk)["sections"]["conversations"]["recent"]) == 2
    # New messages from the merged customer's LINE id keep landing in its (moved) conversation.
    with run_on_commit():
        post_line(provider_client, line_account, {"events": [
            line_text_event(event_id="E3", message_id="3", user_id=LINE_USER_2, text="still me")]})
    b.refresh_from_db()
    assert b.customer_id == survivor.pk and b.message_count == 2
    customer_merge_undo(record=record, actor=owner)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.customer_id, b.customer_id) == (survivor.pk, merged.pk)
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


def test_360_section_is_one_query(provider_client, line_account, run_on_commit, workspace,
                                  django_assert_num_queries):
    from samphan.inbox.selectors import customer_conversations_section

    with run_on_commit():
        post_line(provider_client, line_account, {"events": [line_text_event(event_id="E1", message_id="1")]})
    customer = Conversation.objects.get().customer
    with django_assert_num_queries(1):
        section = customer_conversations_section(workspace, customer)
    assert section["recent"][0]["provider"] == "line" and section["more"] is False
