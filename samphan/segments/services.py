"""Writes for segments: create/update with a validated rule, and materialise membership.

Materialisation evaluates the rule once into a temporary table, then applies
the difference to SegmentMember and writes one SegmentEvent per join and
leave — all in SQL, so a million-customer segment never passes through Python.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.segments import fields  # noqa: F401  registers the built-in fields
from samphan.segments.models import Segment, SegmentMember
from samphan.segments.rules import _segment_refs, compile_rule, segment_queryset


def segment_save(*, workspace: Any, name: str, rule: dict[str, Any], description: str = "",
                 segment: Segment | None = None, actor: Any = None, via: str = "system") -> Segment:
    name = name.strip()
    if not name:
        raise ValidationFailed("a segment needs a name")
    compile_rule(rule, workspace=workspace, segment_id=segment.pk if segment else None)
    creating = segment is None
    before: dict[str, Any] | None = None
    if segment is None:
        segment = Segment(workspace_id=getattr(workspace, "pk", workspace),
                          created_by=actor if getattr(actor, "is_authenticated", False) else None)
    else:
        before = {"name": segment.name, "rule": segment.rule}
    segment.name, segment.rule, segment.description = name, rule, description
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise Conflict(f"a segment named {name!r} already exists") from None
    audit_record(workspace=workspace, action="segment.created" if creating else "segment.updated", actor=actor,
                 via=via, target=segment, summary=name, changes={"before": before, "rule": rule})
    return segment


# A rule with OR between purchase conditions compiles to `id IN (subquery) OR id IN (…)`, which
# PostgreSQL cannot turn into joins: with the default 4 MB of work_mem a subquery holding
# hundreds of thousands of customer ids is not hashed but re-run for every customer (a
# 1M-customer AND/OR rule ran for over ten minutes; with 128 MB it finishes, see the issue-4 note).
SEGMENT_WORK_MEM = "128MB"


def _segment_work_mem() -> None:
    """Give this transaction enough memory to hash the rule's subqueries (PostgreSQL only).

    JIT is off: a million-row estimate makes PostgreSQL compile the rule's expressions
    (~0.5 s of a 1–2 s query on the benchmark), which the run then never earns back.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL work_mem = '{SEGMENT_WORK_MEM}'")
            cur.execute("SET LOCAL jit = off")


@transaction.atomic
def segment_count(*, workspace: Any, rule: dict[str, Any], segment_id: int | None = None) -> int:
    """How many customers a rule matches right now (the builder's live preview)."""
    _segment_work_mem()
    return segment_queryset(rule, workspace=workspace, segment_id=segment_id).count()


@transaction.atomic
def segment_refresh(*, segment: Segment) -> dict[str, int]:
    """Bring materialised membership in line with the rule; returns joined/left/members.

    Set-based: the rule's result goes into a temporary table once, then joins and leaves are
    two anti-joins against the current members. On PostgreSQL each is one statement whose
    DELETE/INSERT … RETURNING feeds the history (SegmentEvent) directly.
    """
    from samphan.segments.models import SegmentEvent

    now = timezone.now()
    qs = segment_queryset(segment.rule, workspace=segment.workspace_id, segment_id=segment.pk)
    sql, params = qs.values("id").query.sql_with_params()
    member_t = SegmentMember._meta.db_table
    event_t = SegmentEvent._meta.db_table
    tmp = f"seg_new_{segment.pk}"
    pg = connection.vendor == "postgresql"
    ws, seg = segment.workspace_id, segment.pk
    _segment_work_mem()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
        # SQLite probes it by key (an INTEGER PRIMARY KEY is the rowid: free); PostgreSQL hashes it.
        cur.execute(f"CREATE TEMP TABLE {tmp} (id bigint NOT NULL)" if pg
                    else f"CREATE TEMP TABLE {tmp} (id INTEGER PRIMARY KEY)")
        cur.execute(f"INSERT INTO {tmp} (id) {sql}", params)
        members = cur.rowcount
        gone = (f"FROM {member_t} m WHERE m.segment_id = %s "
                f"AND NOT EXISTS (SELECT 1 FROM {tmp} n WHERE n.id = m.customer_id)")
        # Joiners go in by customer id: the (customer) indexes then grow at one edge, not at random.
        new = (f"FROM {tmp} n WHERE NOT EXISTS "
               f"(SELECT 1 FROM {member_t} m WHERE m.segment_id = %s AND m.customer_id = n.id)")
        if pg:
            cur.execute(f"ANALYZE {tmp}")  # temporary tables have no statistics until analysed
            cur.execute(
                f"WITH gone AS (DELETE {gone} RETURNING m.customer_id) "
                f"INSERT INTO {event_t} (workspace_id, segment_id, customer_id, kind, at) "
                f"SELECT %s, %s, customer_id, 'left', %s FROM gone", [seg, ws, seg, now])
            left = cur.rowcount
            cur.execute(
                f"WITH added AS (INSERT INTO {member_t} (workspace_id, segment_id, customer_id, joined_at) "
                f"SELECT %s, %s, n.id, %s {new} ORDER BY n.id RETURNING customer_id) "
                f"INSERT INTO {event_t} (workspace_id, segment_id, customer_id, kind, at) "
                f"SELECT %s, %s, customer_id, 'joined', %s FROM added", [ws, seg, now, seg, ws, seg, now])
            joined = cur.rowcount
        else:
            cur.execute(f"INSERT INTO {event_t} (workspace_id, segment_id, customer_id, kind, at) "
                        f"SELECT %s, %s, m.customer_id, 'left', %s {gone}", [ws, seg, now, seg])
            left = cur.rowcount
            cur.execute(f"DELETE FROM {member_t} WHERE segment_id = %s AND NOT EXISTS "
                        f"(SELECT 1 FROM {tmp} n WHERE n.id = {member_t}.customer_id)", [seg])
            cur.execute(f"INSERT INTO {event_t} (workspace_id, segment_id, customer_id, kind, at) "
                        f"SELECT %s, %s, n.id, 'joined', %s {new} ORDER BY n.id", [ws, seg, now, seg])
            joined = cur.rowcount
            cur.execute(f"INSERT INTO {member_t} (workspace_id, segment_id, customer_id, joined_at) "
                        f"SELECT %s, %s, n.id, %s {new} ORDER BY n.id", [ws, seg, now, seg])
        cur.execute(f"DROP TABLE {tmp}")
    Segment.objects.filter(pk=segment.pk).update(member_count=members, refreshed_at=now)
    segment.member_count, segment.refreshed_at = members, now
    return {"joined": joined, "left": left, "members": members}


