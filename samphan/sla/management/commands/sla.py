"""`samphan sla sweep` (flag missed SLA targets; for cron when no worker runs beat) and
`samphan sla recompute --workspace W` (due times after a settings change made outside the services)."""

from __future__ import annotations

from samphan.core.management.base import SamphanCommand
from samphan.sla.clock import sla_recompute_workspace, sla_sweep


class Command(SamphanCommand):
    help = "SLA: flag breaches now, or recompute a workspace's due times."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="flag targets missed while nobody acted (idempotent)")
        sweep.add_argument("--json", action="store_true")
        recompute = sub.add_parser("recompute", help="recompute the open conversations' due times")
        recompute.add_argument("--workspace", required=True)
        recompute.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["action"] == "sweep":
            result = {"breaches_flagged": sla_sweep()}
        else:
            ws = self.workspace_arg(opts["workspace"])
            result = {"conversations": sla_recompute_workspace(ws.pk),
                      "breaches_flagged": sla_sweep(workspace_id=ws.pk)}
        if opts["json"]:
            self.print_json(result)
        else:
            self.stdout.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))
