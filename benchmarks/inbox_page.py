"""Inbox web pages with a million conversations (PostgreSQL): the list page, the htmx rows the
list reloads, a conversation page and the 5-second change poll.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_inbox_bench \
        .venv/bin/python benchmarks/inbox_list.py --conversations 1000000 --samples 20   # builds the data once
    DATABASE_URL=… .venv/bin/python benchmarks/inbox_page.py --samples 200

Uses the workspace benchmarks/inbox_list.py builds (200,000 customers, 1,000,000 conversations,
12 agents, 4 teams, 3 channels, 8 labels). Signs in an agent with a session and times GET
requests through the whole Django stack in process (session, middleware, view, selectors,
templates, PostgreSQL) with django.test.Client — the server's own time, no socket. Besides
wall-clock time it prints CPU time per request: this thread's plus its PostgreSQL backend's
(/proc/<pid>/schedstat), which a loaded machine barely changes.
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

from benchmarks.request_cpu import CpuClock, pct  # noqa: E402
from samphan.accounts.models import Workspace  # noqa: E402
from samphan.accounts.services import user_create_or_update  # noqa: E402
from samphan.channels.models import ChannelAccount  # noqa: E402
from samphan.inbox.models import Conversation, Label, Message, Team  # noqa: E402

SLUG = "bench-inbox-list"  # built by benchmarks/inbox_list.py


def report(name: str, times: list[float], cpu: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(f"{name:<40} n={len(ms):>4}  p50={pct(ms, 50):7.2f} ms  p95={pct(ms, 95):7.2f} ms  "
          f"mean={statistics.mean(ms):7.2f} ms  | cpu p50={pct(cpu, 50) / 1e6:6.2f} p95={pct(cpu, 95) / 1e6:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run benchmarks/inbox_list.py on PostgreSQL first: it builds the data set")
    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None:
        raise SystemExit(f"no workspace {SLUG}: run benchmarks/inbox_list.py --conversations 1000000 first")
    rng = random.Random(args.seed)
    total = Conversation.objects.filter(workspace=workspace).count()
    print(f"database: {connection.vendor}  workspace: {SLUG}  conversations: {total:,}  "
          f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    agent, _ = user_create_or_update(email="bench-page-agent@bench.local", password="bench-password-123",
                                     workspace=workspace, role="agent")
    client = Client()
    client.force_login(agent)
    base = f"/w/{SLUG}/inbox/"
    assert client.get(base).status_code == 200

    teams = list(Team.objects.filter(workspace=workspace).values_list("pk", flat=True))
    channels = list(ChannelAccount.objects.filter(workspace=workspace).values_list("pk", flat=True))
    labels = list(Label.objects.filter(workspace=workspace).values_list("name", flat=True))
    with connection.cursor() as cur:  # random open conversations to open
        cur.execute("SELECT id FROM inbox_conversation TABLESAMPLE SYSTEM (1) "
                    "WHERE workspace_id = %s AND status = 'open' LIMIT %s", [workspace.pk, args.samples])
        opened = [row[0] for row in cur.fetchall()]
    # The generated conversations have counters but no message rows: give the sampled ones a thread.
    if not Message.objects.filter(conversation_id__in=opened).exists():
        account_of = dict(Conversation.objects.filter(pk__in=opened).values_list("pk", "channel_account_id"))
        Message.objects.bulk_create([
            Message(workspace_id=workspace.pk, conversation_id=pk, channel_account_id=account_of[pk],
                    direction="in" if i % 2 == 0 else "out", text=f"ข้อความที่ {i} ของบทสนทนา #{pk}")
            for pk in opened for i in range(12)])

    scenarios = {
        "list page (open and pending)": lambda: base,
        "list page, status=open&assignee=mine": lambda: base + "?status=open&assignee=mine",
        "list page, team + label": lambda: f"{base}?status=all&team={rng.choice(teams)}&label={rng.choice(labels)}",
        "list page, channel, sort=due": lambda: f"{base}?channel={rng.choice(channels)}&sort=due",
        "list rows (htmx reload)": lambda: base + "?status=active&sort=recent&part=rows",
        "conversation page (12 messages)": lambda: f"{base}c/{rng.choice(opened)}/",
        "poll, list (token changed: 200)": lambda: f"{base}poll/?since=x",
        "poll, open conversation (200)": lambda: f"{base}poll/?since=x&conversation={rng.choice(opened)}",
    }
    htmx = {"HTTP_HX_REQUEST": "true"}
    clock = CpuClock()
    for name, url in scenarios.items():
        times, cpu = [], []
        for _ in range(args.samples):
            target = url()
            c0, t0 = clock.now(), time.perf_counter()
            response = client.get(target, **(htmx if "part=rows" in target or "poll/" in target else {}))
            times.append(time.perf_counter() - t0)
            cpu.append(clock.now() - c0)
            assert response.status_code in (200, 204), (target, response.status_code)
        report(name, times, cpu)


if __name__ == "__main__":
    main()
