"""Web-chat message acknowledgement and transcript polling, many visitors at once, against `samphan serve`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_webchat_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 CACHE_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python benchmarks/webchat_ack.py --visitors 200 --duration 20 --workers 2 --threads 8

What is measured: each of `--visitors` simulated widgets (asyncio + httpx, one
keep-alive connection each, its own signed visitor token in X-Samphan-Visitor,
an allowed Origin) alternates a POST of a new message (origin check, signed
visitor, rate-limit counters in the cache, the transcript line + webhook event
INSERTs in one transaction, the after-commit enqueue) and a GET of its
transcript (the poll), in a closed loop. Prints p50/p90/p99 for both and the
throughput. No worker runs (processing does not compete for the CPU); the
rate limits are lifted for the run (one address sends everything). The rows
written are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.webhook_ack import cpu_of, free_port, pct, tree  # noqa: E402
from samphan.accounts.models import Workspace  # noqa: E402
from samphan.channels.models import WebchatMessage, WebhookEvent  # noqa: E402
from samphan.channels.services import channel_account_create, kick_reset  # noqa: E402
from samphan.channels.webchat.visitor import HEADER, new_visitor_id, visitor_token  # noqa: E402

ORIGIN = "https://shop.example"
TEXTS = ["สวัสดีค่ะ มีเมล็ดกาแฟคั่วกลางไหมคะ", "ส่งต่างจังหวัดกี่วันคะ", "Do you ship to Chiang Mai?"]


async def run(base: str, key: str, account, args) -> None:
    import httpx

    post_ms: list[float] = []
    poll_ms: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + args.duration

    async def visitor(n: int) -> None:
        token = visitor_token(account, new_visitor_id())
        headers = {"Origin": ORIGIN, HEADER: token}
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=headers) as client:
            i = 0
            while time.perf_counter() < deadline:
                i += 1
                start = time.perf_counter()
                r = await client.post(f"/webchat/{key}/messages",
                                      json={"client_id": f"b{n}-{i}", "text": TEXTS[i % len(TEXTS)], "lang": "th"})
                post_ms.append((time.perf_counter() - start) * 1000)
                statuses[f"POST {r.status_code}"] = statuses.get(f"POST {r.status_code}", 0) + 1
                start = time.perf_counter()
                r = await client.get(f"/webchat/{key}/messages", params={"after": 0})
                poll_ms.append((time.perf_counter() - start) * 1000)
                statuses[f"GET {r.status_code}"] = statuses.get(f"GET {r.status_code}", 0) + 1

    await asyncio.gather(*(visitor(n) for n in range(args.visitors)))
    print(f"{args.visitors} visitors, {args.duration}s closed loop: {len(post_ms):,} messages "
          f"({len(post_ms) / args.duration:,.0f}/s) and {len(poll_ms):,} polls; statuses {statuses}")
    print(f"message ack ms: p50 {pct(post_ms, 50):.1f}  p90 {pct(post_ms, 90):.1f}  p99 {pct(post_ms, 99):.1f}  "
          f"max {max(post_ms):.1f}")
    print(f"poll ms:        p50 {pct(poll_ms, 50):.1f}  p90 {pct(poll_ms, 90):.1f}  p99 {pct(poll_ms, 99):.1f}  "
          f"max {max(poll_ms):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:8]
    workspace = Workspace.objects.create(slug=f"bench-webchat-{run_id}", name="Web chat benchmark")
    account = channel_account_create(workspace=workspace, provider="webchat", name="Bench site", secrets={},
                                     config={"allowed_origins": [ORIGIN]})
    kick_reset()
    port = free_port()
    lifted = "1000000/m"
    env = {**os.environ, "SECRET_KEY": settings.SECRET_KEY, "SAMPHAN_WEBCHAT_RATE_VISITOR": lifted,
           "SAMPHAN_WEBCHAT_RATE_IP": lifted, "SAMPHAN_WEBCHAT_RATE_POLL": lifted}
    server = subprocess.Popen([sys.executable, "-m", "samphan.cli", "serve", "--port", str(port), "--workers",
                               str(args.workers), "--threads", str(args.threads)], cwd=REPO, env=env,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        print(f"$ {' '.join(sys.argv)}")
        print(f"database: {connection.vendor}  broker: {settings.CELERY_BROKER_URL.split('@')[-1]}  "
              f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}  gunicorn: {args.workers} workers "
              f"x {args.threads} threads  cores: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.1f}")
        warm = {"Origin": ORIGIN, HEADER: visitor_token(account, new_visitor_id()), "Content-Type": "application/json"}
        for i in range(60):  # every gunicorn worker loads the app and opens its connections first
            req = urllib.request.Request(f"{base}/webchat/{account.uuid}/messages", headers=warm,
                                         data=f'{{"client_id": "warm{i}", "text": "warm-up"}}'.encode())
            urllib.request.urlopen(req, timeout=30).close()
            urllib.request.urlopen(urllib.request.Request(f"{base}/webchat/{account.uuid}/messages",
                                                          headers=warm), timeout=30).close()
        web_before = cpu_of(tree(server.pid))
        stored_before = WebhookEvent.objects.filter(channel_account=account).count()
        asyncio.run(run(base, str(account.uuid), account, args))
        stored = WebhookEvent.objects.filter(channel_account=account).count() - stored_before
        web_cpu = cpu_of(tree(server.pid)) - web_before
        print(f"web server cpu per message+poll pair: {web_cpu / max(stored, 1) * 1000:.2f} ms "
              f"(the load generator shares the machine)")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(30)
        WebchatMessage.objects.filter(channel_account=account).delete()
        WebhookEvent.objects.filter(channel_account=account).delete()
        print("rows written by the run deleted")
        kick_reset()


if __name__ == "__main__":
    main()
