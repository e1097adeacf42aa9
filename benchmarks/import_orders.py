"""Benchmark: import N order rows (default 1,000,000) and re-import them.

    .venv/bin/python benchmarks/import_orders.py                 # scratch SQLite under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_import_bench \\
        .venv/bin/python benchmarks/import_orders.py             # PostgreSQL (database must exist)

Generates a CSV under /tmp (~200k customers for 1M rows, ~1.3 lines per order,
dates in ISO 8601 with offsets, DD/MM/YYYY and Buddhist-era years, amounts with
thousands separators and ฿, ~3% refund lines), migrates the database, imports
the file into a fresh workspace, then imports it again (which must change
nothing). Prints rows, seconds and rows/s for both runs. Target: ≥ 20,000 rows/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, rows: int, customers: int, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3], size=rows, p=[0.75, 0.2, 0.05])  # mean 1.3 lines per order
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), rows)) + 1]
    n_orders = len(sizes)
    order_index = np.repeat(np.arange(n_orders), sizes)[:rows]
    order_customer = rng.integers(0, customers, n_orders)
    base = np.datetime64("2023-01-01T00:00:00")
    order_time = base + rng.integers(0, 3 * 365 * 86400, n_orders).astype("timedelta64[s]")
    style = rng.choice([0, 1, 2, 3], size=n_orders, p=[0.55, 0.2, 0.15, 0.1])
    quantity = rng.integers(1, 4, rows)
    unit_satang = rng.integers(2_000, 500_000, rows)
    refund = rng.random(rows) < 0.03
    amount_satang = np.where(refund, -1, 1) * quantity * unit_satang
    frame = pl.DataFrame({
        "o": order_index, "c": order_customer[order_index], "t": order_time[order_index].astype("datetime64[us]"),
        "style": style[order_index], "q": quantity, "u": unit_satang, "a": amount_satang,
        "sku": rng.integers(1, 2_500, rows), "ch": rng.integers(0, 4, rows),
    })
    t = pl.col("t")
    be_year = (t.dt.year() + 543).cast(pl.String)
    ordered_at = (
        pl.when(pl.col("style") == 0).then(t.dt.strftime("%Y-%m-%dT%H:%M:%S+07:00"))
        .when(pl.col("style") == 1).then(t.dt.strftime("%d/%m/%Y %H:%M"))
        .when(pl.col("style") == 2).then(pl.format("{}{}", be_year, t.dt.strftime("-%m-%d %H:%M:%S")))
        .otherwise(t.dt.strftime("%Y%m%d"))
    )

    def money(col: str, thousands: bool) -> pl.Expr:
        v = pl.col(col)
        whole = (v.abs() // 100)
        text_whole = whole.cast(pl.String)
        if thousands:  # 1234567 → 1,234,567 for about half the rows
            text_whole = pl.when(whole >= 1000).then(
                pl.format("{},{}", (whole // 1000).cast(pl.String), (whole % 1000).cast(pl.String).str.zfill(3))
            ).otherwise(text_whole)
        sign = pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        return pl.format("{}{}.{}", sign, text_whole, (v.abs() % 100).cast(pl.String).str.zfill(2))

    channels = pl.Series(["LINE", "Shopee", "store-siam", "website"])
    frame.select(
        order_id=pl.format("O{}", pl.col("o").cast(pl.String).str.zfill(8)),
        customer_id=pl.format("C{}", pl.col("c").cast(pl.String).str.zfill(7)),
        ordered_at=ordered_at,
        amount=pl.when(pl.col("o") % 3 == 0).then(pl.format("฿{}", money("a", True))).otherwise(money("a", False)),
        currency=pl.when(pl.col("o") % 10 == 0).then(pl.lit("THB")).otherwise(pl.lit(None, pl.String)),
        channel=pl.col("ch").replace_strict(dict(enumerate(channels)), return_dtype=pl.String),
        sku=pl.format("SKU-{}", pl.col("sku").cast(pl.String).str.zfill(5)),
        quantity=pl.col("q").cast(pl.String),
        unit_price=money("u", False),
    ).write_csv(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: rows / 5")
    parser.add_argument("--csv", default=None, help="where to write the generated file (default under /tmp)")
    args = parser.parse_args()
    customers = args.customers or max(1, args.rows // 5)
    bench_dir = Path("/tmp/samphan-bench")
    bench_dir.mkdir(exist_ok=True)
    os.environ.setdefault("SAMPHAN_VAR_DIR", str(bench_dir / "var"))
    if not os.environ.get("DATABASE_URL"):
        db = bench_dir / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))

    csv_path = Path(args.csv or bench_dir / f"orders-{args.rows}.csv")
    started = time.perf_counter()
    generate(csv_path, args.rows, customers)
    print(f"generated {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from samphan.accounts.services import workspace_create
    from samphan.imports.services import import_file

    call_command("migrate", verbosity=0)
    workspace = workspace_create(slug=f"bench-{int(time.time())}", name="Import benchmark")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, workspace {workspace.slug}")
    print(f"rows: {args.rows:,}  customers: ~{customers:,}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from demo_data import BackendCpu  # CPU of this database's PostgreSQL backends (0 on SQLite)

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label in ("first import", "re-import (idempotent)"):
        started, cpu_started = time.perf_counter(), time.process_time()
        with BackendCpu(str(connection.settings_dict["NAME"])) as backend:
            summary = import_file(workspace=workspace, kind="orders", path=csv_path, via="cli")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        counts = summary.counts()
        print(f"{label}: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s  {counts}  errors={len(summary.errors)}")
        # The machine is shared: CPU seconds say what the import costs whatever else runs.
        print(f"    cpu: python {cpu:.1f} s + database {backend.seconds:.1f} s = "
              f"{(cpu + backend.seconds) / args.rows * 1e6:.0f} µs per row; load average after "
              f"{os.getloadavg()[0]:.1f}")
        if summary.errors:
            print("first errors:", summary.errors[:5])


if __name__ == "__main__":
    main()
