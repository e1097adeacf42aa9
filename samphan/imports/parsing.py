"""Reading the values in import cells: dates, money and other decimals.

Two forms of each parser, with the same rules and the same error texts:

- vectorised (polars expressions) for the bulk path — a million order rows are
  parsed in well under a second;
- scalar (plain Python) for row-by-row code and as the reference the tests
  compare the vectorised form against (tests/imports/test_parsing.py, with
  hypothesis).

Dates: ISO 8601 (date or date-time, with or without a UTC offset; a naive time
is in the workspace's time zone), YYYYMMDD and DD/MM/YYYY [HH:MM[:SS]]. A year
above 2400 is a Thai Buddhist-era year: 543 is subtracted (2568 → 2025).
Thai digits (๐–๙) are read as digits.

Money: plain decimals, thousands separators (1,234.50), an optional ฿ prefix,
a sign before or after the ฿. Anything else is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl

# Stripped from both ends of every cell: spaces, tabs, line ends, the no-break
# space spreadsheets like to leave, and a stray byte-order mark.
WHITESPACE = " \t\r\n\u00a0\ufeff"
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_THAI_TABLE = str.maketrans(THAI_DIGITS, "0123456789")

BE_THRESHOLD = 2400  # a year above this is Buddhist era
BE_OFFSET = 543
MIN_YEAR, MAX_YEAR = 1900, 2200

DATE_FORMAT_ERROR = "not a date (use YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"
NO_SUCH_DATE = "no such date or time"
BAD_OFFSET = "bad UTC offset"

# Only ASCII digits: [0-9], never \d (which matches every script's digits).
_ISO = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[T ](?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
    r" ?(?P<tz>Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
_YMD = r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$"
_DMY = (
    r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})"
    r"(?:[ T](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?$"
)
_PATTERNS = (_ISO, _YMD, _DMY)
_PY_PATTERNS = tuple(re.compile(p) for p in _PATTERNS)


class CellError(ValueError):
    """A cell's value cannot be used; the message is the reason shown to the person."""


@dataclass(frozen=True)
class NumberRule:
    """A decimal column: how many decimal places it keeps and how many integer digits fit."""

    places: int
    int_digits: int
    currency_sign: bool = True  # ฿ allowed

    @property
    def scale(self) -> int:
        return 10**self.places


MONEY = NumberRule(places=2, int_digits=12)  # DecimalField(max_digits=14, decimal_places=2)
PRICE = NumberRule(places=2, int_digits=10)  # DecimalField(max_digits=12, decimal_places=2)
QUANTITY = NumberRule(places=3, int_digits=9, currency_sign=False)  # max_digits=12, places=3

_NUMBER = (
    r"^(?P<s1>[+-]?) ?(?P<baht>฿?) ?(?P<s2>[+-]?)"
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<frac>[0-9]*))?$"
)
_PY_NUMBER = re.compile(_NUMBER)


def _number_error(rule: NumberRule) -> str:
    if rule.currency_sign:
        return "not an amount (use digits like 1234.50, 1,234.50 or ฿1,234.50)"
    return "not a number (use digits like 2 or 1.5)"


# --------------------------------------------------------------------------
# Scalar (reference) parsers
# --------------------------------------------------------------------------


def clean_text(value: object) -> str:
    return "" if value is None else str(value).strip(WHITESPACE)


