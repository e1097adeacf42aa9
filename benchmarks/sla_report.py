"""Response-time report on a million conversations' reporting events (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_sla_bench .venv/bin/samphan migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_sla_bench \
        .venv/bin/python benchmarks/sla_report.py --conversations 1000000 --samples 5

Builds once (--reuse skips it) a workspace with 100,000 customers and
1,000,000 conversations over the last 365 days, 12 agents, 4 teams, 3
channels, and their reporting events as the inbox writes them: a first
response for every conversation, a next response for half of them, a
resolution for 80 % — about 2.3 million rows, each with wall-clock and
business seconds and an SLA outcome — inserted with generate_series, then
VACUUM ANALYZE. The business seconds are a share of the wall-clock ones here:
the report only sums what is stored.

Then times the report (count, average, median and p90 in wall-clock and
business time, and the SLA hit rate, per kind, overall and per agent, team and
channel) through the real API (GET /api/sla/report, in process) for 7, 30, 90
and 365-day ranges, and the per-conversation CSV for 30 days. Also prints the
business-time calculator's cost per call (Monday–Friday 09:00–18:00, Bangkok).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.accounts.services import api_token_create, user_create_or_update, workspace_create  # noqa: E402
from samphan.channels.services import channel_account_create  # noqa: E402
from samphan.inbox.models import ReportingEvent  # noqa: E402
from samphan.inbox.services import team_create  # noqa: E402
from samphan.sla.calendar import BusinessCalendar  # noqa: E402

SLUG = "bench-sla-report"


def build(workspace: Workspace, *, conversations: int, customers: int) -> None:
    agents = [user_create_or_update(email=f"agent{i}@bench.local", password="bench-password-123",
                                    workspace=workspace, role="agent")[0] for i in range(12)]
    teams = [team_create(workspace=workspace, name=name) for name in ("Sales", "Support", "ทีมไทย", "VIP")]
    accounts = [channel_account_create(workspace=workspace, provider="fake", name=f"Channel {i}",
                                       secrets={"signing_secret": "x"}) for i in range(3)]
    ws = workspace.pk
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO customers_customer (created_at, updated_at, first_name, last_name, display_name, email,
                phone, language, gender, city, attributes, search_text, workspace_id)
            SELECT now(), now(), 'ลูกค้า', 'หมายเลข ' || g, '', 'c' || g || '@bench.local', '', 'th', '', '', '{}',
                   'ลูกค้า หมายเลข ' || g, %s
            FROM generate_series(1, %s) g""", [ws, customers])
        cur.execute("SELECT min(id) FROM customers_customer WHERE workspace_id = %s", [ws])
        first_customer = cur.fetchone()[0]
        cur.execute("""
            INSERT INTO inbox_conversation (thread_key, contact_id, status, message_count, last_message_at,
                last_message_preview, last_message_direction, created_at, updated_at, assignee_id,
                channel_account_id, customer_id, workspace_id, team_id, priority, sla_breaches)
            SELECT 'bench-' || g, 'bench-' || g, CASE WHEN g %% 5 = 0 THEN 'open' ELSE 'resolved' END,
                   3, at, 'สวัสดีค่ะ', 'out', at, at, (%s::bigint[])[1 + g %% 13], (%s::bigint[])[1 + g %% 3],
                   %s + (g %% %s), %s, (%s::bigint[])[1 + g %% 5], 'normal', 0
            FROM (SELECT g, now() - (random() * interval '365 days') AS at FROM generate_series(1, %s) g) s""",
                    [[a.pk for a in agents] + [None], [a.pk for a in accounts], first_customer, customers, ws,
                     [tm.pk for tm in teams] + [None], conversations])
        print(f"  {conversations:,} conversations in {time.perf_counter() - t:.0f} s", flush=True)
    build_events(workspace)


