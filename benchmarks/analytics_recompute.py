"""Full analytics recompute — RFM + lifecycle + CLV — over a large workspace (issue 4: ≤ 60 s on PostgreSQL
for 1M customers / 10M orders on a 2-core machine; SQLite reported too).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_bench \\
        .venv/bin/python benchmarks/analytics_recompute.py --workspace bench
    DATABASE_URL=sqlite:////tmp/bench-sqlite/demo.sqlite3 \\
        .venv/bin/python benchmarks/analytics_recompute.py --workspace bench

Fill the workspace first, e.g. `samphan demo-data --workspace bench --customers 1000000
--orders-per-customer 10 --seed 1 --until 2026-11-25`. Runs the recompute once per --as-of (or
--runs times as of today) and prints the seconds of each step (SQL aggregation, BG/NBD +
Gamma-Gamma fit, CLV prediction, RFM + lifecycle, bulk write), the CPU seconds of this process and
of the PostgreSQL backends it used, and the load average (the machine may be shared). The headline
sequence: --fresh --as-of D --as-of D --as-of D+1 — a first run (every score and a first stage
written), a repeat with nothing new (no row rewritten), and the next day (every recency, P(alive)
and CLV moves, so every row is rewritten).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.analytics.services import analytics_recompute  # noqa: E402
from samphan.commerce.models import Order  # noqa: E402
from samphan.customers.models import Customer  # noqa: E402


def backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend, when the server is local.

    On a shared machine wall time depends on everyone else's load; the CPU time of our own
    process plus the database backend is what the recompute itself costs.
    """
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


READ_CPU: list[float] = []  # CPU of the parallel read connections' backends


def _measure_parallel_reads() -> None:
    """Count the CPU of the extra PostgreSQL backends the parallel reads open (one per thread)."""
    from samphan.analytics import aggregate, services

    def measured(tasks):
        def wrap(task):
            def run():
                start = backend_cpu()
                try:
                    return task()
                finally:
                    if start is not None:
                        READ_CPU.append(backend_cpu() - start)
            return run

        return aggregate.parallel_reads([wrap(t) for t in tasks])

    services.parallel_reads = measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, action="append", dest="as_of",
                        help="as-of date of a run; repeat for several runs (default: today, --runs times)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="delete the workspace's scores and history first")
    args = parser.parse_args()

    ws = Workspace.objects.get(slug=args.workspace)
    customers = Customer.objects.filter(workspace=ws).count()
    orders = Order.objects.filter(workspace=ws).count()
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})  workspace: {ws.slug}  "
          f"customers: {customers:,}  orders: {orders:,}  cpus: {os.cpu_count()}")
    if args.fresh:
        from samphan.analytics.models import CustomerScore, ModelRun, StageChange

        for model in (StageChange, CustomerScore, ModelRun):
            model.objects.filter(workspace=ws)._raw_delete(model.objects.db)
    _measure_parallel_reads()
    for run, as_of in enumerate(args.as_of or [None] * args.runs, start=1):
        READ_CPU.clear()
        load = os.getloadavg()[0]
        db_cpu = backend_cpu()
        cpu = time.process_time()
        started = time.perf_counter()
        summary = analytics_recompute(workspace=ws, as_of=as_of, via="benchmark")
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        db_cpu = None if db_cpu is None else backend_cpu() - db_cpu + sum(READ_CPU)
        steps = "  ".join(f"{k} {v:.2f}" for k, v in summary["seconds"].items())
        cpu_text = f"python {cpu:.1f}" + ("" if db_cpu is None else f" + postgres {db_cpu:.1f}")
        print(f"run {run}: {total:6.2f} s wall  [{steps}]  cpu s: {cpu_text}  (load average before: {load:.1f})")
        print(f"        customers {summary['customers']:,}  buyers {summary['buyers']:,}  "
              f"stage changes {summary['stage_changes']:,}  scores rewritten {summary['scores_rewritten']:,}  "
              f"as of {summary['as_of']}")
    print("stages: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["stages"].items(), key=lambda kv: -kv[1])))
    bg, gg = summary["bgnbd"], summary["gamma_gamma"]
    if bg:
        print(f"BG/NBD r={bg['r']:.4f} alpha={bg['alpha']:.4f} a={bg['a']:.4f} b={bg['b']:.4f} "
              f"({bg['customers']:,} customers, unit {bg['unit']})  Gamma-Gamma p={gg['p']:.3f} q={gg['q']:.3f} "
              f"gamma={gg['gamma']:.2f} ({gg['customers']:,} repeat buyers)")
    else:
        print(f"no CLV fit: {summary['clv_error']}")


if __name__ == "__main__":
    main()
