"""Response-time reports: first response, next response and resolution per agent, team and channel.

Reports read `inbox.ReportingEvent` rows only — each measured once, when it
happened, in wall-clock and business seconds, with its SLA outcome — so a
report is one aggregate over an index range (workspace, kind, occurred_at),
never a replay of message history.

PostgreSQL computes everything in one statement: GROUPING SETS for the
overall, per-agent, per-team and per-channel rows, `percentile_cont` for the
median and p90. A covering index (sla migration 0002) lets both read the range from the index
alone. SQLite has no percentile function: it reads the (kind,
dimension ids, values) rows of the range and aggregates them here with the
same linear interpolation, so both give the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from samphan.core.errors import ValidationFailed
from samphan.sla.models import DEFAULT_TIME_ZONE, BusinessHours

KINDS = ("first_response", "response", "resolution")
DIMENSIONS = ("agent", "team", "channel")
_DIM_COLUMN = {"agent": "agent_id", "team": "team_id", "channel": "channel_account_id"}
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class ReportRange:
    start: date  # inclusive, in the workspace's time zone
    end: date  # inclusive
    time_zone: str

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZoneInfo(self.time_zone))

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=ZoneInfo(self.time_zone))


def report_range(*, workspace: Any, start: Any = None, end: Any = None, today: date | None = None) -> ReportRange:
    """Dates (YYYY-MM-DD, inclusive) in the workspace's business-hours time zone; default the last 30 days."""
    from samphan.sla.services import parse_date

    ws_id = getattr(workspace, "pk", workspace)
    tz = (BusinessHours.objects.filter(workspace_id=ws_id).values_list("time_zone", flat=True).first()
          or DEFAULT_TIME_ZONE)
    today = today or datetime.now(ZoneInfo(tz)).date()
    end_day = parse_date(end, where="end") if end else today
    start_day = parse_date(start, where="start") if start else end_day - timedelta(days=29)
    if start_day > end_day:
        raise ValidationFailed(f"start {start_day.isoformat()} is after end {end_day.isoformat()}",
                               details={"field": "start"})
    if (end_day - start_day).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_RANGE_DAYS} days", details={"field": "start"})
    return ReportRange(start_day, end_day, tz)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _figures(count: int, wall: dict[str, float | None], business: dict[str, float | None], met: int,
             measured: int) -> dict[str, Any]:
    return {"count": count, "wall": wall, "business": business, "sla_met": met, "sla_measured": measured,
            "hit_rate": (met / measured) if measured else None}


# --- PostgreSQL: one statement ----------------------------------------------------------------------

_PG_SQL = """
SELECT kind, agent_id, team_id, channel_account_id,
       GROUPING(agent_id) AS g_agent, GROUPING(team_id) AS g_team, GROUPING(channel_account_id) AS g_channel,
       count(*),
       avg(value_seconds),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY value_seconds),
       avg(business_seconds),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY business_seconds),
       count(*) FILTER (WHERE sla_met),
       count(sla_met)
FROM inbox_reportingevent
WHERE workspace_id = %s AND occurred_at >= %s AND occurred_at < %s
GROUP BY GROUPING SETS ((kind), (kind, agent_id), (kind, team_id), (kind, channel_account_id))
"""


def _pg_rows(ws_id: int, rng: ReportRange) -> Iterator[tuple[str, str | None, int | None, dict[str, Any]]]:
    # The sorts behind the percentiles spill to disk with PostgreSQL's default 4 MB (30 days of a
    # million conversations' events: 5 s instead of under one); this transaction gets more.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(_PG_SQL, [ws_id, rng.since, rng.until])
        rows = cursor.fetchall()
    for (kind, agent, team, channel, g_agent, g_team, g_channel, count, w_avg, w_pct, b_avg, b_pct, met,
         measured) in rows:
        w_med, w_p90 = w_pct
        b_med, b_p90 = b_pct if b_pct is not None else (None, None)
        if not g_agent:
            dim, key = "agent", agent
        elif not g_team:
            dim, key = "team", team
        elif not g_channel:
            dim, key = "channel", channel
        else:
            dim, key = None, None
        yield kind, dim, key, _figures(count, {"average": w_avg, "median": w_med, "p90": w_p90},
                                       {"average": b_avg, "median": b_med, "p90": b_p90}, met, measured)


