"""Rule segment evaluation over a large workspace (issue 4: ≤ 2 s over 1M customers, nested or not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samphan_bench \
        .venv/bin/python benchmarks/segment_eval.py --workspace bench

Times, for a flat rule, an AND/OR rule over purchases and consent, and a
nested rule (a segment inside a segment): the live-preview count and the full
materialisation (refresh) — first run (everyone joins) and a second run (no
change). Prints seconds and member counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from samphan.accounts.models import Workspace  # noqa: E402
from samphan.commerce.models import Product  # noqa: E402
from samphan.customers.models import Customer, Tag  # noqa: E402
from samphan.segments.models import Segment  # noqa: E402
from samphan.segments.rules import FIELDS  # noqa: E402
from samphan.segments.services import segment_count, segment_refresh, segment_save  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    args = parser.parse_args()
    ws = Workspace.objects.get(slug=args.workspace)
    n = Customer.objects.filter(workspace=ws).count()
    print(f"database: {connection.vendor}  workspace: {ws.slug}  customers: {n:,}")
    Segment.objects.filter(workspace=ws, name__startswith="bench:").delete()

    tag = Tag.objects.filter(workspace=ws).values_list("name", flat=True).first() or "VIP"
    sku = Product.objects.filter(workspace=ws).values_list("sku", flat=True).first()
    category = Product.objects.filter(workspace=ws).exclude(category="").values_list("category", flat=True).first()
    flat = {"conditions": [{"field": "tag", "operator": "in", "value": [tag]}]}
    complex_rule = {"op": "or", "conditions": [
        {"op": "and", "conditions": [
            {"field": "product_bought", "operator": "in", "value": [sku]},
            {"field": "consent", "operator": "in", "value": ["line"]}]},
        {"op": "and", "conditions": [
            {"field": "category_bought", "operator": "in", "value": [category]},
            {"field": "is_member", "operator": "is", "value": True},
            {"field": "customer_since", "operator": "within_days", "value": 365}]},
    ]}
    if "stage" in FIELDS:
        complex_rule["conditions"].append({"field": "stage", "operator": "in", "value": ["regular", "die_hard_fan"]})
    s_flat = segment_save(workspace=ws, name="bench: flat", rule=flat)
    s_complex = segment_save(workspace=ws, name="bench: and/or", rule=complex_rule)
    nested = {"conditions": [{"field": "segment", "operator": "in", "value": s_complex.pk},
                             {"field": "organisation_kind", "operator": "not_in", "value": ["corporate"]}]}
    s_nested = segment_save(workspace=ws, name="bench: nested", rule=nested)

    for seg in (s_flat, s_complex, s_nested):
        t_count, count = timed(lambda seg=seg: segment_count(workspace=ws, rule=seg.rule, segment_id=seg.pk))
        t_first, first = timed(lambda seg=seg: segment_refresh(segment=seg))
        t_again, again = timed(lambda seg=seg: segment_refresh(segment=seg))
        print(f"{seg.name:<16} count={count:>9,}  preview {t_count:6.2f} s   refresh (all join) {t_first:6.2f} s   "
              f"refresh (no change) {t_again:6.2f} s   joined={first['joined']:,} left={again['left']:,}")
    Segment.objects.filter(workspace=ws, name__startswith="bench:").delete()


if __name__ == "__main__":
    main()