def segments_in_dependency_order(workspace: Any) -> list[Segment]:
    """Segments that others nest come first, so a refresh reads fresh membership."""
    segments = {s.pk: s for s in Segment.objects.for_workspace(workspace)}
    ordered: list[Segment] = []
    seen: set[int] = set()

    def visit(pk: int, stack: tuple[int, ...] = ()) -> None:
        if pk in seen or pk not in segments or pk in stack:
            return
        for ref in _segment_refs(segments[pk].rule):
            visit(ref, (*stack, pk))
        seen.add(pk)
        ordered.append(segments[pk])

    for pk in sorted(segments):
        visit(pk)
    return ordered


def segments_refresh_all(*, workspace: Any, progress=None) -> dict[str, dict[str, int]]:
    results = {}
    ordered = segments_in_dependency_order(workspace)
    for index, segment in enumerate(ordered, start=1):
        results[segment.name] = segment_refresh(segment=segment)
        if progress:
            progress(index, len(ordered))
    return results


@transaction.atomic
def segments_refresh_customer(*, workspace: Any, customer_id: int) -> dict[str, str]:
    """Re-evaluate every segment of the workspace for one customer (after an order or an edit)."""
    from samphan.segments.models import SegmentEvent

    now = timezone.now()
    changes = {}
    current = set(SegmentMember.objects.filter(customer_id=customer_id, segment__workspace=workspace)
                  .values_list("segment_id", flat=True))
    for segment in segments_in_dependency_order(workspace):
        try:
            is_member = segment_queryset(segment.rule, workspace=workspace, segment_id=segment.pk).filter(
                pk=customer_id).exists()
        except ValidationFailed:
            continue  # a segment whose rule no longer compiles is left alone; the UI shows it
        was_member = segment.pk in current
        if is_member and not was_member:
            SegmentMember.objects.create(workspace_id=segment.workspace_id, segment=segment, customer_id=customer_id,
                                         joined_at=now)
            SegmentEvent.objects.create(workspace_id=segment.workspace_id, segment=segment, customer_id=customer_id,
                                        kind=SegmentEvent.Kind.JOINED, at=now)
            Segment.objects.filter(pk=segment.pk).update(member_count=segment.member_count + 1)
            changes[segment.name] = "joined"
        elif was_member and not is_member:
            SegmentMember.objects.filter(segment=segment, customer_id=customer_id).delete()
            SegmentEvent.objects.create(workspace_id=segment.workspace_id, segment=segment, customer_id=customer_id,
                                        kind=SegmentEvent.Kind.LEFT, at=now)
            Segment.objects.filter(pk=segment.pk).update(member_count=max(0, segment.member_count - 1))
            changes[segment.name] = "left"
    return changes


def segment_delete(*, segment: Segment, actor: Any = None, via: str = "system") -> None:
    users = [s.name for s in Segment.objects.for_workspace(segment.workspace_id).exclude(pk=segment.pk)
             if segment.pk in _segment_refs(s.rule)]
    if users:
        raise Conflict(f"segment {segment.name!r} is used by {', '.join(users)}")
    audit_record(workspace=segment.workspace_id, action="segment.deleted", actor=actor, via=via, target=segment,
                 summary=segment.name)
    segment.delete()