# --- SQLite (and anything else): aggregate here ------------------------------------------------------


def _python_rows(ws_id: int, rng: ReportRange) -> Iterator[tuple[str, str | None, int | None, dict[str, Any]]]:
    from samphan.inbox.models import ReportingEvent

    groups: dict[tuple[str, str | None, int | None], dict[str, list[Any]]] = defaultdict(
        lambda: {"wall": [], "business": [], "met": []})
    rows = (ReportingEvent.objects.filter(workspace_id=ws_id, occurred_at__gte=rng.since, occurred_at__lt=rng.until)
            .values_list("kind", "agent_id", "team_id", "channel_account_id", "value_seconds", "business_seconds",
                         "sla_met"))
    for kind, agent, team, channel, wall, business, met in rows.iterator(chunk_size=20000):
        for key in ((kind, None, None), (kind, "agent", agent), (kind, "team", team), (kind, "channel", channel)):
            group = groups[key]
            group["wall"].append(wall)
            if business is not None:
                group["business"].append(business)
            if met is not None:
                group["met"].append(met)
    for (kind, dim, dim_id), group in groups.items():
        walls = sorted(group["wall"])
        businesses = sorted(group["business"])
        yield kind, dim, dim_id, _figures(
            len(walls),
            {"average": sum(walls) / len(walls), "median": percentile(walls, 0.5), "p90": percentile(walls, 0.9)},
            {"average": sum(businesses) / len(businesses) if businesses else None,
             "median": percentile(businesses, 0.5), "p90": percentile(businesses, 0.9)},
            sum(1 for m in group["met"] if m), len(group["met"]))


def _names(ws_id: int, ids: dict[str, set[int]]) -> dict[str, dict[int, str]]:
    from samphan.accounts.models import User
    from samphan.channels.models import ChannelAccount
    from samphan.inbox.models import Team

    return {
        "agent": {u.pk: u.display_name or u.email for u in User.objects.filter(pk__in=ids["agent"])},
        "team": dict(Team.objects.filter(workspace_id=ws_id, pk__in=ids["team"]).values_list("pk", "name")),
        "channel": dict(ChannelAccount.objects.filter(workspace_id=ws_id, pk__in=ids["channel"])
                        .values_list("pk", "name")),
    }


def response_report(*, workspace: Any, rng: ReportRange) -> dict[str, Any]:
    """{"range", "overall": {kind: figures}, "agent"|"team"|"channel": [{"id", "name", kind: figures}]}.

    Figures: count, wall/business {average, median, p90} seconds, sla_met, sla_measured, hit_rate.
    Rows of another workspace never enter: the statement is bounded by workspace_id.
    """
    ws_id = getattr(workspace, "pk", workspace)
    rows = _pg_rows(ws_id, rng) if connection.vendor == "postgresql" else _python_rows(ws_id, rng)
    overall: dict[str, Any] = {}
    by_dim: dict[str, dict[int | None, dict[str, Any]]] = {d: {} for d in DIMENSIONS}
    for kind, dim, key, figures in rows:
        if dim is None:
            overall[kind] = figures
        else:
            by_dim[dim].setdefault(key, {})[kind] = figures
    names = _names(ws_id, {d: {k for k in by_dim[d] if k is not None} for d in DIMENSIONS})
    result: dict[str, Any] = {"range": {"start": rng.start, "end": rng.end, "time_zone": rng.time_zone},
                              "overall": {k: overall.get(k) for k in KINDS}}
    for dim in DIMENSIONS:
        entries: list[dict[str, Any]] = [{"id": key, "name": names[dim].get(key, "") if key is not None else "",
                    **{k: kinds.get(k) for k in KINDS}} for key, kinds in by_dim[dim].items()]
        entries.sort(key=lambda e: (e["id"] is None, e["name"].lower(), e["id"] or 0))
        result[dim] = entries
    return result


# --- per conversation, for the CSV export ------------------------------------------------------------

