"""Sustained inbound processing: stored LINE webhooks → customers, conversations, messages, by a real worker.

    createdb -h 127.0.0.1 -U postgres samphan_inbox_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_inbox_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 CACHE_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python benchmarks/inbound_throughput.py --migrate --messages 20000 --senders 2000

What it does: stores N signed LINE webhook bodies (one message event each, as
LINE sends them) exactly as the webhook view would (status "received"), starts
`samphan worker` (solo pool; --workers N processes share the queue through
SKIP LOCKED), calls `webhook_enqueue(event_id)` for each event — what the view
does after each commit (a task is sent unless enough are already queued; web
and worker share the cache that says so: CACHE_URL) — and measures until every
event is processed. Throughput = messages / (last processed − first enqueue).

--new-senders makes every sender unknown (each first message creates a
customer, its identity, an audit entry and a conversation); by default the
senders are known customers with an open conversation (the steady state).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.channels.models import WebhookEvent  # noqa: E402
from samphan.channels.services import channel_account_create, kick_reset, webhook_enqueue  # noqa: E402
from samphan.customers.models import Customer, Identity  # noqa: E402
from samphan.inbox.models import Conversation, Message  # noqa: E402

SECRET = "bench-channel-secret-0123456789ab"
TEXTS = ["สวัสดีค่ะ สั่งกาแฟเย็นสองแก้วค่ะ", "Is the shop open today?", "ส่งต่างจังหวัดได้ไหมครับ",
         "ขอบคุณมากค่ะ", "How much is the cold brew?", "โอนเงินแล้วนะคะ"]


def line_body(n: int, user: str, ts: int) -> bytes:
    event = {"type": "message", "mode": "active", "timestamp": ts,
             "source": {"type": "user", "userId": user},
             "webhookEventId": f"01BENCH{uuid.uuid4().hex[:19].upper()}",
             "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
             "message": {"type": "text", "id": str(10**17 + n), "quoteToken": f"q{n}", "text": TEXTS[n % len(TEXTS)]}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def seed_senders(workspace, account, count: int, *, known: bool) -> list[str]:
    """LINE user ids of `count` senders; known ones get a customer, an identity and an open conversation."""
    users = [f"U{uuid.uuid4().hex}" for _ in range(count)]
    if known:
        customers = Customer.objects.bulk_create([Customer(workspace=workspace, display_name=f"ลูกค้า {i}")
                                                  for i in range(count)], batch_size=2000)
        Identity.objects.bulk_create([Identity(workspace=workspace, customer=c, kind="line", value=u)
                                      for c, u in zip(customers, users, strict=True)], batch_size=2000)
        Conversation.objects.bulk_create([Conversation(workspace=workspace, channel_account=account, customer=c,
                                                       thread_key=u, contact_id=u)
                                          for c, u in zip(customers, users, strict=True)], batch_size=2000)
    return users


def webhook_rows(workspace, account, users: list[str], messages: int) -> list[WebhookEvent]:
    """Unsaved webhook rows as the view stores them: one signed LINE message event each, senders in turn."""
    base_ts = int(time.time() * 1000)
    rows = []
    for n in range(messages):
        body = line_body(n, users[n % len(users)], base_ts + n)
        sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        rows.append(WebhookEvent(workspace=workspace, channel_account=account, body=body,
                                 headers={"content-type": "application/json", "x-line-signature": sig}))
    return rows


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(dbname: str, own: int) -> list[int]:
    """PostgreSQL backends serving `dbname` on this machine, except our own polling connection."""
    needle = f" {dbname} ".encode()
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        if cmd.startswith(b"postgres:") and needle in cmd and int(pid) != own:
            pids.append(int(pid))
    return pids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--senders", type=int, default=2000)
    parser.add_argument("--new-senders", action="store_true", help="every sender unknown: first contact")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (solo pool each)")
    parser.add_argument("--migrate", action="store_true")
    args = parser.parse_args()
    if args.migrate:
        call_command("migrate", verbosity=0)
    broker = settings.CELERY_BROKER_URL
    print(f"database: {connection.vendor}  broker: {broker.split('@')[-1]}  messages: {args.messages:,}  "
          f"senders: {args.senders:,} ({'new' if args.new_senders else 'known, with open conversations'})  "
          f"workers: {args.workers}")

    run = uuid.uuid4().hex[:8]
    workspace = Workspace.objects.create(slug=f"bench-in-{run}", name="Inbound benchmark")
    account = channel_account_create(workspace=workspace, provider="line", name="Bench OA",
                                     secrets={"channel_secret": SECRET, "access_token": "x"})
    users = seed_senders(workspace, account, args.senders, known=not args.new_senders)

    queue = f"bench-inbound-{run}"  # the worker's name; tasks use the default queue of this broker
    kick_reset()
    env = {**os.environ, "SECRET_KEY": settings.SECRET_KEY, "WORKER_LOGLEVEL": "warning"}
    workers = [subprocess.Popen([sys.executable, "-m", "samphan.cli", "worker", "--pool", "solo", "--concurrency",
                                 "1", "--hostname", f"{queue}-{i}@%h", "--loglevel", "warning"],
                                cwd=REPO, env=env, start_new_session=True) for i in range(args.workers)]
    try:
        time.sleep(6)  # worker start-up (its start-up sweep finds nothing)
        rows = webhook_rows(workspace, account, users, args.messages)
        start = time.perf_counter()
        WebhookEvent.objects.bulk_create(rows, batch_size=2000)
        ids = list(WebhookEvent.objects.filter(channel_account=account).values_list("id", flat=True))
        stored = time.perf_counter() - start
        worker_cpu_before = sum(process_cpu(w.pid) for w in workers)
        t0 = time.perf_counter()
        enqueue_time: list[float] = []

        def enqueue_all() -> None:
            for event_id in ids:  # what the view does after each commit
                webhook_enqueue(event_id)
            enqueue_time.append(time.perf_counter() - t0)
            connection.close()

        own = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else -1
        db_seen: dict[int, float] = {}
        db_before = {pid: process_cpu(pid) for pid in backend_pids(connection.settings_dict["NAME"], own)}

        def sample_db() -> None:
            for pid in backend_pids(connection.settings_dict["NAME"], own):
                db_seen[pid] = process_cpu(pid)

        sender = threading.Thread(target=enqueue_all)
        sender.start()
        last_report = last_sample = t0
        while WebhookEvent.objects.filter(channel_account=account, status="received").exists():
            time.sleep(0.05)
            if time.perf_counter() - last_sample > 0.5:
                sample_db()  # backends may come and go: keep the last reading of each
                last_sample = time.perf_counter()
            if time.perf_counter() - last_report > 5:
                done = WebhookEvent.objects.filter(channel_account=account).exclude(status="received").count()
                print(f"  … {done:,} processed after {time.perf_counter() - t0:.1f} s")
                last_report = time.perf_counter()
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker exited")
        elapsed = time.perf_counter() - t0
        worker_cpu = sum(process_cpu(w.pid) for w in workers) - worker_cpu_before
        sample_db()
        db_cpu = sum(v - db_before.get(pid, 0.0) for pid, v in db_seen.items())
        sender.join()
        enqueued = enqueue_time[0]
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
    processed = WebhookEvent.objects.filter(channel_account=account, status="processed").count()
    failed = WebhookEvent.objects.filter(channel_account=account, status="failed").count()
    messages = Message.objects.filter(channel_account=account).count()
    conversations = Conversation.objects.filter(channel_account=account).count()
    print(f"stored {args.messages:,} webhook rows in {stored:.1f} s; {len(ids):,} webhook_enqueue calls took "
          f"{enqueued:.1f} s (concurrently with processing)")
    print(f"processed {processed:,} events ({failed} failed) → {messages:,} messages in {conversations:,} "
          f"conversations in {elapsed:.2f} s = {messages / elapsed:,.0f} messages/s")
    per_message = (worker_cpu + db_cpu) / messages
    print(f"cpu: worker {worker_cpu:.1f} s + PostgreSQL backends {db_cpu:.1f} s = {per_message * 1000:.2f} ms per "
          f"message → ≈ {os.cpu_count() / per_message:,.0f} messages/s if the {os.cpu_count()} cores were ours "
          f"(load average now {os.getloadavg()[0]:.1f})")
    assert messages == args.messages and failed == 0


if __name__ == "__main__":
    main()
