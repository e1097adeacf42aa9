"""samphan import customers|orders FILE --workspace SLUG [--json] [--errors-csv PATH]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from samphan.core.management.base import SamphanCommand
from samphan.imports.reading import ImportFileError
from samphan.imports.services import import_file
from samphan.imports.summary import errors_csv

SHOWN_ERRORS = 50
EXIT_ROWS_REJECTED = 2


class Command(SamphanCommand):
    help = (
        "Import customers or orders from a CSV (UTF-8) or XLSX file into a workspace. "
        "Re-importing the same file changes nothing. Exit status: 0 every row imported or unchanged; "
        f"{EXIT_ROWS_REJECTED} finished, but some rows were rejected (see the report); "
        "1 nothing imported (unknown workspace, unreadable file, missing column)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=["customers", "orders"], help="what the file holds")
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
        parser.add_argument("--errors-csv", metavar="PATH", help="write every row error (row, field, reason) to PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self.workspace_arg(options["workspace"])
        as_json = options["json"]
        show_bar = not as_json and self.stdout.isatty()
        bar: Any = None

        def on_total(total: int) -> None:
            nonlocal bar
            if show_bar:
                from tqdm import tqdm

                bar = tqdm(total=total, file=sys.stderr, unit="rows", unit_scale=True, desc=options["kind"])

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(done - bar.n)

        try:
            summary = import_file(workspace=workspace, kind=options["kind"], path=options["file"], via="cli",
                                  progress=progress, on_total=on_total)
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=1) from None
        finally:
            if bar is not None:
                bar.close()
        if options["errors_csv"]:
            Path(options["errors_csv"]).write_text(errors_csv(summary.errors), encoding="utf-8-sig")
        if as_json:
            self.print_json(summary.as_dict())
        else:
            self._print_report(summary, Path(options["file"]).name, workspace.slug, options["errors_csv"])
        if summary.errors:
            raise CommandError(f"{summary.rejected} of {summary.rows} rows were rejected", returncode=EXIT_ROWS_REJECTED)

    def _print_report(self, summary: Any, name: str, slug: str, errors_path: str | None) -> None:
        counts = summary.counts()
        self.stdout.write(f"{summary.kind} from {name} into {slug}")
        self.stdout.write("  ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()))
        if summary.ignored_columns:
            self.stdout.write(f"ignored columns: {', '.join(summary.ignored_columns)}")
        for error in summary.errors[:SHOWN_ERRORS]:
            self.stdout.write(f"row {error['row']} {error['field']}: {error['reason']}")
        hidden = len(summary.errors) - SHOWN_ERRORS
        if hidden > 0:
            where = f"all errors are in {errors_path}" if errors_path else "use --errors-csv PATH or --json for all"
            self.stdout.write(f"… {hidden} more errors ({where})")
