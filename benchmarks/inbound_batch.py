"""One ingest batch at a time, in this process: queries per batch and CPU per message (no broker, no worker).

    createdb -h 127.0.0.1 -U postgres samphan_inbox_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_inbox_bench \
        .venv/bin/python benchmarks/inbound_batch.py --migrate --messages 5000 --senders 1000 [--new-senders] [--profile]

What it does: stores N signed LINE webhook bodies (one message event each) as
the webhook view would, then calls `channels.processing.process_pending` — the
worker's unit of work — until none is left, counting the SQL statements of each
batch and the CPU time of this process and of its PostgreSQL backend
(/proc/<backend pid>/stat; both machines are this machine). It isolates the
per-message cost of ingest from Celery and the broker, which
`inbound_throughput.py` measures end to end. `--profile` prints the top of a
cProfile of the processing (cumulative time).

--new-senders: every sender is unknown (its first message creates a customer,
its identity, an audit entry and a conversation); otherwise the senders are
known customers with an open conversation (the steady state).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
import uuid

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

# The stored bodies, the senders and the /proc reading are the end-to-end benchmark's (which sets Django up).
from inbound_throughput import SECRET, process_cpu, seed_senders, webhook_rows

from samphan.accounts.models import Workspace
from samphan.channels.models import WebhookEvent
from samphan.channels.processing import BATCH_SIZE, process_pending
from samphan.channels.services import channel_account_create
from samphan.inbox.models import Message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=1000)
    parser.add_argument("--new-senders", action="store_true")
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.migrate:
        call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    workspace = Workspace.objects.create(slug=f"bench-batch-{run}", name="Inbound batch benchmark")
    account = channel_account_create(workspace=workspace, provider="line", name="Bench OA",
                                     secrets={"channel_secret": SECRET, "access_token": "x"})
    users = seed_senders(workspace, account, args.senders, known=not args.new_senders)
    rows = webhook_rows(workspace, account, users, args.messages)
    WebhookEvent.objects.bulk_create(rows, batch_size=2000)
    ids = list(WebhookEvent.objects.filter(channel_account=account).values_list("id", flat=True))
    process_pending(limit=1, only=ids[:1])  # warm up: imports, the sentiment model, the account's adapter
    backend = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else None
    print(f"database: {connection.vendor}  messages: {args.messages:,}  senders: {args.senders:,} "
          f"({'new' if args.new_senders else 'known, with open conversations'})  batch: {BATCH_SIZE}  "
          f"load average: {os.getloadavg()[0]:.1f}")
    profiler = cProfile.Profile() if args.profile else None
    queries: list[int] = []
    cpu0, db0, t0 = time.process_time(), process_cpu(backend) if backend else 0.0, time.perf_counter()
    while True:
        with CaptureQueriesContext(connection) as captured:
            if profiler:
                profiler.enable()
            result = process_pending(limit=BATCH_SIZE, only=ids)
            if profiler:
                profiler.disable()
        if not result.claimed:
            break
        queries.append(len(captured))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    db = (process_cpu(backend) - db0) if backend else 0.0
    messages = Message.objects.filter(channel_account=account).count()
    failed = WebhookEvent.objects.filter(channel_account=account, status="failed").count()
    per = (cpu + db) / max(messages - 1, 1)
    print(f"{len(queries)} batches, SQL statements per batch: {sorted(set(queries))} "
          f"(max {max(queries) if queries else 0}); {messages:,} messages, {failed} failed events")
    print(f"cpu: process {cpu:.2f} s + PostgreSQL backend {db:.2f} s = {per * 1000:.3f} ms per message "
          f"(process {cpu / max(messages - 1, 1) * 1000:.3f} ms); wall {wall:.2f} s = "
          f"{(messages - 1) / wall:,.0f} messages/s at load average {os.getloadavg()[0]:.1f}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
        print(out.getvalue())
    assert messages == args.messages and failed == 0


if __name__ == "__main__":
    main()
