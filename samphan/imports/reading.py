"""Reading an import file (CSV or XLSX, UTF-8) into a table of strings.

Every cell is a string (or null when blank), names are lower-cased and trimmed,
and each row carries `_row`: its line in the file with the header as line 1
(a quoted value that spans lines moves the following rows down), or its row
number in the spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from samphan.imports.parsing import WHITESPACE

ROW = "_row"
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is one line for a person."""


@dataclass
class Table:
    frame: pl.DataFrame  # string columns named by the normalised header, plus _row (Int64)
    columns: list[str]  # normalised names, in file order (without _row)
    source_name: str = ""

    @property
    def rows(self) -> int:
        return self.frame.height

    def head(self, n: int) -> Table:
        return Table(self.frame.head(n), self.columns, self.source_name)


def normalise_header(name: object) -> str:
    return "" if name is None else str(name).strip(WHITESPACE).lower()


def file_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise ImportFileError(f"{Path(name).name}: use a .csv or .xlsx file")


def read_table(path: str | Path, *, max_rows: int | None = None, name: str | None = None) -> Table:
    """Read the whole file (or its first `max_rows` data rows) or raise ImportFileError."""
    path = Path(path)
    display = name or path.name
    kind = file_kind(name or path.name)
    if not path.exists():
        raise ImportFileError(f"{display}: no such file")
    if not path.is_file():
        raise ImportFileError(f"{display}: not a file")
    try:
        table = _read_xlsx(path, max_rows) if kind == "xlsx" else _read_csv(path, max_rows)
    except OSError as exc:
        raise ImportFileError(f"{display}: cannot read the file ({exc.strerror or exc})") from None
    table.source_name = display
    return table


def _finish(frame: pl.DataFrame, header: list[object]) -> Table:
    names = [normalise_header(h) for h in header]
    seen: dict[str, int] = {}
    for name in names:
        if name:
            seen[name] = seen.get(name, 0) + 1
    duplicated = sorted(n for n, count in seen.items() if count > 1)
    if duplicated:
        raise ImportFileError(f"the column {', '.join(duplicated)} appears more than once in the header")
    keep = [(old, new) for old, new in zip(frame.columns, names + [""] * len(frame.columns), strict=False)
            if new and old != ROW]
    cells = [
        pl.col(old).cast(pl.String).str.strip_chars(WHITESPACE).replace("", None).alias(new) for old, new in keep
    ]
    frame = frame.select([pl.col(ROW), *cells])
    if keep:  # rows where every cell is blank (an empty line, a spreadsheet gap) are not data
        frame = frame.filter(pl.any_horizontal([pl.col(new).is_not_null() for _old, new in keep]))
    else:
        frame = frame.clear()
    return Table(frame=frame, columns=[new for _old, new in keep])


def _read_csv(path: Path, max_rows: int | None) -> Table:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(f"the file is not UTF-8 text (first bad byte on line {line}); save it as CSV UTF-8") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ImportFileError("the file is empty")
    try:
        frame = pl.read_csv(
            io.BytesIO(data), has_header=False, infer_schema=False, n_rows=None if max_rows is None else max_rows + 1,
            encoding="utf8", raise_if_empty=True,
        )
    except pl.exceptions.PolarsError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportFileError(f"the file cannot be read as CSV: {first_line}") from None
    header = [frame[c][0] for c in frame.columns]
    # Line numbers: the header is line 1; a quoted value with line breaks pushes later rows down.
    line_breaks = pl.sum_horizontal([pl.col(c).fill_null("").str.count_matches("\n", literal=True) for c in frame.columns])
    frame = frame.with_columns(
        (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + line_breaks.cum_sum().shift(1, fill_value=0)).alias(ROW)
    ).slice(1)
    return _finish(frame, header)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_xlsx(path: Path, max_rows: int | None) -> Table:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ImportFileError(f"the file cannot be read as XLSX ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read to the real end
        header: list[object] | None = None
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if header is None:
                if any(v is not None and str(v).strip() for v in values):
                    header = list(values)
                    header_row = number
                continue
            if max_rows is not None and len(rows) >= max_rows:
                break
            rows.append([_cell_text(v) for v in values])
            numbers.append(number)
    finally:
        workbook.close()
    if header is None:
        raise ImportFileError("the spreadsheet is empty")
    del header_row
    width = len(header)
    for row in rows:  # a row may be shorter or longer than the header
        row.extend([None] * (width - len(row)))
        del row[width:]
    columns = [f"column_{i}" for i in range(width)]
    frame = pl.DataFrame(
        {name: [row[i] for row in rows] for i, name in enumerate(columns)} | {ROW: numbers},
        schema={**dict.fromkeys(columns, pl.String), ROW: pl.Int64},
    )
    return _finish(frame.select([*columns, ROW]), header)
