"""Listening dashboard latency over 5 million mentions (PostgreSQL; SQLite too).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_listening_bench \
        .venv/bin/python benchmarks/listening_dashboard.py --mentions 5000000 --samples 200
    SAMPHAN_VAR_DIR=/tmp/listening_bench_sqlite .venv/bin/python benchmarks/listening_dashboard.py …

Builds (once; later runs reuse the workspace) one workspace with 10 topics (brand, 3 products,
4 competitors, 2 campaigns), 250,000 authors and N mentions over 365 days — labels 25 %
positive / 50 % neutral / 18 % negative / 7 % question, 80 % of mentions in one topic and 15 %
in two, 10 % still to handle — then the rollups (hourly counts and per-author counts) exactly as
``services.rollups_rebuild`` would count them, with one GROUP BY each, the daily rollup from the
hourly one (``rollups.daily_rebuild_workspace``), and ANALYZE.

Then times, through the real Django stack in process (token auth, ninja, serialisation) with
django.test.Client, each dashboard API call for random periods (1, 7, 30, 90, 365 days) and
random topics (or all): volume over time, share of voice + heart share, top authors, mentions
worst first (first page and a deeper page), and the whole dashboard page's data
(``selectors.dashboard``). Prints p50/p95/p99 per call, and the CPU each call took (this process
and, on PostgreSQL, its backend — counted in 10 ms ticks). Target: p95 ≤ 200 ms. The machine
is shared (2 cores, other work running): the load average is printed with the figures.
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

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.accounts.services import api_token_create, user_create_or_update, workspace_create  # noqa: E402
from samphan.listening import selectors  # noqa: E402
from samphan.listening.models import Topic  # noqa: E402
from samphan.listening.rollups import daily_rebuild_workspace, zone_of_daily  # noqa: E402
from samphan.listening.services import topic_create  # noqa: E402

SLUG = "bench-listening"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TOPICS = [("Alpha Coffee", "brand"), ("Iced latte", "product"), ("Cold brew", "product"),
          ("Croissant", "product"), ("Beta Brew", "competitor"), ("Gamma Cafe", "competitor"),
          ("Delta Tea", "competitor"), ("Epsilon Roast", "competitor"), ("#AlphaSummer", "campaign"),
          ("#AlphaRewards", "campaign")]
TEXTS = ["ร้านนี้กาแฟอร่อยมาก", "รอนานมาก พนักงานไม่สนใจ", "ราคาเท่าไหร่คะ", "Love the cold brew here",
         "Terrible service today", "สาขาไหนเปิด 24 ชม.", "ก็โอเคนะ", "Just had a latte"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def report(name: str, times: list[tuple[float, float]]) -> float:
    """Wall-clock p50/p95/p99 and CPU p50/p95 (this process + its PostgreSQL backend) per call."""
    ms = [wall * 1000 for wall, _ in times]
    cpu = [c * 1000 for _, c in times]
    p95 = pct(ms, 95)
    print(f"{name:<46} n={len(ms):>4}  p50={pct(ms, 50):7.2f} ms  p95={p95:7.2f} ms  "
          f"p99={pct(ms, 99):7.2f} ms  mean={statistics.mean(ms):7.2f} ms  "
          f"| CPU p50={pct(cpu, 50):6.2f} ms  p95={pct(cpu, 95):6.2f} ms", flush=True)
    return p95


def _ticks(pid: int | None) -> float:
    """CPU seconds of a process so far (/proc; 10 ms ticks), 0 without one."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Clock:
    """Times one call: wall clock, and CPU of this process plus (PostgreSQL) its backend.

    On a loaded machine the wall clock waits for other work's turn on the cores; the CPU is
    what the call costs, close to its latency on a free machine (the data is in memory).
    """

    def __init__(self) -> None:
        self.backend: int | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                self.backend = cur.fetchone()[0]

    def __enter__(self) -> Clock:
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), _ticks(self.backend)
        return self

    def __exit__(self, *exc: object) -> None:
        self.result = (time.perf_counter() - self.wall,
                       time.process_time() - self.cpu + _ticks(self.backend) - self.db)


