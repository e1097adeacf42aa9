"""`samphan demo-data`: realistic Thai and English customers and two years of orders, in bulk."""

from __future__ import annotations

import sys
from datetime import date

from django.core.management.base import CommandError

from samphan.core.management.base import SamphanCommand


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--until wants a date like 2026-01-31, not {text!r}", returncode=2) from None


class Command(SamphanCommand):
    help = (
        "Generate realistic demo data into an existing workspace: Thai and English customers with "
        "phones, e-mails and LINE ids, organisations, memberships, consent, tags, insights, a product "
        "catalogue and two years of orders up to --until (default today). The same --seed and "
        "arguments give the same data. Running it again on the same workspace adds more customers: "
        "numbering continues after the demo rows already there (C0000001…, O000000001…), so nothing "
        "collides."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="slug of an existing workspace")
        parser.add_argument("--customers", type=int, default=1000, help="how many customers (default 1000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--orders-per-customer", type=float, default=5.0, dest="orders_per_customer",
                            metavar="AVG", help="average orders per customer over two years (default 5)")
        parser.add_argument("--until", type=_date, default=None, metavar="YYYY-MM-DD",
                            help="last day of the order history (default today); fix it for repeatable data")
        parser.add_argument("--catalogue", default="auto", choices=["auto", "coffee", "fashion", "retail"],
                            help="product catalogue (default: from the workspace name)")
        parser.add_argument("--json", action="store_true", help="print a JSON summary, no progress bar")

    def handle(self, *args, **opts):
        from tqdm import tqdm

        from samphan.demo.services import demo_data_generate

        workspace = self.workspace_arg(opts["workspace"])
        quiet = opts["json"] or opts["verbosity"] == 0 or not sys.stderr.isatty()
        with tqdm(total=opts["customers"], unit=" customers", unit_scale=True, file=sys.stderr,
                  disable=quiet, desc=f"demo data → {workspace.slug}") as bar:
            summary = demo_data_generate(
                workspace=workspace, customers=opts["customers"], seed=opts["seed"],
                orders_per_customer=opts["orders_per_customer"], until=opts["until"],
                catalogue=opts["catalogue"], progress=bar.update, via="cli",
            )
        if opts["json"]:
            self.print_json(summary)
        elif opts["verbosity"] > 0:
            self.stdout.write(
                f"{summary['customers']:,} customers, {summary['orders']:,} orders, "
                f"{summary['order_lines']:,} order lines in {summary['workspace']} "
                f"({summary['seconds']} s, seed {summary['seed']})"
            )
