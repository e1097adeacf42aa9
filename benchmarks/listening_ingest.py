"""Listening ingest throughput with sentiment, on 2 cores: mentions stored per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_listening_ingest \
        .venv/bin/python benchmarks/listening_ingest.py --mentions 40000 --processes 2
    SAMPHAN_VAR_DIR=/tmp/listening_ingest_sqlite .venv/bin/python benchmarks/listening_ingest.py …

Real texts: the Wisesight corpus's Thai social-media messages (``../shared/data/wisesight-sentiment``)
with a brand, product or competitor name or a campaign hashtag put into 70 % of them, plus
English ones; authors with followers, engagement, X identities (1 % known as customers).
A workspace with 10 topics (Thai and English words, phrases, hashtags, excludes).

``--processes`` worker processes (the Celery worker's default concurrency is 2) each take
batches of ``--batch`` mentions from a shared queue and call ``mentions_ingest`` — the whole
path: dedupe, batch sentiment, topic matching, customer links, priority, authors, bulk insert,
topic links, hourly and author rollups, spike check — each in its own database connection.
Workers load the sentiment model and the tokenizer before the clock starts.

Prints the wall-clock rate, the CPU seconds spent by the workers and (PostgreSQL) by their
database backends, and the rate those CPU seconds would give on 2 free cores. Target:
≥ 2,000 mentions/s on 2 cores. The machine is shared with other work: the load average is
printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

SLUG = "bench-listening-ingest"
TOPICS = [
    ("Alpha Coffee", "brand", ["Alpha Coffee", "อัลฟ่า", "@alphacoffee"], ["อัลฟ่าแมว"]),
    ("Iced latte", "product", ["ลาเต้เย็น", "iced latte"], []),
    ("Cold brew", "product", ["โคลด์บรูว์", "cold brew"], []),
    ("Croissant", "product", ["ครัวซองต์", "croissant"], []),
    ("Beta Brew", "competitor", ["Beta Brew", "เบต้า"], ["เบต้าแคโรทีน"]),
    ("Gamma Cafe", "competitor", ["Gamma Cafe", "แกมม่า"], []),
    ("Delta Tea", "competitor", ["Delta Tea", "ชาเดลต้า"], []),
    ("Epsilon", "competitor", ["Epsilon Roast"], []),
    ("Summer", "campaign", ["#AlphaSummer", "#ซัมเมอร์อัลฟ่า"], []),
    ("Rewards", "campaign", ["#AlphaRewards"], []),
]
INSERTS = ["อัลฟ่า", "Alpha Coffee", "ลาเต้เย็น", "เบต้า", "แกมม่า", "#AlphaSummer", "cold brew", "ครัวซองต์"]
ENGLISH = ["Alpha Coffee was great today, love the iced latte", "Waited 40 minutes at Beta Brew, terrible",
           "Is Gamma Cafe open on Sunday?", "cold brew at Alpha Coffee is ok I guess",
           "Worst service ever #AlphaSummer", "Delta Tea has the best milk tea in town"]


def corpus(n: int, seed: int = 6) -> list[dict]:
    data = ROOT.parent / "shared" / "data" / "wisesight-sentiment"
    texts = []
    for name in ("train.jsonl", "valid.jsonl"):
        path = data / name
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                texts.extend(json.loads(line)["texts"] for line in fh if line.strip())
    if not texts:
        raise SystemExit(f"no corpus in {data}")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        text = rng.choice(ENGLISH) if rng.random() < 0.15 else rng.choice(texts)
        if rng.random() < 0.7:
            text = f"{text} {rng.choice(INSERTS)}" if rng.random() < 0.5 else f"{rng.choice(INSERTS)}{text}"
        author = rng.randrange(n // 4 + 1)
        rows.append({"source": "x", "text": text, "external_id": f"bench-{seed}-{i}",
                     "published_at": (now - timedelta(minutes=rng.randrange(7 * 24 * 60))).isoformat(),
                     "author_id": str(author), "author_handle": f"user{author}",
                     "reach": int(rng.expovariate(1 / 2000)), "engagement": rng.randrange(50)})
    return rows


def _setup_django():
    import django

    django.setup()


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def worker(queue, results, workspace_id: int, ready, go) -> None:
    _setup_django()
    from django.db import connection

    from samphan.listening.ingest import MentionIn, mentions_ingest, topic_matcher
    from samphan.sentiment import classify

    classify(["อุ่นเครื่อง", "warm up"])
    topic_matcher(workspace_id).match("อัลฟ่า")
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
    ready.put(1)
    go.wait()
    cpu0, backend0 = time.process_time(), _cpu_of(backend) if backend else 0.0
    created = 0
    while True:
        batch = queue.get()
        if batch is None:
            break
        items = [MentionIn(source=r["source"], text=r["text"], external_id=r["external_id"],
                           published_at=datetime.fromisoformat(r["published_at"]), author_id=r["author_id"],
                           author_handle=r["author_handle"], reach=r["reach"], engagement=r["engagement"],
                           identities=[("x", r["author_id"]), ("x_handle", r["author_handle"])]) for r in batch]
        created += mentions_ingest(workspace=workspace_id, items=items, connector="x").created
    results.put({"created": created, "cpu": time.process_time() - cpu0,
                 "db_cpu": (_cpu_of(backend) - backend0) if backend else 0.0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=40_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from samphan.accounts.models import Workspace
    from samphan.accounts.services import workspace_create
    from samphan.customers.services import customer_create
    from samphan.listening.services import topic_create

    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None:
        workspace = workspace_create(slug=SLUG, name="Listening ingest benchmark")
        for name, kind, include, exclude in TOPICS:
            topic_create(workspace=workspace, name=name, kind=kind, include_terms=include, exclude_terms=exclude,
                         rematch=False)
        for author in range(0, args.mentions // 4, 100):  # 1 % of authors are known customers
            customer_create(workspace=workspace, identities={"x_handle": f"user{author}"})
    rows = corpus(args.mentions, seed=int(time.time()))
    vendor = connection.vendor
    connection.close()

    ctx = mp.get_context("fork")
    queue, results, ready, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(queue, results, workspace.pk, ready, go))
             for _ in range(args.processes)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    for start in range(0, len(rows), args.batch):
        queue.put(rows[start:start + args.batch])
    for _ in procs:
        queue.put(None)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    go.set()
    outcomes = [results.get() for _ in procs]
    wall = time.perf_counter() - started
    for p in procs:
        p.join()
    created = sum(o["created"] for o in outcomes)
    cpu = sum(o["cpu"] for o in outcomes)
    db_cpu = sum(o["db_cpu"] for o in outcomes)
    print(f"database: {vendor}; {args.processes} worker processes, batches of {args.batch}; "
          f"load average {load:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    print(f"{created:,} mentions stored in {wall:.1f} s: {created / wall:,.0f} mentions/s wall clock "
          f"(target 2,000 on 2 cores)")
    print(f"CPU: workers {cpu:.1f} s ({created / cpu:,.0f} mentions per worker-CPU-second)"
          + (f", database backends {db_cpu:.1f} s" if db_cpu else ""))
    total = cpu + db_cpu
    print(f"on 2 free cores the same CPU work gives ≈ {2 * created / total:,.0f} mentions/s "
          f"({total / created * 1000:.2f} ms of CPU per mention)")


if __name__ == "__main__":
    main()