CSV_COLUMNS = [
    "conversation_id", "customer", "channel", "team", "assignee", "priority", "status", "created_at",
    "first_response_at", "first_response_seconds", "first_response_business_seconds", "first_response_sla_met",
    "responses", "response_average_seconds", "response_average_business_seconds", "responses_sla_missed",
    "resolutions", "resolution_seconds", "resolution_business_seconds", "resolution_sla_met", "sla_policy",
    "breaches",
]


def conversations_csv_rows(*, workspace: Any, rng: ReportRange, chunk: int = 2000) -> Iterator[list[Any]]:
    """One row per conversation with reporting events in the range: its figures in that range.

    The events of the range are summed per conversation in one grouped query, streamed
    in conversation order (constant memory); conversation details come per chunk.
    """
    from django.db.models import Avg, Count, Max, Q, Sum

    from samphan.inbox.models import ReportingEvent

    ws_id = getattr(workspace, "pk", workspace)
    yield CSV_COLUMNS
    in_range = ReportingEvent.objects.filter(workspace_id=ws_id, occurred_at__gte=rng.since,
                                             occurred_at__lt=rng.until)
    first, response, resolution = (Q(kind="first_response"), Q(kind="response"), Q(kind="resolution"))
    # One pass over the range, grouped by conversation and streamed in id order; each chunk of
    # results then fetches its conversations' details in one query.
    sums = (in_range.values("conversation_id").order_by("conversation_id")
            .annotate(fr_s=Max("value_seconds", filter=first), fr_b=Max("business_seconds", filter=first),
                      fr_at=Max("occurred_at", filter=first),
                      fr_met=Count("id", filter=first & Q(sla_met=True)),
                      fr_measured=Count("sla_met", filter=first),
                      responses=Count("id", filter=response), r_s=Avg("value_seconds", filter=response),
                      r_b=Avg("business_seconds", filter=response),
                      r_missed=Count("id", filter=response & Q(sla_met=False)),
                      resolutions=Count("id", filter=resolution),
                      res_s=Sum("value_seconds", filter=resolution),
                      res_b=Sum("business_seconds", filter=resolution),
                      res_missed=Count("id", filter=resolution & Q(sla_met=False)),
                      res_measured=Count("sla_met", filter=resolution)))
    batch: list[Mapping[str, Any]] = []
    for row in sums.iterator(chunk_size=chunk):
        batch.append(row)
        if len(batch) >= chunk:
            yield from _csv_batch(ws_id, batch)
            batch = []
    if batch:
        yield from _csv_batch(ws_id, batch)


def _csv_batch(ws_id: int, batch: list[Mapping[str, Any]]) -> Iterator[list[Any]]:
    from samphan.inbox.models import Conversation
    from samphan.inbox.selectors import customer_display_name
    from samphan.sla.clock import BIT

    conversations = {c["pk"]: c for c in Conversation.objects.filter(
        workspace_id=ws_id, pk__in=[r["conversation_id"] for r in batch])
        .values("pk", "customer_id", "customer__first_name", "customer__last_name", "customer__display_name",
                "customer__email", "customer__phone", "channel_account__name", "team__name", "assignee__email",
                "assignee__display_name", "priority", "status", "created_at", "sla_policy__name", "sla_breaches")}
    for s in batch:
        c = conversations[s["conversation_id"]]
        yield [
            c["pk"], customer_display_name(c), c["channel_account__name"], c["team__name"] or "",
            c["assignee__display_name"] or c["assignee__email"] or "", c["priority"], c["status"],
            c["created_at"].isoformat(),
            s["fr_at"].isoformat() if s["fr_at"] else "", _num(s["fr_s"]), _num(s["fr_b"]),
            _met(s["fr_met"], s["fr_measured"]),
            s["responses"], _num(s["r_s"]), _num(s["r_b"]), s["r_missed"],
            s["resolutions"], _num(s["res_s"]), _num(s["res_b"]),
            _met(s["res_measured"] - s["res_missed"], s["res_measured"]) if s["res_measured"] else "",
            c["sla_policy__name"] or "",
            " ".join(t for t, bit in BIT.items() if c["sla_breaches"] & bit),
        ]


def _num(value: float | None) -> Any:
    return "" if value is None else round(value, 1)


def _met(met: int, measured: int) -> str:
    if not measured:
        return ""
    return "yes" if met == measured else "no"
