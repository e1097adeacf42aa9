"""Inbox list latency with a million conversations (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_inbox_bench \
        .venv/bin/python benchmarks/inbox_list.py --conversations 1000000 --samples 300

Builds (once; --reuse skips it when the workspace exists) a workspace with
200,000 customers and 1,000,000 conversations spread over two years: 15 %
open, 5 % pending, 80 % resolved; 12 agents, 4 teams, 3 channel accounts, 8
labels on 5 % of conversations — inserted with generate_series, then ANALYZE.

Then times GET /api/inbox/conversations through the real Django stack in
process (token auth, middleware, ninja, serialisation, PostgreSQL) with
django.test.Client — the server's own time, no socket — for the first page and
for deep pages (a cursor taken at a random conversation), per filter.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
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
from samphan.channels.models import ChannelAccount  # noqa: E402
from samphan.channels.services import channel_account_create  # noqa: E402
from samphan.inbox.models import Conversation, Label, Team  # noqa: E402
from samphan.inbox.selectors import encode_cursor  # noqa: E402
from samphan.inbox.services import label_get_or_create, team_create  # noqa: E402

SLUG = "bench-inbox-list"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def report(name: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"{name:<44} n={len(ms):>4}  p50={pct(ms, 50):7.2f} ms  p95={pct(ms, 95):7.2f} ms  "
          f"p99={pct(ms, 99):7.2f} ms  mean={statistics.mean(ms):7.2f} ms")


def build(workspace: Workspace, *, conversations: int, customers: int) -> None:
    agents = [user_create_or_update(email=f"agent{i}@bench.local", password="bench-password-123",
                                    workspace=workspace, role="agent")[0] for i in range(12)]
    teams = [team_create(workspace=workspace, name=name) for name in ("Sales", "Support", "ทีมไทย", "VIP")]
    accounts = [channel_account_create(workspace=workspace, provider="fake", name=f"Channel {i}",
                                       secrets={"signing_secret": "x"}) for i in range(3)]
    labels = [label_get_or_create(workspace=workspace, name=name) for name in
              ("VIP", "ร้องเรียน", "refund", "order", "delivery", "ขอใบกำกับภาษี", "wholesale", "spam")]
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
        print(f"  {customers:,} customers in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        cur.execute("""
            INSERT INTO inbox_conversation (thread_key, contact_id, status, message_count, last_message_at,
                last_message_preview, last_message_direction, last_inbound_at, waiting_since, created_at,
                updated_at, assignee_id, channel_account_id, customer_id, workspace_id, team_id, priority,
                sla_breaches)
            SELECT 'bench-' || g, 'bench-' || g,
                   CASE WHEN g %% 20 < 3 THEN 'open' WHEN g %% 20 = 3 THEN 'pending' ELSE 'resolved' END,
                   1 + g %% 25, at, 'สวัสดีค่ะ สอบถามเรื่องการสั่งซื้อ #' || g, 'in', at,
                   CASE WHEN g %% 20 < 3 THEN at END, at - interval '1 hour', at,
                   (%s::bigint[])[1 + g %% 13], (%s::bigint[])[1 + g %% 3], %s + (g %% %s), %s,
                   (%s::bigint[])[1 + g %% 5], 'normal', 0
            FROM (SELECT g, now() - (random() * interval '730 days') AS at FROM generate_series(1, %s) g) s""",
                    [[a.pk for a in agents] + [None], [a.pk for a in accounts], first_customer, customers, ws,
                     [tm.pk for tm in teams] + [None], conversations])
        print(f"  {conversations:,} conversations in {time.perf_counter() - t:.0f} s")
        cur.execute("""
            INSERT INTO inbox_conversationlabel (conversation_id, label_id, workspace_id)
            SELECT id, (%s::bigint[])[1 + (id / 20) %% 8], %s FROM inbox_conversation
            WHERE workspace_id = %s AND id %% 20 = 0""", [[lb.pk for lb in labels], ws, ws])
        for table in ("customers_customer", "inbox_conversation", "inbox_conversationlabel"):
            cur.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="use the workspace built by an earlier run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark builds its data with PostgreSQL's generate_series")
    rng = random.Random(args.seed)

    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None or not args.reuse:
        if workspace is not None:
            raise SystemExit(f"workspace {SLUG} exists: pass --reuse, or drop the database")
        workspace = workspace_create(slug=SLUG, name="Inbox list benchmark")
        print("building the data set…")
        build(workspace, conversations=args.conversations, customers=args.customers)
    total = Conversation.objects.filter(workspace=workspace).count()
    print(f"database: {connection.vendor}  workspace: {SLUG}  conversations: {total:,}  "
          f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    user, _ = user_create_or_update(email="bench-owner@bench.local", password="bench-password-123",
                                    workspace=workspace, role="owner")
    _, token = api_token_create(user=user, workspace=workspace, name="benchmark")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    client.get("/api/me")

    agents = list(Conversation.objects.filter(workspace=workspace, assignee__isnull=False)
                  .values_list("assignee_id", flat=True).distinct()[:12])
    teams = list(Team.objects.filter(workspace=workspace).values_list("pk", flat=True))
    channels = list(ChannelAccount.objects.filter(workspace=workspace).values_list("pk", flat=True))
    labels = list(Label.objects.filter(workspace=workspace).values_list("name", flat=True))
    with connection.cursor() as cur:  # random conversations for deep-page cursors
        cur.execute("SELECT last_message_at, id FROM inbox_conversation TABLESAMPLE SYSTEM (1) "
                    "WHERE workspace_id = %s LIMIT %s", [workspace.pk, args.samples])
        cursors = [encode_cursor(at, pk) for at, pk in cur.fetchall()]

    scenarios = {
        "all statuses, first page": dict,
        "status=open, first page": lambda: {"status": "open"},
        "status=resolved, deep page (random cursor)": lambda: {"status": "resolved", "cursor": rng.choice(cursors)},
        "all, deep page (random cursor)": lambda: {"cursor": rng.choice(cursors)},
        "assignee=<agent>&status=open": lambda: {"assignee": rng.choice(agents), "status": "open"},
        "assignee=none&status=open": lambda: {"assignee": "none", "status": "open"},
        "team=<team>": lambda: {"team": rng.choice(teams)},
        "channel=<account>&status=pending": lambda: {"channel": rng.choice(channels), "status": "pending"},
        "label=<label> (0.6 % each)": lambda: {"label": rng.choice(labels)},
        "label=<label>&status=open": lambda: {"label": rng.choice(labels), "status": "open"},
    }
    everything = []
    for name, params in scenarios.items():
        times = []
        for _ in range(args.samples):
            query = {"limit": 25, **params()}
            start = time.perf_counter()
            response = client.get("/api/inbox/conversations", query)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.content[:300]
        report(name, times)
        everything += times
    report("all scenarios", everything)


if __name__ == "__main__":
    main()
