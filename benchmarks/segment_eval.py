"""Rule segment evaluation over a large workspace (issue 4: ≤ 2 s over 1M customers, nested or not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_bench_copy \
        .venv/bin/python benchmarks/segment_eval.py --workspace bench

Rules: a flat tag rule, "bought from category" (purchase facts), "bought product at least
twice for at least 100" (facts with thresholds), an AND/OR rule with two purchase
conditions, consent, membership, customer age (and lifecycle stage when analytics is
installed), and a nested rule (a segment inside that AND/OR segment). For each: the
live-preview count (wall clock, CPU of this process + PostgreSQL backends, and the
server's own EXPLAIN ANALYZE execution time, which load changes least) and the
materialisation (refresh): first run (everyone joins), a second run (no change), and a
run after a tenth of the members left (history written for each). Prints seconds,
member counts and the load average at each line. Writes only "bench:" segments, which
it deletes at the end: run it on a copy of the benchmark database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.commerce.models import CategoryPurchaseFact, Product, PurchaseFact  # noqa: E402
from samphan.customers.models import Customer, Tag  # noqa: E402
from samphan.segments.models import Segment, SegmentMember  # noqa: E402
from samphan.segments.rules import FIELDS, segment_queryset  # noqa: E402
from samphan.segments.services import (  # noqa: E402
    SEGMENT_WORK_MEM,
    segment_count,
    segment_refresh,
    segment_save,
)


def timed(fn, server):
    """(wall seconds, process + backend CPU seconds, result)."""
    start, cpu, backend = time.perf_counter(), time.process_time(), server.seconds if server else 0.0
    result = fn()
    if server:
        server.sample()
    return (time.perf_counter() - start, time.process_time() - cpu + ((server.seconds - backend) if server else 0.0),
            result)


def explain_ms(ws, seg) -> float | None:
    """PostgreSQL's own execution time for the preview count (EXPLAIN ANALYZE), in ms."""
    if connection.vendor != "postgresql":
        return None
    sql, params = segment_queryset(seg.rule, workspace=ws, segment_id=seg.pk).values("id").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL work_mem = '{SEGMENT_WORK_MEM}'")
        cur.execute("SET LOCAL jit = off")  # as segment_count does
        cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT COUNT(*) FROM ({sql}) s", params)
        plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Execution Time"])


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--no-parallel", action="store_true",
                        help="PostgreSQL: no parallel workers, so the CPU figure holds all the server's work "
                             "(parallel workers' CPU is not attributed to this database)")
    parser.add_argument("--only", default="", help="comma-separated rule names (flat, category, product, and/or, nested)")
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    if args.no_parallel and connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
    n = Customer.objects.filter(workspace=ws).count()
    print(f"database: {connection.vendor}  workspace: {ws.slug}  customers: {n:,}  "
          f"purchase facts: {PurchaseFact.objects.filter(workspace=ws).count():,} by product, "
          f"{CategoryPurchaseFact.objects.filter(workspace=ws).count():,} by category  {load()} on {os.cpu_count()} cores")
    Segment.objects.filter(workspace=ws, name__startswith="bench:").delete()

    tag = Tag.objects.filter(workspace=ws).values_list("name", flat=True).first() or "VIP"
    sku = Product.objects.filter(workspace=ws).values_list("sku", flat=True).order_by("sku").first()
    categories = list(Product.objects.filter(workspace=ws).exclude(category="").values_list("category", flat=True)
                      .order_by("category").distinct())
    category = categories[0]
    flat = {"conditions": [{"field": "tag", "operator": "in", "value": [tag]}]}
    by_category = {"conditions": [{"field": "category_bought", "operator": "in", "value": [category]}]}
    by_product = {"conditions": [{"field": "product_bought", "operator": "in",
                                  "value": {"values": [sku], "min_orders": 2, "min_amount": 100}}]}
    complex_rule = {"op": "or", "conditions": [
        {"op": "and", "conditions": [
            {"field": "product_bought", "operator": "in", "value": [sku]},
            {"field": "consent", "operator": "in", "value": ["line"]}]},
        {"op": "and", "conditions": [
            {"field": "category_bought", "operator": "in", "value": [categories[-1]]},
            {"field": "is_member", "operator": "is", "value": True},
            {"field": "customer_since", "operator": "within_days", "value": 365}]},
    ]}
    if "stage" in FIELDS:
        complex_rule["conditions"].append({"field": "stage", "operator": "in", "value": ["regular", "die_hard_fan"]})
    segments = {
        "flat": segment_save(workspace=ws, name="bench: flat", rule=flat),
        "category": segment_save(workspace=ws, name="bench: category", rule=by_category),
        "product": segment_save(workspace=ws, name="bench: product ≥2×", rule=by_product),
        "and/or": segment_save(workspace=ws, name="bench: and/or", rule=complex_rule),
    }
    nested = {"conditions": [{"field": "segment", "operator": "in", "value": segments["and/or"].pk},
                             {"field": "organisation_kind", "operator": "not_in", "value": ["corporate"]}]}
    segments["nested"] = segment_save(workspace=ws, name="bench: nested", rule=nested)
    only = [x for x in args.only.split(",") if x] or list(segments)
    if "nested" in only and "and/or" not in only:
        only.insert(0, "and/or")  # the nested rule reads its membership

    from demo_data import BackendCpu

    with BackendCpu(str(connection.settings_dict["NAME"])) if connection.vendor == "postgresql" else nullcontext() as server:
        for name in only:
            seg = segments[name]
            t_count, c_count, count = timed(lambda seg=seg: segment_count(workspace=ws, rule=seg.rule, segment_id=seg.pk),
                                            server)
            ms = explain_ms(ws, seg)
            print(f"{name:<9} count={count:>9,}  preview {t_count:6.2f} s (cpu {c_count:5.2f} s"
                  + (f", EXPLAIN ANALYZE {ms / 1000:5.2f} s" if ms is not None else "") + f")  {load()}", flush=True)
            t_first, c_first, first = timed(lambda seg=seg: segment_refresh(segment=seg), server)
            print(f"{'':<9} refresh, all join   {t_first:6.2f} s (cpu {c_first:5.2f} s)  joined={first['joined']:,}  "
                  f"{load()}", flush=True)
            t_again, c_again, again = timed(lambda seg=seg: segment_refresh(segment=seg), server)
            print(f"{'':<9} refresh, no change  {t_again:6.2f} s (cpu {c_again:5.2f} s)  joined={again['joined']:,} "
                  f"left={again['left']:,}  {load()}", flush=True)
            # A tenth of the members "left" behind the rule's back: the next refresh brings them back.
            SegmentMember.objects.filter(segment=seg, customer_id__in=SegmentMember.objects.filter(segment=seg)
                                         .order_by("customer_id").values("customer_id")[: max(1, count // 10)]).delete()
            t_some, c_some, some = timed(lambda seg=seg: segment_refresh(segment=seg), server)
            print(f"{'':<9} refresh, 10% rejoin {t_some:6.2f} s (cpu {c_some:5.2f} s)  joined={some['joined']:,}  "
                  f"{load()}", flush=True)
    Segment.objects.filter(workspace=ws, name__startswith="bench:").delete()


if __name__ == "__main__":
    main()
