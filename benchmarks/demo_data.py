"""Benchmark: generate demo data for N customers (default 1,000,000) × AVG orders (default 10).

    SAMPHAN_VAR_DIR=/tmp/bench-sqlite .venv/bin/python benchmarks/demo_data.py   # scratch SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_bench \\
        .venv/bin/python benchmarks/demo_data.py                                  # PostgreSQL

Without DATABASE_URL it uses a scratch SQLite file demo.sqlite3 in $SAMPHAN_VAR_DIR
(default /tmp/samphan-bench; deleted first unless --keep). It migrates the database, creates a fresh
workspace (bench-<timestamp>), runs `demo_data_generate` and prints seconds,
rows per second per table, the CPU time of this process and the database size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class BackendCpu:
    """CPU seconds used by PostgreSQL backends serving this database, when the server runs here.

    Polls /proc for `postgres: … <dbname> …` processes; the machine is shared,
    so CPU time says more about the cost than the wall clock does.
    """

    def __init__(self, dbname: str) -> None:
        self.needle = f" {dbname} ".encode()
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.tick = os.sysconf("SC_CLK_TCK")

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ")
                if not cmd.startswith(b"postgres:") or self.needle not in cmd:
                    continue
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                self.seen[int(pid)] = (int(fields[11]) + int(fields[12])) / self.tick
            except OSError:
                continue

    def __enter__(self) -> BackendCpu:
        self.sample()
        self.before = dict(self.seen)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.sample()

    @property
    def seconds(self) -> float:
        return sum(v - self.before.get(pid, 0.0) for pid, v in self.seen.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="PostgreSQL loader connections")
    parser.add_argument("--keep", action="store_true", help="keep the scratch SQLite file from a previous run")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        scratch = Path(os.environ.get("SAMPHAN_VAR_DIR", "/tmp/samphan-bench"))
        scratch.mkdir(parents=True, exist_ok=True)
        db = scratch / "demo.sqlite3"
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
        os.environ.setdefault("SAMPHAN_VAR_DIR", str(scratch))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from samphan.accounts.services import workspace_create
    from samphan.demo.services import demo_data_generate

    call_command("migrate", interactive=False, verbosity=0)
    slug = f"bench-{int(time.time())}"
    workspace = workspace_create(slug=slug, name=f"Benchmark retail {slug}")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    print(f"generating {args.customers:,} customers × {args.orders_per_customer:g} orders into {slug} …", flush=True)
    cpu = time.process_time()
    load = os.getloadavg()[0]
    with BackendCpu(connection.settings_dict["NAME"]) as server:
        summary = demo_data_generate(workspace=workspace, customers=args.customers, seed=args.seed,
                                     orders_per_customer=args.orders_per_customer, until=date(2026, 6, 30),
                                     workers=args.workers)
    cpu = time.process_time() - cpu
    seconds = summary["seconds"]
    print(json.dumps(summary, ensure_ascii=False))
    print(f"customers   {summary['customers']:>12,}  {summary['customers'] / seconds:>10,.0f} /s")
    print(f"orders      {summary['orders']:>12,}  {summary['orders'] / seconds:>10,.0f} /s")
    print(f"order lines {summary['order_lines']:>12,}  {summary['order_lines'] / seconds:>10,.0f} /s")
    print(f"all rows    {summary['rows']:>12,}  {summary['rows'] / seconds:>10,.0f} /s")
    print(f"seconds {seconds:.1f} (wall)  python cpu {cpu:.1f} s  load average before {load:.1f} "
          f"after {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if connection.vendor == "postgresql":
        print(f"postgresql backend cpu {server.seconds:.1f} s (0 if the server is on another machine)")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size {cursor.fetchone()[0]}")
        else:
            size = sum(Path(f"{connection.settings_dict['NAME']}{s}").stat().st_size
                       for s in ("", "-wal") if Path(f"{connection.settings_dict['NAME']}{s}").exists())
            print(f"database size {size / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
