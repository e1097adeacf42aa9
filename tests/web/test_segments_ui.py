"""The segment pages: the builder's form ⇄ rule round trip, live count, validation next to
the form, save with a background refresh, members and history, delete, roles and isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from samphan.core.models import AuditEvent, Job
from samphan.customers.models import Organisation
from samphan.customers.services import consent_set, customer_create, membership_set, tag_add
from samphan.segments.models import Segment, SegmentEvent
from samphan.segments.services import segment_refresh, segment_save
from samphan.web.views_segments import apply_action, builder_tree, rule_from_post
from tests.factories import MembershipFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def url(path: str) -> str:
    return f"/w/alpha/{path}"


@pytest.fixture
def people(workspace):
    shop = Organisation.objects.create(workspace=workspace, name="ร้านป้าแดง", kind="shop")
    a = customer_create(workspace=workspace, first_name="สมชาย", city="เชียงใหม่")
    b = customer_create(workspace=workspace, first_name="Anna", city="Bangkok")
    c = customer_create(workspace=workspace, first_name="วิภา", city="เชียงใหม่")
    c.organisation = shop
    c.save()
    tag_add(customer=a, name="VIP")
    tag_add(customer=b, name="VIP")
    consent_set(customer=a, purpose="line", status="granted", source="LINE follow")
    membership_set(customer=b, member_number="M1")
    latte = ProductFactory(workspace=workspace, sku="LATTE", category="coffee")
    order = OrderFactory(customer=a)
    order.lines.create(workspace=workspace, product=latte, sku="LATTE", unit_price=Decimal("65"), amount=Decimal("65"))
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def vip(workspace, people, owner):
    segment = segment_save(workspace=workspace, name="VIP", rule={"op": "and", "conditions": [
        {"field": "tag", "operator": "in", "value": ["VIP"]}]}, actor=owner)
    segment_refresh(segment=segment)
    return segment


def form(nodes: dict[str, dict], **extra) -> dict:
    """Builder form data: {path: {"kind": …, "field": …}} in document order."""
    data: dict = {"node": list(nodes), **extra}
    for path, fields in nodes.items():
        for key, value in fields.items():
            data[f"{path}:{key}"] = value
    return data


class PostDict(dict):
    """Just enough of a QueryDict for rule_from_post."""

    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


NESTED = {
    "r": {"kind": "group", "op": "or"},
    "r-0": {"kind": "group", "op": "and"},
    "r-0-0": {"kind": "cond", "field": "tag", "operator": "in", "value": ["VIP"]},
    "r-0-1": {"kind": "cond", "field": "city", "operator": "eq", "value": "Bangkok"},
    "r-1": {"kind": "cond", "field": "organisation_kind", "operator": "in", "value": ["shop"]},
}


def test_form_serialises_to_the_documented_rule_shape():
    rule = rule_from_post(PostDict(form({
        **NESTED,
        "r-2": {"kind": "group", "op": "and", "negate": "on"},
        "r-2-0": {"kind": "cond", "field": "customer_since", "operator": "between", "value": "2025-01-01",
                  "value2": "2025-12-31"},
        "r-2-1": {"kind": "cond", "field": "is_member", "operator": "is", "value": "true"},
        "r-2-2": {"kind": "cond", "field": "attribute", "operator": "gt", "key": "cups", "value": "5"},
        "r-2-3": {"kind": "cond", "field": "segment", "operator": "in", "value": "7"},
        "r-2-4": {"kind": "cond", "field": "customer_since", "operator": "within_days", "value": "30"},
    })))
    assert rule == {"op": "or", "negate": False, "conditions": [
        {"op": "and", "negate": False, "conditions": [
            {"field": "tag", "operator": "in", "value": ["VIP"]},
            {"field": "city", "operator": "eq", "value": "Bangkok"}]},
        {"field": "organisation_kind", "operator": "in", "value": ["shop"]},
        {"op": "and", "negate": True, "conditions": [
            {"field": "customer_since", "operator": "between", "value": ["2025-01-01", "2025-12-31"]},
            {"field": "is_member", "operator": "is", "value": True},
            {"field": "attribute", "operator": "gt", "value": {"key": "cups", "value": 5}},
            {"field": "segment", "operator": "in", "value": 7},
            {"field": "customer_since", "operator": "within_days", "value": 30}]},
    ]}


def test_builder_actions_add_and_remove_nodes(workspace):
    rule = {"op": "and", "conditions": [{"field": "tag", "operator": "in", "value": ["VIP"]}]}
    apply_action(rule, "add_group:r")
    apply_action(rule, "add_cond:r-1")
    apply_action(rule, "add_group:r-1")  # a second level
    assert [len(rule["conditions"]), len(rule["conditions"][1]["conditions"])] == [2, 3]
    apply_action(rule, "remove:r-0")
    assert rule["conditions"][0]["op"] == "and"
    apply_action(rule, "remove:r-9")  # gone already: nothing happens
    apply_action(rule, "remove:r")  # the root stays
    tree = builder_tree(rule, workspace, None)
    assert tree["children"][0]["children"][2]["kind"] == "group"
    assert tree["children"][0]["children"][2]["path"] == "r-0-2"


def test_new_segment_page_and_builder_partials(owner_client, people):
    body = owner_client.get(url("segments/new/")).content.decode()
    assert 'data-testid="rule-builder"' in body and 'data-testid="live-count"' in body
    assert "No conditions yet" in body
    response = owner_client.post(url("segments/builder/"), form({"r": {"kind": "group", "op": "and"}},
                                                                 action="add_group:r"), headers=HX)
    body = response.content.decode()
    assert response["HX-Trigger-After-Settle"] == "rule-changed"
    assert body.startswith('<div id="rule-builder"')
    assert 'data-testid="group-r-0"' in body and 'data-testid="cond-r-0-0"' in body
    assert 'data-testid="add-group-r-0"' in body  # groups nest a second level
    # Choosing a field swaps the operator and value controls.
    body = owner_client.get(url("segments/widgets/"), {"path": "r-0", "r-0:field": "tag"}).content.decode()
    assert 'name="r-0:operator"' in body and 'value="VIP"' in body and 'type="checkbox"' in body
    body = owner_client.get(url("segments/widgets/"), {"path": "r-0", "r-0:field": "customer_since",
                                                        "r-0:operator": "between", "keep": "operator"}).content.decode()
    assert 'name="r-0:value2"' in body and 'type="date"' in body
    body = owner_client.get(url("segments/widgets/"), {"path": "r-0", "r-0:field": "is_member"}).content.decode()
    assert '<option value="true"' in body
    assert owner_client.get(url("segments/widgets/"), {"path": "../x"}).status_code == 404


def test_live_count(owner_client, people):
    response = owner_client.post(url("segments/preview/"), form(NESTED), headers=HX)
    assert 'data-count="2"' in response.content.decode()  # Anna (VIP in Bangkok) and วิภา (a shop)
    body = owner_client.post(url("segments/preview/"), form({"r": {"kind": "group", "op": "and"}})).content.decode()
    assert 'data-count="3"' in body


def test_invalid_rule_is_shown_with_its_path(owner_client, people):
    bad = form({"r": {"kind": "group", "op": "and"},
                "r-0": {"kind": "cond", "field": "tag", "operator": "in", "value": ["VIP"]},
                "r-1": {"kind": "group", "op": "or"},
                "r-1-0": {"kind": "cond", "field": "customer_since", "operator": "within_days", "value": "ten"}},
               name="Broken")
    body = owner_client.post(url("segments/preview/"), bad).content.decode()
    assert 'data-testid="preview-error"' in body
    assert "rule.conditions[1].conditions[0].value" in body and "Condition 2 › 1" in body
    response = owner_client.post(url("segments/new/"), {**bad, "action": "save"})
    body = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="segment-error"' in body and "rule.conditions[1].conditions[0].value" in body
    # The condition at fault is marked, and what was typed is still there.
    cond_html = body.split('data-testid="cond-r-1-0"', 1)[1].split('id="node-', 1)[0]
    assert 'data-testid="cond-error"' in cond_html and 'value="ten"' in cond_html
    assert not Segment.objects.exists()
    # An empty field is a validation error too, and a missing name.
    body = owner_client.post(url("segments/new/"), {**form({"r": {"kind": "group"}, "r-0": {"kind": "cond"}}),
                                                   "name": "X", "action": "save"}).content.decode()
    assert "rule.conditions[0].field" in body
    response = owner_client.post(url("segments/new/"), {**form({"r": {"kind": "group"}}), "name": " ",
                                                        "action": "save"})
    assert response.status_code == 422 and "Give the segment a name." in response.content.decode()


def test_save_refreshes_in_the_background_and_shows_members(owner_client, workspace, people,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url("segments/new/"), {**form(NESTED), "name": "VIP กรุงเทพ หรือร้านค้า",
                                                            "description": "ทดสอบ", "action": "save"})
    segment = Segment.objects.get()
    job = Job.objects.get(kind="segments_refresh")
    assert response.status_code == 302
    assert response["Location"] == f"/w/alpha/segments/{segment.pk}/?job={job.pk}"
    assert segment.rule["op"] == "or" and segment.created_by is not None
    assert AuditEvent.objects.filter(action="segment.created", via="web").exists()
    body = owner_client.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in body and "Segment members are up to date." in body
    assert 'data-testid="segment-members">2<' in body
    assert "Anna" in body and "วิภา" in body and "สมชาย" not in body.split('data-testid="member-table"')[1].split(
        "</table>")[0]
    assert "Organisation kind" in body and "Shop / retailer" in body  # the rule in words
    # The list shows it with its count.
    body = owner_client.get(url("segments/")).content.decode()
    assert "VIP กรุงเทพ หรือร้านค้า" in body and "67%" in body


def test_edit_keeps_the_rule_and_excludes_itself_from_nesting(owner_client, vip, people):
    body = owner_client.get(url(f"segments/{vip.pk}/edit/")).content.decode()
    assert 'value="VIP"' in body and "checked" in body and f'value="{vip.pk}"' not in body.split("segment_id")[2]
    other = segment_save(workspace=vip.workspace, name="Other", rule={"conditions": []})
    body = owner_client.get(url("segments/widgets/"), {"path": "r-0", "r-0:field": "segment",
                                                        "segment_id": vip.pk}).content.decode()
    assert f'<option value="{other.pk}"' in body and f'<option value="{vip.pk}"' not in body
    response = owner_client.post(url(f"segments/{vip.pk}/edit/"), {**form({
        "r": {"kind": "group"}, "r-0": {"kind": "cond", "field": "segment", "operator": "in", "value": str(vip.pk)}}),
        "name": "VIP", "action": "save"})
    assert response.status_code == 422 and "cannot contain itself" in response.content.decode()


def test_history_filters_and_member_pages(owner_client, workspace, vip, people):
    for i in range(30):
        c = customer_create(workspace=workspace, first_name=f"ลูกค้า{i}")
        tag_add(customer=c, name="VIP")
    segment_refresh(segment=vip)
    SegmentEvent.objects.filter(segment=vip, customer=people["a"]).update(at=timezone.now() - timedelta(days=40))
    body = owner_client.get(url(f"segments/{vip.pk}/")).content.decode()
    assert 'data-testid="members-next"' in body and "1–25" in body
    assert "2" in owner_client.get(url(f"segments/{vip.pk}/?page=2")).content.decode()
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    body = owner_client.get(url(f"segments/{vip.pk}/"), {"kind": "joined", "from": since}, headers=HX).content.decode()
    assert body.startswith('<section class="card" id="segment-history"')
    assert "1–25 of 31" in body  # สมชาย joined 40 days ago: outside the period
    assert "hpage=2" in body and "kind=joined" in body
    page2 = owner_client.get(url(f"segments/{vip.pk}/"), {"kind": "joined", "from": since, "hpage": 2},
                             headers=HX).content.decode()
    assert "Anna" in page2 and "สมชาย" not in body + page2
    body = owner_client.get(url(f"segments/{vip.pk}/"), {"kind": "left"}, headers=HX).content.decode()
    assert 'data-testid="history-empty"' in body


def test_delete_blocked_while_another_segment_uses_it(owner_client, workspace, vip):
    nested = segment_save(workspace=workspace, name="VIP in LINE", rule={"conditions": [
        {"field": "segment", "operator": "in", "value": vip.pk},
        {"field": "consent", "operator": "in", "value": ["line"]}]})
    response = owner_client.post(url(f"segments/{vip.pk}/delete/"), follow=True)
    body = response.content.decode()
    assert "cannot be deleted: it is used by VIP in LINE" in body
    assert Segment.objects.filter(pk=vip.pk).exists()
    owner_client.post(url(f"segments/{nested.pk}/delete/"))
    response = owner_client.post(url(f"segments/{vip.pk}/delete/"), follow=True)
    assert "deleted" in response.content.decode()
    assert not Segment.objects.exists()


def test_refresh_now(owner_client, vip, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url(f"segments/{vip.pk}/refresh/"), headers=HX)
    assert 'data-testid="job"' in response.content.decode()
    assert Job.objects.get(kind="segments_refresh").status == "succeeded"


def test_roles(workspace, vip):
    staff = MembershipFactory(workspace=workspace, role="staff").user
    client = Client()
    client.force_login(staff)
    body = client.get(url("segments/")).content.decode()
    assert "VIP" in body and 'data-testid="new-segment"' not in body
    body = client.get(url(f"segments/{vip.pk}/")).content.decode()
    assert 'data-testid="segment-edit"' not in body and 'data-testid="segment-delete"' not in body
    assert client.get(url("segments/new/")).status_code == 403
    assert client.get(url(f"segments/{vip.pk}/edit/")).status_code == 403
    assert client.post(url(f"segments/{vip.pk}/delete/")).status_code == 403
    assert client.post(url("segments/preview/"), form(NESTED)).status_code == 403
    assert Segment.objects.filter(pk=vip.pk).exists()


def test_another_workspace_segment_is_not_found(owner_client, other_workspace):
    theirs = segment_save(workspace=other_workspace, name="Theirs", rule={"conditions": []})
    for path in (f"segments/{theirs.pk}/", f"segments/{theirs.pk}/edit/"):
        assert owner_client.get(url(path)).status_code == 404, path
    for path in (f"segments/{theirs.pk}/delete/", f"segments/{theirs.pk}/refresh/"):
        assert owner_client.post(url(path)).status_code == 404, path
    assert owner_client.post(url("segments/preview/"), {**form(NESTED), "segment_id": theirs.pk}).status_code == 404
    assert owner_client.post(url("segments/builder/"), {**form(NESTED), "segment_id": theirs.pk}).status_code == 404
    # Nesting another workspace's segment is a validation error, not a leak.
    body = owner_client.post(url("segments/preview/"), form({
        "r": {"kind": "group"}, "r-0": {"kind": "cond", "field": "segment", "operator": "in",
                                        "value": str(theirs.pk)}})).content.decode()
    assert "no segment" in body
    assert "Theirs" not in owner_client.get(url("segments/")).content.decode()
    assert Segment.objects.filter(pk=theirs.pk).exists()