def _postgres_build(ws: int, topic_ids: list[int], mentions: int, authors: int) -> None:
    first_topic = topic_ids[0]
    n_topics = len(topic_ids)
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO listening_author (workspace_id, source, key, name, handle, reach, customer_id, first_seen_at)
            SELECT %s, 'x', 'u' || g, 'Author ' || g, 'author' || g,
                   floor(exp(random() * 13))::bigint, NULL, %s
            FROM generate_series(1, %s) g""", [ws, NOW - timedelta(days=400), authors])
        cur.execute("SELECT min(id) FROM listening_author WHERE workspace_id = %s", [ws])
        first_author = cur.fetchone()[0]
        t = time.perf_counter()
        cur.execute("""
            INSERT INTO listening_mention (workspace_id, connector, source, feed_id, external_id, dedupe_key, url,
                text, language, author_id, author_name, author_handle, reach, engagement, customer_id, published_at,
                created_at, label, model_label, score_positive, score_neutral, score_negative, score_question,
                label_corrected_by_id, label_corrected_at, velocity, priority, status, conversation_id, meta)
            SELECT %(ws)s, 'x', 'x', NULL, g::text, md5(g::text), '', (%(texts)s::text[])[1 + g %% 8], 'th',
                   %(fa)s + a, 'Author ' || a, 'author' || a, (a * 7919) %% 100000, g %% 50, NULL, ts, ts,
                   lab, lab, 0.25, 0.25, CASE lab WHEN 'negative' THEN 0.8 ELSE 0.05 END, 0.05,
                   NULL, NULL, 1.0,
                   CASE lab WHEN 'negative' THEN round((random() * 5)::numeric, 4) ELSE 0 END,
                   CASE WHEN random() < 0.1 THEN 'new' ELSE 'handled' END, NULL, '{}'
            FROM (SELECT g, (hashint4(g)::bigint & 2147483647) %% %(authors)s AS a,
                         %(now)s - (random() * interval '365 days') AS ts,
                         CASE WHEN r < 0.25 THEN 'positive' WHEN r < 0.75 THEN 'neutral'
                              WHEN r < 0.93 THEN 'negative' ELSE 'question' END AS lab
                  FROM (SELECT g, random() AS r FROM generate_series(1, %(n)s) g) s) x""",
                    {"ws": ws, "texts": TEXTS, "fa": first_author, "authors": authors, "now": NOW, "n": mentions})
        print(f"  {mentions:,} mentions in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        cur.execute("""
            INSERT INTO listening_mentiontopic (workspace_id, mention_id, topic_id, published_at)
            SELECT workspace_id, id, %(t0)s + (id %% %(k)s), published_at FROM listening_mention
            WHERE workspace_id = %(ws)s AND id %% 20 < 16
            UNION ALL
            SELECT workspace_id, id, %(t0)s + ((id + 3) %% %(k)s), published_at FROM listening_mention
            WHERE workspace_id = %(ws)s AND id %% 20 < 3""", {"ws": ws, "t0": first_topic, "k": n_topics})
        print(f"  topic links in {time.perf_counter() - t:.0f} s", flush=True)


def _sqlite_build(ws: int, topic_ids: list[int], mentions: int, authors: int) -> None:
    """The same data as ``_postgres_build``, generated inside SQLite (a recursive CTE and ``random()``)."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        # Rows arrive in random time order: with SQLite's default 2 MB page cache every index
        # insert reads pages from disk (an hour and more for 5 M rows on the loaded machine).
        cur.execute("PRAGMA cache_size = -3000000")
        cur.execute("""
            WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < %s)
            INSERT INTO listening_author (workspace_id, source, key, name, handle, reach, customer_id, first_seen_at)
            SELECT %s, 'x', 'u' || x, 'Author ' || x, 'author' || x, CAST(exp((abs(random()) %% 13000) / 1000.0)
                   AS INTEGER), NULL, %s FROM g""", [authors, ws, adapt(NOW - timedelta(days=400))])
        cur.execute("SELECT min(id) FROM listening_author WHERE workspace_id = %s", [ws])
        first_author = cur.fetchone()[0]
        cur.execute("CREATE TEMP TABLE bench_texts (i INTEGER PRIMARY KEY, t TEXT)")
        cur.executemany("INSERT INTO bench_texts (i, t) VALUES (%s, %s)", list(enumerate(TEXTS)))
        t = time.perf_counter()
        cur.execute("""
            WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < %(n)s)
            INSERT INTO listening_mention (workspace_id, connector, source, external_id, dedupe_key, url, text,
                language, author_id, author_name, author_handle, reach, engagement, published_at, created_at, label,
                model_label, score_positive, score_neutral, score_negative, score_question, velocity, priority,
                status, meta)
            SELECT %(ws)s, 'x', 'x', x, printf('%%040x', x), '', (SELECT t FROM bench_texts WHERE i = x %% 8), 'th',
                   %(fa)s + a, 'Author ' || a, 'author' || a, (a * 7919) %% 100000, x %% 50, ts, ts, lab, lab,
                   0.25, 0.25, CASE lab WHEN 'negative' THEN 0.8 ELSE 0.05 END, 0.05, 1.0,
                   CASE lab WHEN 'negative' THEN round((abs(random()) %% 50000) / 10000.0, 4) ELSE 0 END,
                   CASE WHEN abs(random()) %% 10 = 0 THEN 'new' ELSE 'handled' END, '{}'
            FROM (SELECT x, a, ts, CASE WHEN r < 25 THEN 'positive' WHEN r < 75 THEN 'neutral'
                                        WHEN r < 93 THEN 'negative' ELSE 'question' END AS lab
                  FROM (SELECT x, abs(random()) %% %(authors)s AS a,
                               datetime(%(end)s - abs(random()) %% (365 * 86400), 'unixepoch') AS ts,
                               abs(random()) %% 100 AS r FROM g))""",
                    {"ws": ws, "fa": first_author, "authors": authors, "n": mentions, "end": int(NOW.timestamp())})
        print(f"  {mentions:,} mentions in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        cur.execute("""
            INSERT INTO listening_mentiontopic (workspace_id, mention_id, topic_id, published_at)
            SELECT workspace_id, id, %(t0)s + (id %% %(k)s), published_at FROM listening_mention
            WHERE workspace_id = %(ws)s AND id %% 20 < 16
            UNION ALL
            SELECT workspace_id, id, %(t0)s + ((id + 3) %% %(k)s), published_at FROM listening_mention
            WHERE workspace_id = %(ws)s AND id %% 20 < 3""", {"ws": ws, "t0": topic_ids[0], "k": len(topic_ids)})
        print(f"  topic links in {time.perf_counter() - t:.0f} s", flush=True)


def _rollups(ws: int) -> None:
    hour = ("date_trunc('hour', m.published_at)" if connection.vendor == "postgresql"
            else "strftime('%%Y-%%m-%%d %%H:00:00', m.published_at)")
    counts = ", ".join(f"sum(CASE WHEN m.label = '{label}' THEN 1 ELSE 0 END)"
                       for label in ("positive", "neutral", "negative", "question"))
    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(f"""
            INSERT INTO listening_mentionhourly (workspace_id, topic_id, hour, positive, neutral, negative, question)
            SELECT %s, 0, {hour}, {counts} FROM listening_mention m WHERE m.workspace_id = %s GROUP BY {hour}""",
                    [ws, ws])
        cur.execute(f"""
            INSERT INTO listening_mentionhourly (workspace_id, topic_id, hour, positive, neutral, negative, question)
            SELECT %s, mt.topic_id, {hour}, {counts} FROM listening_mentiontopic mt
            JOIN listening_mention m ON m.id = mt.mention_id WHERE mt.workspace_id = %s
            GROUP BY mt.topic_id, {hour}""", [ws, ws])
        cur.execute("""
            INSERT INTO listening_authortopic (workspace_id, author_id, topic_id, reach, mentions, negative,
                                               last_mention_at)
            SELECT %s, m.author_id, 0, max(a.reach), count(*), sum(CASE WHEN m.label = 'negative' THEN 1 ELSE 0 END),
                   max(m.published_at)
            FROM listening_mention m JOIN listening_author a ON a.id = m.author_id WHERE m.workspace_id = %s
            GROUP BY m.author_id""", [ws, ws])
        cur.execute("""
            INSERT INTO listening_authortopic (workspace_id, author_id, topic_id, reach, mentions, negative,
                                               last_mention_at)
            SELECT %s, m.author_id, mt.topic_id, max(a.reach), count(*),
                   sum(CASE WHEN m.label = 'negative' THEN 1 ELSE 0 END), max(m.published_at)
            FROM listening_mentiontopic mt JOIN listening_mention m ON m.id = mt.mention_id
            JOIN listening_author a ON a.id = m.author_id WHERE mt.workspace_id = %s
            GROUP BY m.author_id, mt.topic_id""", [ws, ws])
        print(f"  rollups in {time.perf_counter() - t:.0f} s", flush=True)
    daily_rollup(ws)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def daily_rollup(ws: int) -> None:
    """The per-day rollup from the hourly one, as the migration and ``rollups.zone_for_write`` count it."""
    t = time.perf_counter()
    zone = daily_rebuild_workspace(workspace_id=ws)
    print(f"  daily rollup ({zone}) in {time.perf_counter() - t:.1f} s", flush=True)


def build(mentions: int, authors: int) -> Workspace:
    workspace = workspace_create(slug=SLUG, name="Listening benchmark")
    topic_ids = [topic_create(workspace=workspace, name=name, kind=kind, include_terms=[name], rematch=False).pk
                 for name, kind in TOPICS]
    t = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _postgres_build(workspace.pk, topic_ids, mentions, authors)
        else:
            _sqlite_build(workspace.pk, topic_ids, mentions, authors)
        _rollups(workspace.pk)
    print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=5_000_000)
    parser.add_argument("--authors", type=int, default=250_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.filter(slug=SLUG).first() or build(args.mentions, args.authors)
    if zone_of_daily(workspace.pk) != workspace.time_zone:  # a database built before the daily rollup
        daily_rollup(workspace.pk)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    from samphan.listening.models import Mention

    count = Mention.objects.filter(workspace=workspace).count()
    user, _ = user_create_or_update(email="bench@listening.local", password="bench-password-123",
                                    workspace=workspace, role="owner")
    _, token = api_token_create(user=user, workspace=workspace)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    topic_ids = list(Topic.objects.filter(workspace=workspace).values_list("id", flat=True))
    rng = random.Random(1)
    print(f"database: {connection.vendor}; {count:,} mentions; {len(topic_ids)} topics; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)", flush=True)

    import samphan.listening.selectors as sel

    real_now = sel.timezone.now
    sel.timezone.now = lambda: NOW  # the data ends at NOW; so do the periods
    try:
        def params():
            p = {"days": rng.choice([1, 7, 30, 90, 365])}
            if rng.random() < 0.6:
                p["topic"] = rng.choice(topic_ids)
            return p

        calls = [
            ("GET /dashboard/volume", "/api/listening/dashboard/volume"),
            ("GET /dashboard/share-of-voice", "/api/listening/dashboard/share-of-voice"),
            ("GET /dashboard/top-authors", "/api/listening/dashboard/top-authors"),
            ("GET /dashboard/topics", "/api/listening/dashboard/topics"),
        ]
        p95s = []
        clock = Clock()
        for name, url in calls:
            client.get(url, params())
            times = []
            for _ in range(args.samples):
                with clock:
                    response = client.get(url, params())
                times.append(clock.result)
                assert response.status_code == 200, response.content[:300]
            p95s.append(report(name, times))
        times, deep = [], []
        for _ in range(args.samples):
            p = {"status": "new", "limit": 25}
            if rng.random() < 0.6:
                p["topic"] = rng.choice(topic_ids)
            with clock:
                page = client.get("/api/listening/mentions", p)
            times.append(clock.result)
            cursor = page.json()["next_cursor"]
            for _ in range(3):
                with clock:
                    page = client.get("/api/listening/mentions", {**p, "cursor": cursor})
                cursor = page.json()["next_cursor"]
            deep.append(clock.result)
        p95s.append(report("GET /mentions?status=new (worst first)", times))
        p95s.append(report("GET /mentions, 4th page", deep))
        times = []
        for _ in range(args.samples):
            p = params()
            with clock:
                selectors.dashboard(workspace=workspace, days=p["days"], topic_id=p.get("topic"))
            times.append(clock.result)
        p95s.append(report("the dashboard page's data (selectors.dashboard)", times))
        print(f"worst p95 {max(p95s):.1f} ms (target ≤ 200 ms); load average now {os.getloadavg()[0]:.1f}")
    finally:
        sel.timezone.now = real_now


if __name__ == "__main__":
    main()