def _date_parts(text: str) -> tuple[int, int, int, int, int, int, int, int | None]:
    """(year CE, month, day, hour, minute, second, microsecond, offset minutes or None)."""
    t = clean_text(text).translate(_THAI_TABLE)
    for pattern in _PY_PATTERNS:
        match = pattern.fullmatch(t)
        if match:
            break
    else:
        raise CellError(DATE_FORMAT_ERROR)
    g = match.groupdict()
    year = int(g["y"])
    if year > BE_THRESHOLD:
        year -= BE_OFFSET
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CellError(f"year {g['y']} is out of range")
    month, day = int(g["m"]), int(g["d"])
    hour, minute, second = int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0)
    micro = int((g.get("f") or "")[:6].ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise CellError(NO_SUCH_DATE)
    try:
        datetime(year, month, day)
    except ValueError:
        raise CellError(NO_SUCH_DATE) from None
    offset = None
    tz = g.get("tz")
    if tz:
        if tz in "Zz":
            offset = 0
        else:
            digits = tz[1:].replace(":", "")
            hh, mm = int(digits[:2]), int(digits[2:4] or 0)
            if hh > 14 or mm > 59:
                raise CellError(BAD_OFFSET)
            offset = (hh * 60 + mm) * (-1 if tz[0] == "-" else 1)
    return year, month, day, hour, minute, second, micro, offset


def parse_datetime(text: str, tz: str) -> datetime:
    """An aware UTC datetime; a time without an offset is local time in `tz`."""
    year, month, day, hour, minute, second, micro, offset = _date_parts(text)
    naive = datetime(year, month, day, hour, minute, second, micro)
    if offset is not None:
        return (naive - timedelta(minutes=offset)).replace(tzinfo=UTC)
    zone = ZoneInfo(tz)
    local = naive.replace(tzinfo=zone)
    result = local.astimezone(UTC)
    if result.astimezone(zone).replace(tzinfo=None) != naive:
        raise CellError(f"no such local time in {tz}")
    return result


def parse_date(text: str) -> date:
    """The calendar date written in the cell (a time or offset, if any, is ignored)."""
    year, month, day, *_rest = _date_parts(text)
    return date(year, month, day)


def parse_number(text: str, rule: NumberRule = MONEY) -> int:
    """The value scaled to an integer (satang for money, thousandths for quantities)."""
    t = clean_text(text).translate(_THAI_TABLE)
    match = _PY_NUMBER.fullmatch(t)
    if not match:
        raise CellError(_number_error(rule))
    g = match.groupdict()
    whole = g["int"].replace(",", "")
    frac = (g["frac"] or "").rstrip("0")
    if (g["s1"] and g["s2"]) or (g["baht"] and not rule.currency_sign) or not (g["int"] or g["frac"]):
        raise CellError(_number_error(rule))
    if len(frac) > rule.places:
        raise CellError(f"more than {rule.places} decimal places")
    whole = whole.lstrip("0")
    if len(whole) > rule.int_digits:
        raise CellError("too large")
    value = int(whole or "0") * rule.scale + int(frac.ljust(rule.places, "0") or "0")
    return -value if "-" in (g["s1"] + g["s2"]) else value


def scaled_to_decimal(value: int, places: int) -> Decimal:
    return Decimal(value).scaleb(-places)


# --------------------------------------------------------------------------
# Vectorised parsers
# --------------------------------------------------------------------------
# The shape of a cell is checked with the same regular expressions as above,
# used only as yes/no tests (fast); the parts are then cut out with slices and
# splits, which cost far less than regex capture groups on a million rows.


def _prepare(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(WHITESPACE).str.replace_many(list(THAI_DIGITS), list("0123456789"))


def _blank_or_null(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | (expr == "")


def parse_datetimes(values: pl.Series, tz: str, *, date_only: bool = False) -> tuple[pl.Series, pl.Series]:
    """(value, error) for a string column: value is Datetime(us, UTC), or Date with date_only.

    A blank cell gives null for both; the error texts are those of parse_datetime.
    """
    t = pl.col("t")
    frame = pl.DataFrame({"t": values.cast(pl.String)}).select(t=_prepare(t))
    frame = frame.with_columns(
        iso=t.str.contains(_ISO), ymd=t.str.contains(_YMD), dmy=t.str.contains(_DMY),
        rest=t.str.slice(10),
        dmy_parts=t.str.split_exact("/", 2),
    )
    # ISO: fixed places up to the minutes, then [:SS][.fraction][ ][offset].
    rest = pl.col("rest")
    after_minutes = rest.str.slice(6)
    has_seconds = after_minutes.str.starts_with(":")
    after_seconds = pl.when(has_seconds).then(after_minutes.str.slice(3)).otherwise(after_minutes)
    frame = frame.with_columns(after_seconds=after_seconds, has_seconds=has_seconds,
                               dmy_year_time=pl.col("dmy_parts").struct.field("field_2"))
    after = pl.col("after_seconds")
    has_fraction = after.str.starts_with(".") | after.str.starts_with(",")
    fraction_and_offset = pl.when(has_fraction).then(after.str.slice(1)).otherwise(after)
    frame = frame.with_columns(fo=fraction_and_offset, has_fraction=has_fraction)
    fo = pl.col("fo")
    offset_text = fo.str.strip_chars_start("0123456789")
    frame = frame.with_columns(
        fraction=pl.when(pl.col("has_fraction")).then(fo.str.slice(0, fo.str.len_chars() - offset_text.str.len_chars())),
        tz=offset_text.str.strip_chars_start(" "),
        dmy_time=pl.col("dmy_year_time").str.slice(4).str.strip_chars(" T").str.split_exact(":", 2),
    )
    iso, ymd, dmy = pl.col("iso"), pl.col("ymd"), pl.col("dmy")
    dmy_time = pl.col("dmy_time")
    has_time = rest != ""
    frame = frame.with_columns(
        y=pl.when(iso | ymd).then(t.str.slice(0, 4)).when(dmy).then(pl.col("dmy_year_time").str.slice(0, 4)),
        m=pl.when(iso).then(t.str.slice(5, 2)).when(ymd).then(t.str.slice(4, 2))
        .when(dmy).then(pl.col("dmy_parts").struct.field("field_1")),
        d=pl.when(iso).then(t.str.slice(8, 2)).when(ymd).then(t.str.slice(6, 2))
        .when(dmy).then(pl.col("dmy_parts").struct.field("field_0")),
        H=pl.when(iso & has_time).then(rest.str.slice(1, 2)).when(dmy).then(dmy_time.struct.field("field_0")),
        M=pl.when(iso & has_time).then(rest.str.slice(4, 2)).when(dmy).then(dmy_time.struct.field("field_1")),
        S=pl.when(iso & pl.col("has_seconds")).then(rest.str.slice(7, 2)).when(dmy).then(dmy_time.struct.field("field_2")),
        f=pl.when(iso).then(pl.col("fraction")),
        tz=pl.when(iso & (pl.col("tz") != "")).then(pl.col("tz")),
    )
    raw_year = pl.col("y").cast(pl.Int32)
    frame = frame.with_columns(
        year=pl.when(raw_year > BE_THRESHOLD).then(raw_year - BE_OFFSET).otherwise(raw_year),
        hour=pl.col("H").replace("", None).fill_null("0").cast(pl.Int32),
        minute=pl.col("M").replace("", None).fill_null("0").cast(pl.Int32),
        second=pl.col("S").replace("", None).fill_null("0").cast(pl.Int32),
        micro=pl.col("f").fill_null("").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64),
    )
    year, hour, minute, second = pl.col("year"), pl.col("hour"), pl.col("minute"), pl.col("second")
    naive_text = pl.format(
        "{}-{}-{} {}:{}:{}",
        year.cast(pl.String).str.zfill(4), pl.col("m").str.zfill(2), pl.col("d").str.zfill(2),
        hour.cast(pl.String).str.zfill(2), minute.cast(pl.String).str.zfill(2), second.cast(pl.String).str.zfill(2),
    )
    day_ok = (hour <= 23) & (minute <= 59) & (second <= 59)
    frame = frame.with_columns(
        naive=pl.when(day_ok).then(naive_text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"))
        + pl.duration(microseconds=pl.col("micro")),
    )
    tz_text = pl.col("tz")
    tz_digits = tz_text.str.slice(1).str.replace(":", "", literal=True)
    off_h = tz_digits.str.slice(0, 2).cast(pl.Int32, strict=False)
    off_m = tz_digits.str.slice(2, 2).replace("", None).cast(pl.Int32, strict=False).fill_null(0)
    is_z = tz_text.str.to_uppercase() == "Z"
    sign = pl.when(tz_text.str.starts_with("-")).then(-1).otherwise(1)
    frame = frame.with_columns(
        offset=pl.when(is_z).then(0).otherwise(sign * (off_h * 60 + off_m)),
        offset_bad=tz_text.is_not_null() & ~is_z & ((off_h > 14) | (off_m > 59)),
    )
    blank = _blank_or_null(t)
    error: pl.Expr = (
        pl.when(blank).then(pl.lit(None, pl.String))
        .when(~(iso | ymd | dmy)).then(pl.lit(DATE_FORMAT_ERROR))
        .when((year < MIN_YEAR) | (year > MAX_YEAR)).then(pl.format("year {} is out of range", pl.col("y")))
        .when(pl.col("naive").is_null()).then(pl.lit(NO_SUCH_DATE))
        .when(pl.col("offset_bad")).then(pl.lit(BAD_OFFSET))
    )
    frame = frame.with_columns(error=error)
    if date_only:
        out = frame.select(value=pl.when(pl.col("error").is_null() & ~blank).then(pl.col("naive").dt.date()), error="error")
        return out["value"], out["error"]
    naive = pl.col("naive")
    aware = (naive - pl.duration(minutes=pl.col("offset").fill_null(0))).dt.replace_time_zone("UTC")
    local = naive.dt.replace_time_zone(tz, non_existent="null", ambiguous="earliest").dt.convert_time_zone("UTC")
    frame = frame.with_columns(utc=pl.when(tz_text.is_not_null()).then(aware).otherwise(local))
    error = pl.when(pl.col("error").is_null() & ~blank & pl.col("utc").is_null()).then(
        pl.lit(f"no such local time in {tz}")).otherwise(pl.col("error"))
    out = frame.select(error=error, utc="utc", blank=blank)
    out = out.select(value=pl.when(pl.col("error").is_null() & ~pl.col("blank")).then(pl.col("utc")), error="error")
    return out["value"], out["error"]


def parse_numbers(values: pl.Series, rule: NumberRule = MONEY) -> tuple[pl.Series, pl.Series]:
    """(scaled Int64 value, error) for a string column; a blank cell gives nulls."""
    t = pl.col("t")
    frame = pl.DataFrame({"t": values.cast(pl.String)}).select(t=_prepare(t))
    frame = frame.with_columns(
        shape_ok=t.str.contains(_NUMBER),
        signs=t.str.count_matches(r"[+-]"),
        baht=t.str.contains("฿", literal=True),
        negative=t.str.contains("-", literal=True),
        parts=t.str.replace_many(["฿", ",", "+", "-", " "], [""] * 5).str.split_exact(".", 1),
    )
    raw_int = pl.col("parts").struct.field("field_0")
    raw_frac = pl.col("parts").struct.field("field_1")
    frame = frame.with_columns(
        raw_int=raw_int, raw_frac=raw_frac,
        whole=raw_int.str.strip_chars_start("0"), frac=raw_frac.fill_null("").str.strip_chars_end("0"),
    )
    whole, frac = pl.col("whole"), pl.col("frac")
    malformed = (
        ~pl.col("shape_ok") | (pl.col("signs") > 1)
        | ((pl.col("raw_int") == "") & (pl.col("raw_frac").is_null() | (pl.col("raw_frac") == "")))
    )
    if not rule.currency_sign:
        malformed = malformed | pl.col("baht")
    blank = _blank_or_null(t)
    error = (
        pl.when(blank).then(pl.lit(None, pl.String))
        .when(malformed).then(pl.lit(_number_error(rule)))
        .when(frac.str.len_chars() > rule.places).then(pl.lit(f"more than {rule.places} decimal places"))
        .when(whole.str.len_chars() > rule.int_digits).then(pl.lit("too large"))
    )
    magnitude = (
        pl.when(whole == "").then(pl.lit("0")).otherwise(whole).cast(pl.Int64, strict=False) * rule.scale
        + pl.when(frac == "").then(pl.lit("0")).otherwise(frac.str.pad_end(rule.places, "0")).cast(pl.Int64, strict=False)
    )
    out = frame.select(error=error, magnitude=magnitude, negative="negative", blank=blank)
    out = out.select(
        value=pl.when(pl.col("error").is_null() & ~pl.col("blank"))
        .then(pl.when(pl.col("negative")).then(-pl.col("magnitude")).otherwise(pl.col("magnitude"))),
        error="error",
    )
    return out["value"], out["error"]


def scaled_text(expr: pl.Expr, places: int) -> pl.Expr:
    """A scaled Int64 column as decimal text: 123450 with places=2 → "1234.50"."""
    scale = 10**places
    magnitude = expr.abs()
    return pl.format(
        "{}{}.{}",
        pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // scale).cast(pl.String),
        (magnitude % scale).cast(pl.String).str.zfill(places),
    )
