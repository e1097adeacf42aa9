"""What an import did: counts of rows and the per-row error report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

# progress(done_rows, total_rows)
Progress = Callable[[int, int], None]

ERROR_COLUMNS = ("row", "field", "reason")


@dataclass
class ImportSummary:
    kind: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows not imported (a row may have several errors)."""
        return len({e["row"] for e in self.errors})

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "customers_created": self.customers_created,
                "rejected": self.rejected}

    def as_dict(self, *, max_errors: int | None = None) -> dict[str, Any]:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {"kind": self.kind, **self.counts(), "errors": errors, "error_count": len(self.errors),
                "ignored_columns": self.ignored_columns}

    def add_errors(self, frame: pl.DataFrame) -> None:
        """Append errors from a frame with columns row, field, reason."""
        if frame.height:
            self.errors.extend(frame.select(ERROR_COLUMNS).to_dicts())

    def sort_errors(self) -> None:
        self.errors.sort(key=lambda e: (e["row"], e["field"]))


def errors_csv(errors: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ERROR_COLUMNS)
    for error in errors:
        writer.writerow([error["row"], error["field"], error["reason"]])
    return out.getvalue()
