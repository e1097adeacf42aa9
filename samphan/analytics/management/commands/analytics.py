"""`samphan analytics …`: CLV fit, RFM, Pareto, lifecycle segments, stage moves, recompute, rules."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

from django.core.management.base import CommandError

from samphan.core.management.base import SamphanCommand


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"expected a date like 2026-01-31, not {text!r}", returncode=2) from None


class Command(SamphanCommand):
    help = (
        "Customer analytics. clv: fit BG/NBD + Gamma-Gamma on the orders; rfm: customers per RFM segment; "
        "pareto: share of revenue from the top 1/5/10/20/50 % of customers; segments: customers per lifecycle "
        "stage; moves: who moved between stages (e.g. --from regular --to lapsed --this-quarter); recompute: "
        "refresh every customer's scores (with a progress bar); rules: show or change the tunable rules."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{clv,rfm,pareto,segments,moves,"
                                                                           "recompute,rules}")

        def command(name: str, text: str):
            p = sub.add_parser(name, help=text, description=text)
            p.add_argument("--workspace", required=True, help="workspace slug")
            p.add_argument("--json", action="store_true", help="print JSON")
            return p

        clv = command("clv", "fit BG/NBD and Gamma-Gamma by maximum likelihood (nothing is stored)")
        clv.add_argument("--calibration-end", type=_date, default=None, dest="calibration_end",
                         help="last day of the calibration period (default: today)")
        clv.add_argument("--unit", choices=["day", "week"], default="week", help="time unit (default week)")
        command("rfm", "customers per RFM segment, from the last recompute")
        pareto = command("pareto", "share of revenue from the top x %% of customers (completed orders)")
        pareto.add_argument("--from", type=_date, default=None, dest="start", help="first day (inclusive)")
        pareto.add_argument("--to", type=_date, default=None, dest="end", help="last day (inclusive)")
        pareto.add_argument("--period", choices=["month", "quarter", "year"], default="",
                            help="also a table per period (needs --from and --to)")
        command("segments", "customers per lifecycle stage, from the last recompute")
        moves = command("moves", "customers who moved between lifecycle stages")
        moves.add_argument("--from", default="", dest="from_stage", help="stage they left ('-' for none)")
        moves.add_argument("--to", default="", dest="to_stage", help="stage they entered")
        moves.add_argument("--since", type=_date, default=None, help="first day (inclusive)")
        moves.add_argument("--until", type=_date, default=None, help="last day (inclusive)")
        moves.add_argument("--this-quarter", action="store_true", dest="this_quarter")
        moves.add_argument("--limit", type=int, default=100, help="customers to list (default 100)")
        recompute = command("recompute", "recompute RFM, lifecycle and CLV for every customer now")
        recompute.add_argument("--as-of", type=_date, default=None, dest="as_of",
                               help="score as if today were this date (default today)")
        rules = command("rules", "show the rules, or change some with --set '{\"lifecycle\": {...}}'")
        rules.add_argument("--set", default=None, dest="changes", help="JSON object of changes")

    def handle(self, *args, **opts):
        workspace = self.workspace_arg(opts["workspace"])
        getattr(self, f"_{opts['action']}")(workspace, opts)

    # --- actions -------------------------------------------------------------------

    def _clv(self, workspace, opts):
        from samphan.analytics.rules import workspace_today
        from samphan.analytics.selectors import clv_fit_report

        end = opts["calibration_end"] or workspace_today(workspace)
        report = clv_fit_report(workspace=workspace, calibration_end=end, unit=opts["unit"])
        data = report.as_json()
        if opts["json"]:
            self.print_json(data)
            return
        b, g = data["bgnbd"], data["gamma_gamma"]
        self.stdout.write(f"{workspace.slug}: {data['customers']:,} customers, calibration ends {end}, unit {opts['unit']}")
        self.stdout.write(f"BG/NBD       r={b['r']:.4f} alpha={b['alpha']:.4f} a={b['a']:.4f} b={b['b']:.4f} "
                          f"LL={b['log_likelihood']:.2f}")
        self.stdout.write(f"Gamma-Gamma  p={g['p']:.4f} q={g['q']:.4f} gamma={g['gamma']:.4f} "
                          f"({g['customers']:,} repeat buyers)")

    def _rfm(self, workspace, opts):
        from samphan.analytics.selectors import rfm_summary

        data = rfm_summary(workspace=workspace)
        if opts["json"]:
            self.print_json(data)
            return
        self._require_scores(data["customers"], workspace)
        self.stdout.write(f"{workspace.slug}: {data['customers']:,} customers scored, as of {data['as_of']}, "
                          f"last {data['period_days']} days")
        for code, row in data["segments"].items():
            self.stdout.write(f"  {row['label']:<20} {row['customers']:>10,}  {code}")

    def _pareto(self, workspace, opts):
        from samphan.analytics.selectors import pareto_by_period, pareto_report

        data = pareto_report(workspace=workspace, start=opts["start"], end=opts["end"], curve=False)
        if opts["period"]:
            if not (opts["start"] and opts["end"]):
                raise CommandError("--period needs --from and --to", returncode=2)
            data["periods"] = pareto_by_period(workspace=workspace, period=opts["period"], start=opts["start"],
                                               end=opts["end"])
        if opts["json"]:
            self.print_json(data)
            return
        self.stdout.write(f"{workspace.slug}: {data['customers']:,} customers, revenue {data['revenue']:,.2f}")
        for share, value in data["top_share"].items():
            shown = "—" if value is None else f"{100 * value:6.2f} %"
            self.stdout.write(f"  top {share:>2} % of customers → {shown} of revenue")
        for row in data.get("periods", []):
            tops = "  ".join(f"{k}%:{'—' if v is None else f'{100 * v:.1f}'}" for k, v in row["top_share"].items())
            self.stdout.write(f"  {row['period']:<8} {row['customers']:>9,}  {tops}")

    def _segments(self, workspace, opts):
        from samphan.analytics.selectors import stage_counts

        data = stage_counts(workspace=workspace)
        if opts["json"]:
            self.print_json(data)
            return
        self._require_scores(data["customers"], workspace)
        self.stdout.write(f"{workspace.slug}: {data['customers']:,} customers, as of {data['as_of']}")
        for code, row in data["stages"].items():
            self.stdout.write(f"  {row['label']:<28} {row['customers']:>10,}  {code}")

    def _moves(self, workspace, opts):
        from samphan.analytics.rules import workspace_today
        from samphan.analytics.selectors import local_midnight, quarter_start, stage_moves

        tz = workspace.time_zone
        since = local_midnight(opts["since"], tz) if opts["since"] else None
        if opts["this_quarter"]:
            since = local_midnight(quarter_start(workspace_today(workspace)), tz)
        until = local_midnight(date.fromordinal(opts["until"].toordinal() + 1), tz) if opts["until"] else None
        qs = stage_moves(workspace=workspace, from_stage=opts["from_stage"], to_stage=opts["to_stage"],
                         since=since, until=until)
        total = qs.count()
        rows = list(qs.values("customer_id", "from_stage", "to_stage", "changed_at")[: max(opts["limit"], 0)])
        if opts["json"]:
            self.print_json({"count": total, "since": since, "until": until, "moves": rows})
            return
        self.stdout.write(f"{total:,} moves")
        for row in rows:
            changed: datetime = row["changed_at"]
            self.stdout.write(f"  #{row['customer_id']:<10} {row['from_stage'] or '—':>15} → {row['to_stage']:<15} "
                              f"{changed:%Y-%m-%d %H:%M}")

    def _recompute(self, workspace, opts):
        from tqdm import tqdm

        from samphan.analytics.services import RECOMPUTE_STEPS, analytics_recompute

        quiet = opts["json"] or opts["verbosity"] == 0 or not sys.stderr.isatty()
        with tqdm(total=len(RECOMPUTE_STEPS), unit=" steps", file=sys.stderr, disable=quiet,
                  desc=f"analytics → {workspace.slug}") as bar:

            def progress(step: int, message: str) -> None:
                bar.set_postfix_str(message)
                bar.update(step - bar.n)

            summary = analytics_recompute(workspace=workspace, as_of=opts["as_of"], progress=progress, via="cli")
        if opts["json"]:
            self.print_json(summary)
            return
        self.stdout.write(f"{summary['customers']:,} customers scored as of {summary['as_of']} "
                          f"({summary['stage_changes']:,} stage changes) in {sum(summary['seconds'].values()):.1f} s")
        for stage, n in sorted(summary["stages"].items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  {stage:<16} {n:>10,}")
        if summary["clv_error"]:
            self.stdout.write(f"no CLV: {summary['clv_error']}")

    def _rules(self, workspace, opts):
        from samphan.analytics.services import analytics_rules_get, analytics_rules_update

        if opts["changes"]:
            try:
                changes = json.loads(opts["changes"])
            except json.JSONDecodeError as exc:
                raise CommandError(f"--set wants a JSON object: {exc}", returncode=2) from None
            rules = analytics_rules_update(workspace=workspace, changes=changes, via="cli")
        else:
            rules = analytics_rules_get(workspace=workspace)
        if opts["json"]:
            self.print_json(rules)
        else:
            self.stdout.write(json.dumps(rules, indent=2, ensure_ascii=False))

    def _require_scores(self, customers: int, workspace) -> None:
        if not customers:
            self.stderr.write(f"no scores yet in {workspace.slug}: run `samphan analytics recompute "
                              f"--workspace {workspace.slug}`")
