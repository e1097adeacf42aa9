"""`samphan purchase_facts rebuild --workspace W` (recompute the purchase facts from the orders) and
`samphan purchase_facts check --workspace W` (compare them with a recomputation; exit 1 on a difference)."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from samphan.commerce.facts import purchase_facts_differences, purchase_facts_rebuild
from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Purchase facts behind the 'bought product / category' segment rules: rebuild or check."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("rebuild", "recompute a workspace's purchase facts from its orders"),
                           ("check", "compare the stored facts with a recomputation from the orders")):
            p = sub.add_parser(name, help=text)
            p.add_argument("--workspace", required=True, help="workspace slug")
            p.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        ws = self.workspace_arg(opts["workspace"])
        started = time.perf_counter()
        if opts["action"] == "rebuild":
            result: dict = {"rows": purchase_facts_rebuild(workspace=ws)}
        else:
            result = {"differences": purchase_facts_differences(workspace=ws)}
        result["seconds"] = round(time.perf_counter() - started, 2)
        if opts["json"]:
            self.print_json(result)
        else:
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in result.items()))
        if opts["action"] == "check" and any(result["differences"].values()):
            raise CommandError("the purchase facts differ from the orders", returncode=1)