def build_events(workspace: Workspace) -> None:
    ws = workspace.pk
    t = time.perf_counter()
    with connection.cursor() as cur:
        # first response: 1 min – 8 h; next response (every other conversation): 1 min – 4 h;
        # resolution (80 %): 10 min – 3 days. Business seconds: 30–100 % of the wall-clock ones.
        cur.execute("""
            INSERT INTO inbox_reportingevent (workspace_id, conversation_id, kind, started_at, occurred_at,
                value_seconds, business_seconds, agent_id, team_id, channel_account_id, due_at, sla_met)
            SELECT c.workspace_id, c.id, e.kind, c.created_at, c.created_at + e.wall * interval '1 second',
                   e.wall, e.wall * (0.3 + 0.7 * random()), c.assignee_id, c.team_id, c.channel_account_id,
                   c.created_at + e.target * interval '1 second', e.wall * 0.65 <= e.target
            FROM inbox_conversation c
            CROSS JOIN LATERAL (VALUES
                ('first_response', 60 + random() * 28740, 1800.0, true),
                ('response', 60 + random() * 14340, 3600.0, c.id %% 2 = 0),
                ('resolution', 600 + random() * 258600, 86400.0, c.status = 'resolved')
            ) AS e(kind, wall, target, present)
            WHERE c.workspace_id = %s AND e.present""", [ws])
        cur.execute("SELECT count(*) FROM inbox_reportingevent WHERE workspace_id = %s", [ws])
        print(f"  {cur.fetchone()[0]:,} reporting events in {time.perf_counter() - t:.0f} s", flush=True)
    with connection.cursor() as cur:
        for table in ("customers_customer", "inbox_conversation", "inbox_reportingevent"):
            cur.execute(f"VACUUM ANALYZE {table}")


def timed(fn, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def calculator_cost(calls: int) -> float:
    cal = BusinessCalendar(time_zone="Asia/Bangkok", week=(((9 * 3600, 18 * 3600),),) * 5 + ((), ()))
    rnd = random.Random(3)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    spans = [(base + timedelta(seconds=rnd.uniform(0, 300 * 86400)), timedelta(seconds=rnd.uniform(60, 3 * 86400)))
             for _ in range(calls)]
    start = time.perf_counter()
    for a, d in spans:
        cal.business_seconds(a, a + d)
        cal.add_business_seconds(a, 1800)
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="use the workspace built by an earlier run")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark builds its data with PostgreSQL's generate_series")

    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None or not args.reuse:
        if workspace is not None:
            raise SystemExit(f"workspace {SLUG} exists: pass --reuse, or drop the database")
        workspace = workspace_create(slug=SLUG, name="SLA report benchmark")
        print("building the data set…", flush=True)
        build(workspace, conversations=args.conversations, customers=args.customers)
    elif not ReportingEvent.objects.filter(workspace=workspace).exists():
        print("adding the reporting events to the conversations of an earlier run…", flush=True)
        build_events(workspace)
    events = ReportingEvent.objects.filter(workspace=workspace).count()
    print(f"database: {connection.vendor}  workspace: {SLUG}  reporting events: {events:,}  "
          f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    user, _ = user_create_or_update(email="bench-owner@bench.local", password="bench-password-123",
                                    workspace=workspace, role="owner")
    _, token = api_token_create(user=user, workspace=workspace, name="benchmark")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    client.get("/api/me")
    today = datetime.now(UTC).date()
    for days in (7, 30, 90, 365):
        params = {"start": (today - timedelta(days=days - 1)).isoformat(), "end": today.isoformat()}
        first = client.get("/api/sla/report", params).json()
        assert "overall" in first, first
        n = sum((first["overall"][k] or {}).get("count", 0) for k in first["overall"])
        times = timed(lambda p=params: client.get("/api/sla/report", p), args.samples)
        print(f"GET /api/sla/report  {days:>3} days  {n:>9,} events  median {statistics.median(times):6.3f} s  "
              f"max {max(times):6.3f} s")
    params = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    start = time.perf_counter()
    response = client.get("/api/sla/report/conversations.csv", params)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    elapsed = time.perf_counter() - start
    print(f"GET /api/sla/report/conversations.csv  30 days  {lines:,} conversations  {elapsed:.2f} s "
          f"({lines / elapsed:,.0f} rows/s)")
    per_call = calculator_cost(20000)
    print(f"business-time calculator: {per_call * 1e6:.1f} µs per (elapsed + due) pair, spans 1 min – 3 days")


if __name__ == "__main__":
    main()
