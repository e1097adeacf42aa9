"""Dates and amounts: the vectorised parsers (bulk path) and the scalar ones agree, and both are right."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samphan.imports import parsing as P

TZ = "Asia/Bangkok"


def vector_datetime(texts: list[str | None], tz: str = TZ, date_only: bool = False):
    values, errors = P.parse_datetimes(pl.Series(texts, dtype=pl.String), tz, date_only=date_only)
    return list(zip(values.to_list(), errors.to_list(), strict=True))


def scalar_datetime(text: str | None, tz: str = TZ, date_only: bool = False):
    if text is None or not P.clean_text(text):
        return (None, None)
    try:
        value = P.parse_date(text) if date_only else P.parse_datetime(text, tz)
    except P.CellError as exc:
        return (None, str(exc))
    return (value, None)


def vector_number(texts, rule=P.MONEY):
    values, errors = P.parse_numbers(pl.Series(texts, dtype=pl.String), rule)
    return list(zip(values.to_list(), errors.to_list(), strict=True))


def scalar_number(text, rule=P.MONEY):
    if text is None or not P.clean_text(text):
        return (None, None)
    try:
        return (P.parse_number(text, rule), None)
    except P.CellError as exc:
        return (None, str(exc))


# --- examples ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2025-01-31", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),            # naive = Bangkok midnight
    ("2568-01-31", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),            # Buddhist era
    ("20250131", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
    ("25680131", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
    ("31/01/2025", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
    ("31/1/2568 10:30", datetime(2025, 1, 31, 3, 30, tzinfo=UTC)),
    ("2025-01-31T10:00:00Z", datetime(2025, 1, 31, 10, 0, tzinfo=UTC)),
    ("2025-01-31 10:00:00.5+07:00", datetime(2025, 1, 31, 3, 0, 0, 500000, tzinfo=UTC)),
    ("2025-01-31T10:00-0130", datetime(2025, 1, 31, 11, 30, tzinfo=UTC)),
    ("๒๕๖๘-๐๑-๓๑", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),              # Thai digits
    ("  2025-01-31  ", datetime(2025, 1, 30, 17, 0, tzinfo=UTC)),
    ("2567-02-29", datetime(2024, 2, 28, 17, 0, tzinfo=UTC)),            # BE 2567 = 2024, a leap year
])
def test_dates_that_parse(text, expected):
    assert scalar_datetime(text) == (expected, None)
    assert vector_datetime([text]) == [(expected, None)]


@pytest.mark.parametrize(("text", "reason"), [
    ("2025-02-30", P.NO_SUCH_DATE),
    ("2025-01-31T24:00", P.NO_SUCH_DATE),
    ("2025-01-31T23:59:60", P.NO_SUCH_DATE),
    ("1800-01-01", "year 1800 is out of range"),
    ("2300-01-01", "year 2300 is out of range"),
    ("31-01-2025", P.DATE_FORMAT_ERROR),
    ("Jan 31 2025", P.DATE_FORMAT_ERROR),
    ("2025-01-31Z", P.DATE_FORMAT_ERROR),
    ("2025-01-31T10:00+15:00", P.BAD_OFFSET),
    ("٢٠٢٥-٠١-٣١", P.DATE_FORMAT_ERROR),  # Arabic-Indic digits are not read as digits
])
def test_dates_that_fail(text, reason):
    assert scalar_datetime(text) == (None, reason)
    assert vector_datetime([text]) == [(None, reason)]


def test_blank_dates_are_null_not_errors():
    assert vector_datetime([None, "", "  "]) == [(None, None)] * 3


def test_date_only_keeps_the_written_day():
    assert vector_datetime(["2025-01-31T23:30:00-05:00", "2568-12-01"], date_only=True) == [
        (date(2025, 1, 31), None), (date(2025, 12, 1), None)]


@pytest.mark.parametrize(("text", "value"), [
    ("1234.50", 123450), ("1,234.50", 123450), ("฿1,234.50", 123450), ("฿ 5", 500), ("-฿5", -500),
    ("฿-5", -500), ("-12.3", -1230), (".5", 50), ("5.", 500), ("12.340", 1234), ("+3", 300),
    ("1,234,567", 123456700), ("๑๒", 1200),
])
def test_amounts_that_parse(text, value):
    assert scalar_number(text) == (value, None)
    assert vector_number([text]) == [(value, None)]


@pytest.mark.parametrize(("text", "reason"), [
    ("1,23", "not an amount"), ("12,34.5", "not an amount"), ("abc", "not an amount"), (".", "not an amount"),
    ("-฿-5", "not an amount"), ("1.2.3", "not an amount"), ("1 234", "not an amount"), ("$5", "not an amount"),
    ("12.345", "more than 2 decimal places"), ("1234567890123", "too large"), ("5 THB", "not an amount"),
])
def test_amounts_that_fail(text, reason):
    scalar = scalar_number(text)
    assert scalar[0] is None and scalar[1].startswith(reason)
    assert vector_number([text]) == [scalar]


def test_quantity_rule_rejects_baht_and_keeps_three_places():
    assert vector_number(["1.5", "฿1", "0.001"], P.QUANTITY) == [
        (1500, None), (None, P._number_error(P.QUANTITY)), (1, None)]


def test_scaled_text():
    out = pl.DataFrame({"v": [123450, -5, 0, 7]}).select(P.scaled_text(pl.col("v"), 2))
    assert out.to_series().to_list() == ["1234.50", "-0.05", "0.00", "0.07"]


# --- properties -------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31, 23, 59, 59))
offsets = st.one_of(st.none(), st.integers(min_value=-14 * 60, max_value=14 * 60))


def _offset_text(minutes: int, style: int) -> str:
    if minutes == 0 and style == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    if style == 1 or (style == 2 and mm):
        return f"{sign}{hh:02d}:{mm:02d}"
    if style == 2:
        return f"{sign}{hh:02d}"
    return f"{sign}{hh:02d}{mm:02d}"


@st.composite
def written_dates(draw):
    """(text, expected aware UTC datetime) in every accepted format, CE or BE."""
    moment = draw(moments)
    be = draw(st.booleans())
    year = moment.year + 543 if be else moment.year
    fmt = draw(st.sampled_from(["iso_date", "iso", "ymd", "dmy", "dmy_time"]))
    local = ZoneInfo(TZ)
    if fmt == "iso_date":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return f"{year:04d}-{moment:%m-%d}", day.replace(tzinfo=local).astimezone(UTC)
    if fmt == "ymd":
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return f"{year:04d}{moment:%m%d}", day.replace(tzinfo=local).astimezone(UTC)
    if fmt in ("dmy", "dmy_time"):
        d = str(moment.day) if draw(st.booleans()) else f"{moment.day:02d}"
        m = str(moment.month) if draw(st.booleans()) else f"{moment.month:02d}"
        if fmt == "dmy":
            day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            return f"{d}/{m}/{year:04d}", day.replace(tzinfo=local).astimezone(UTC)
        with_seconds = draw(st.booleans())
        naive = moment.replace(microsecond=0, second=moment.second if with_seconds else 0)
        clock = f"{naive:%H:%M:%S}" if with_seconds else f"{naive:%H:%M}"
        return f"{d}/{m}/{year:04d} {clock}", naive.replace(tzinfo=local).astimezone(UTC)
    sep = draw(st.sampled_from(["T", " "]))
    with_seconds = draw(st.booleans())
    digits = draw(st.integers(min_value=0, max_value=9)) if with_seconds else 0
    fraction = f"{moment.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits] if digits else ""
    naive = moment.replace(second=moment.second if with_seconds else 0,
                           microsecond=int(fraction[:6].ljust(6, "0")) if fraction else 0)
    clock = f"{naive:%H:%M}" + (f":{naive:%S}" if with_seconds else "") + (f".{fraction}" if fraction else "")
    offset = draw(offsets)
    text = f"{year:04d}-{moment:%m-%d}{sep}{clock}"
    if offset is None:
        return text, naive.replace(tzinfo=local).astimezone(UTC)
    style = draw(st.integers(0, 3))
    space = draw(st.sampled_from(["", " "]))
    expected = (naive - timedelta(minutes=offset)).replace(tzinfo=UTC)
    return f"{text}{space}{_offset_text(offset, style)}", expected


@settings(max_examples=150, deadline=None)
@given(st.lists(written_dates(), min_size=1, max_size=20))
def test_every_format_parses_to_the_same_moment(cases):
    texts = [t for t, _ in cases]
    expected = [(e, None) for _, e in cases]
    assert [scalar_datetime(t) for t in texts] == expected
    assert vector_datetime(texts) == expected


date_noise = st.text(alphabet="0123456789-/:T Z+.,๐๑๒๕๘ab\u00a0", max_size=32)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(date_noise, written_dates().map(lambda c: c[0]),
                          written_dates().map(lambda c: c[0][:-1] + "9")), min_size=1, max_size=30))
def test_vectorised_and_scalar_date_parsers_agree(texts):
    assert vector_datetime(texts) == [scalar_datetime(t) for t in texts]
    assert vector_datetime(texts, date_only=True) == [scalar_datetime(t, date_only=True) for t in texts]


@st.composite
def written_amounts(draw):
    satang = draw(st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1))
    whole, frac = divmod(abs(satang), 100)
    whole_text = f"{whole:,}" if draw(st.booleans()) else str(whole)
    frac_text = draw(st.sampled_from(["two", "trim", "none"])) if frac == 0 else draw(st.sampled_from(["two", "trim"]))
    if frac_text == "two":
        body = f"{whole_text}.{frac:02d}"
    elif frac_text == "trim":
        body = f"{whole_text}.{frac:02d}".rstrip("0").rstrip(".") if frac else whole_text
    else:
        body = whole_text
    baht = draw(st.sampled_from(["", "฿", "฿ "]))
    sign = "-" if satang < 0 else draw(st.sampled_from(["", "+"]))
    text = f"{sign}{baht}{body}" if draw(st.booleans()) or not baht else f"{baht}{sign}{body}"
    return text, satang


@settings(max_examples=150, deadline=None)
@given(st.lists(written_amounts(), min_size=1, max_size=20))
def test_amounts_parse_to_satang(cases):
    texts = [t for t, _ in cases]
    expected = [(v, None) for _, v in cases]
    assert [scalar_number(t) for t in texts] == expected
    assert vector_number(texts) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="0123456789,.-+฿ ๑a", max_size=20), min_size=1, max_size=30),
       st.sampled_from([P.MONEY, P.PRICE, P.QUANTITY]))
def test_vectorised_and_scalar_number_parsers_agree(texts, rule):
    assert vector_number(texts, rule) == [scalar_number(t, rule) for t in texts]
