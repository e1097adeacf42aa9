"""Webhook acknowledgement latency: 200 concurrent LINE senders against `samphan serve`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_inbox_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 CACHE_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python benchmarks/webhook_ack.py --connections 200 --duration 30 --workers 2 --threads 8

What is measured: the time from sending a signed LINE webhook (distinct body
and webhookEventId per request, real x-line-signature) to its 200 — signature
check, the WebhookEvent INSERT, the after-commit enqueue — through gunicorn,
the Django stack and the database. No worker runs, so processing does not
compete for the CPU; stored events are deleted afterwards.

Load: `wrk` (Debian's, if installed: --client wrk, the default) holding
`--connections` keep-alive connections in a closed loop, or an asyncio + httpx
generator (--client httpx). A closed loop with 200 senders measures latency at
saturation: p99 is then about 200 / throughput. `--rate R` (httpx only) sends
R requests/s spread over the connections instead (open loop), which is how
LINE actually delivers. The load generator runs on the same machine.

`--in-process N` measures instead the CPU per webhook of the WSGI application
itself (this process + its PostgreSQL backend), for the webhook path and for the
same request through the full middleware stack: the figure a loaded machine
barely changes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
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

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.channels.models import WebhookEvent  # noqa: E402
from samphan.channels.services import channel_account_create, kick_reset  # noqa: E402

SECRET = "bench-ack-secret-0123456789abcdef"


def body_for(n: int) -> bytes:
    event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
             "source": {"type": "user", "userId": f"U{n % 5000:032x}"},
             "webhookEventId": f"01ACK{uuid.uuid4().hex[:21].upper()}", "deliveryContext": {"isRedelivery": False},
             "replyToken": uuid.uuid4().hex,
             "message": {"type": "text", "id": str(10**17 + n), "quoteToken": f"q{n}",
                         "text": "สวัสดีค่ะ ขอสอบถามเรื่องการจัดส่งค่ะ"}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def tree(root: int) -> list[int]:
    """The process and its children (gunicorn's workers), from /proc."""
    pids, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                        pids.append(int(pid))
                        frontier.append(int(pid))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def backends(dbname: str) -> list[int]:
    needle = f" {dbname} ".encode()
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ")
        except OSError:
            continue
        if cmd.startswith(b"postgres:") and needle in cmd:
            out.append(int(pid))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wrk(url: str, args, bodies: list[bytes]) -> None:
    lua = ["bodies = {}", "sigs = {}"]
    for i, body in enumerate(bodies, start=1):
        lua.append(f"bodies[{i}] = [==[{body.decode()}]==]")  # raw UTF-8: Lua 5.1 has no \\u escapes
        lua.append(f'sigs[{i}] = "{signature(body)}"')
    if args.think:
        # Each connection waits a random 0-2×think ms after an answer before its next request:
        # 200 senders at about 1/think requests/s each, an open-ish loop wrk measures in C (wrk
        # times a request from its sending, so the pause is not counted).
        lua.append(f"delay = function() return math.random(0, {2 * args.think}) end")
    lua.append(f"n = {len(bodies)}\ncounter = 0\n"
               "request = function()\n  counter = counter + 1\n  local i = (counter % n) + 1\n"
               '  return wrk.format("POST", nil, {["Content-Type"] = "application/json", '
               '["x-line-signature"] = sigs[i]}, bodies[i])\nend\n'
               "done = function(summary, latency, requests)\n"
               '  io.write(string.format("P50 %d\\nP90 %d\\nP99 %d\\nP999 %d\\nMAX %d\\nMEAN %f\\n", '
               "latency:percentile(50), latency:percentile(90), latency:percentile(99), "
               "latency:percentile(99.9), latency.max, latency.mean))\n"
               '  io.write(string.format("NON2XX %d\\nERRORS %d\\nREQS %d\\n", summary.errors.status, '
               "summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, "
               "summary.requests))\nend\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lua))
        script = f.name
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
           "-s", script, url]
    print("$", " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    out = done.stdout
    if "REQS" not in out:
        raise SystemExit(f"wrk failed:\n{out}\n{done.stderr}")
    os.unlink(script)
    stats = dict(re.findall(r"^(P50|P90|P99|P999|MAX|MEAN|NON2XX|ERRORS|REQS) ([\d.]+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    us = {k: float(v) / 1000 for k, v in stats.items() if k in ("P50", "P90", "P99", "P999", "MAX", "MEAN")}
    print(f"wrk: {int(stats['REQS']):,} requests, {float(rps.group(1)) if rps else 0:,.0f} req/s, "
          f"non-2xx {stats['NON2XX']}, socket errors {stats['ERRORS']}")
    print(f"ack latency ms: p50 {us['P50']:.1f}  p90 {us['P90']:.1f}  p99 {us['P99']:.1f}  "
          f"p99.9 {us['P999']:.1f}  max {us['MAX']:.1f}  mean {us['MEAN']:.1f}")


async def run_httpx(url: str, args, bodies: list[bytes]) -> None:
    import httpx

    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[int | str, int] = {}
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    deadline = time.perf_counter() + args.duration
    counter = iter(range(10**9))

    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        async def one(scheduled: float | None = None) -> None:
            body = bodies[next(counter) % len(bodies)]
            start = time.perf_counter()
            if scheduled is not None:  # open loop: how late the generator itself sent this one
                lags.append(start - scheduled)
            try:
                r = await client.post(url, content=body, headers={"content-type": "application/json",
                                                                   "x-line-signature": signature(body)})
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - start)

        if args.rate:
            tasks = []
            interval = 1 / args.rate
            next_at = time.perf_counter()
            while time.perf_counter() < deadline:
                tasks.append(asyncio.create_task(one(next_at)))
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            await asyncio.gather(*tasks)
        else:
            async def sender() -> None:
                while time.perf_counter() < deadline:
                    await one()

            await asyncio.gather(*(sender() for _ in range(args.connections)))
    ms = [x * 1000 for x in latencies]
    mode = f"open loop at {args.rate}/s" if args.rate else f"closed loop, {args.connections} senders"
    print(f"httpx ({mode}): {len(ms):,} requests in {args.duration}s = {len(ms) / args.duration:,.0f} req/s, "
          f"statuses {statuses}")
    print(f"ack latency ms: p50 {pct(ms, 50):.1f}  p90 {pct(ms, 90):.1f}  p99 {pct(ms, 99):.1f}  "
          f"max {max(ms):.1f}")
    if lags:
        # The generator shares the machine: if it could not keep to the schedule, the server was
        # offered less than --rate and the latencies above are those of a lighter load.
        print(f"generator: offered {args.rate * args.duration:,.0f} requests at {args.rate:g}/s, sent {len(lags):,} "
              f"({len(lags) / args.duration:,.0f}/s); sent late by p50 {pct(lags, 50) * 1000:.1f} ms, "
              f"p99 {pct(lags, 99) * 1000:.1f} ms")


def in_process(url_path: str, bodies: list[bytes], count: int) -> None:
    """CPU per webhook of the WSGI application itself (no gunicorn, no HTTP, no load generator): this
    process's CPU time and its PostgreSQL backend's, for the webhook path as served (no middleware)
    and for the same request through the site's full middleware stack. On a shared machine this is
    the figure that load barely changes; the HTTP runs above add gunicorn's own cost."""
    import io

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import _site, application

    # One connection for the whole run (a web thread keeps its own for CONN_MAX_AGE), so its backend's CPU is read.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def call(app, body: bytes) -> None:
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": url_path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000",
                   "HTTP_X_LINE_SIGNATURE": signature(body)}
        started: list[str] = []
        result = app(environ, lambda status, headers, exc_info=None: started.append(status))
        b"".join(result)
        result.close()
        assert started[0].startswith("200"), started

    for body in bodies[:30]:
        call(application, body)
    backend = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else None
    for name, app in (("webhook path (no middleware)", application), ("full middleware stack", _site)):
        cpu, db = time.process_time(), cpu_of([backend]) if backend else 0.0
        for n in range(count):
            call(app, bodies[n % len(bodies)])
        cpu, db = time.process_time() - cpu, (cpu_of([backend]) - db) if backend else 0.0
        print(f"in process, {name}: {count:,} webhooks, cpu per webhook: Python {cpu / count * 1000:.2f} ms + "
              f"PostgreSQL {db / count * 1000:.2f} ms (load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--think", type=int, default=0, metavar="MS",
                        help="wrk only: each connection pauses a random 0-2×MS ms between requests "
                             "(200 connections with --think 1000 ≈ 200 senders sending once a second each); "
                             "wrk times each connection's first request from before its pause, so run long "
                             "enough (≥ 150 s) that those few are under 1 %% of the requests")
    parser.add_argument("--rate", type=float, default=0, help="httpx only: open loop at this many requests/s")
    parser.add_argument("--bodies", type=int, default=2000, help="distinct signed bodies to cycle through")
    parser.add_argument("--in-process", type=int, default=0, metavar="N",
                        help="instead of HTTP: N webhooks through the WSGI application in this process (CPU only)")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    workspace = Workspace.objects.create(slug=f"bench-ack-{run}", name="Webhook ack benchmark")
    account = channel_account_create(workspace=workspace, provider="line", name="Bench OA",
                                     secrets={"channel_secret": SECRET, "access_token": "x"})
    kick_reset()
    if args.in_process:
        os.environ.setdefault("SAMPHAN_WEBHOOK_ENQUEUE", "background")  # as under samphan serve
        try:
            in_process(f"/webhooks/line/{account.uuid}", [body_for(n) for n in range(args.bodies)], args.in_process)
        finally:
            WebhookEvent.objects.filter(channel_account=account).delete()
            kick_reset()
        return
    port = free_port()
    env = {**os.environ, "SECRET_KEY": settings.SECRET_KEY}
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
        url = f"{base}/webhooks/line/{account.uuid}"
        bodies = [body_for(n) for n in range(args.bodies)]
        print(f"database: {connection.vendor}  broker: {settings.CELERY_BROKER_URL.split('@')[-1]}  "
              f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}  gunicorn: {args.workers} workers "
              f"x {args.threads} threads  cores: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.1f}")
        for body in bodies[:50]:  # warm up every worker's connections
            req = urllib.request.Request(url, data=body, headers={"content-type": "application/json",
                                                                  "x-line-signature": signature(body)})
            urllib.request.urlopen(req, timeout=10).close()
        server_pids = tree(server.pid)
        db_name = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None
        db_before = {pid: cpu_of([pid]) for pid in (backends(db_name) if db_name else [])}
        web_before = cpu_of(server_pids)
        count_before = WebhookEvent.objects.filter(channel_account=account).count()
        if args.client == "wrk":
            run_wrk(url, args, bodies)
        else:
            asyncio.run(run_httpx(url, args, bodies))
        served = WebhookEvent.objects.filter(channel_account=account).count() - count_before
        print(f"postgres backends: {len(db_before)} before, {len(backends(db_name)) if db_name else 0} after")
        web_cpu = cpu_of(server_pids) - web_before
        db_cpu = sum(cpu_of([pid]) - db_before.get(pid, 0.0) for pid in (backends(db_name) if db_name else []))
        per = (web_cpu + db_cpu) / max(served, 1)
        print(f"cpu per acknowledged webhook: web {web_cpu / max(served, 1) * 1000:.2f} ms + PostgreSQL "
              f"{db_cpu / max(served, 1) * 1000:.2f} ms → ≈ {os.cpu_count() / per:,.0f} webhooks/s if the "
              f"{os.cpu_count()} cores were the server's alone")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(30)
        stored = WebhookEvent.objects.filter(channel_account=account).count()
        print(f"stored webhook events: {stored:,} (deleted now)")
        WebhookEvent.objects.filter(channel_account=account).delete()
        kick_reset()


if __name__ == "__main__":
    main()
