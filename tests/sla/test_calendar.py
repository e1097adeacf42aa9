"""The business-time calculator: known figures, DST zones, and properties checked with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samphan.sla.calendar import DAY_S, BusinessCalendar

BKK = ZoneInfo("Asia/Bangkok")
H = 3600


def office(tz="Asia/Bangkok", holidays=(), days=5, intervals=((9 * H, 18 * H),)):
    week = tuple(tuple(intervals) if d < days else () for d in range(7))
    return BusinessCalendar(time_zone=tz, week=week, holidays=frozenset(holidays))


def at(y, m, d, hh=0, mm=0, ss=0, tz=BKK):
    return datetime(y, m, d, hh, mm, ss, tzinfo=tz)


# --- known figures -----------------------------------------------------------------------------

def test_friday_evening_to_monday_morning_is_fifteen_minutes():
    cal = office()
    # 2026-05-08 is a Friday: 17:55 → Monday 09:10 = 5 minutes on Friday + 10 on Monday.
    assert cal.business_seconds(at(2026, 5, 8, 17, 55), at(2026, 5, 11, 9, 10)) == 15 * 60
    assert cal.add_business_seconds(at(2026, 5, 8, 17, 55), 15 * 60) == at(2026, 5, 11, 9, 10)


def test_several_intervals_a_day_and_lunch():
    cal = office(intervals=((9 * H, 12 * H), (13 * H, 18 * H)))
    assert cal.business_seconds(at(2026, 5, 11, 11, 30), at(2026, 5, 11, 13, 30)) == 60 * 60
    # 30 min before lunch, then 30 min after: due 13:30, not 12:30.
    assert cal.add_business_seconds(at(2026, 5, 11, 11, 30), 3600) == at(2026, 5, 11, 13, 30)
    assert cal.business_seconds(at(2026, 5, 11, 0, 0), at(2026, 5, 12, 0, 0)) == 8 * H


def test_across_midnight_and_weekend():
    cal = office(days=5, intervals=((0, 2 * H), (20 * H, DAY_S)))  # a night shift, split at midnight
    assert cal.business_seconds(at(2026, 5, 11, 23, 0), at(2026, 5, 12, 1, 0)) == 2 * H
    # Friday 23:00 → Saturday: the shift ends at Friday's midnight; Saturday and Sunday are closed.
    assert cal.business_seconds(at(2026, 5, 15, 23, 0), at(2026, 5, 18, 0, 30)) == H + 30 * 60
    assert cal.add_business_seconds(at(2026, 5, 15, 23, 30), 3600) == at(2026, 5, 18, 0, 30)


def test_holiday_is_closed_all_day():
    songkran = [date(2026, 4, 13), date(2026, 4, 14), date(2026, 4, 15)]
    cal = office(holidays=songkran)
    # Friday 10 April 17:00 → the next open hour is Thursday 16 April 09:00.
    assert cal.add_business_seconds(at(2026, 4, 10, 17, 0), 2 * H) == at(2026, 4, 16, 10, 0)
    assert cal.business_seconds(at(2026, 4, 13, 9), at(2026, 4, 15, 18)) == 0
    assert cal.is_open(at(2026, 4, 16, 9, 30)) and not cal.is_open(at(2026, 4, 14, 10))


def test_nothing_open_gives_no_due_time():
    closed = BusinessCalendar(week=((),) * 7)
    assert closed.add_business_seconds(at(2026, 1, 1), 60) is None
    assert closed.business_seconds(at(2026, 1, 1), at(2027, 1, 1)) == 0


def test_reversed_range_is_zero_and_naive_is_refused():
    cal = office()
    assert cal.business_seconds(at(2026, 5, 11, 12), at(2026, 5, 11, 10)) == 0
    with pytest.raises(ValueError, match="aware"):
        cal.business_seconds(datetime(2026, 5, 11), datetime(2026, 5, 12))


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError):
        BusinessCalendar(week=(((10 * H, 9 * H),),) + ((),) * 6)
    with pytest.raises(ValueError):
        BusinessCalendar(week=(((9 * H, 12 * H), (11 * H, 13 * H)),) + ((),) * 6)
    with pytest.raises(ValueError):
        BusinessCalendar(week=((),) * 6)


def test_spring_forward_gap_is_never_business_time():
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(time_zone="America/New_York", week=(((0, DAY_S),),) * 6 + (((H, 4 * H),),),
                           holidays=frozenset({date(2026, 1, 1)}))  # not wall-clock: the Sunday is special
    # 8 March 2026 (a Sunday): 02:00 → 03:00 never happens. 01:00–04:00 local is two real hours.
    start = datetime(2026, 3, 8, 1, 0, tzinfo=ny)
    end = datetime(2026, 3, 8, 4, 0, tzinfo=ny)
    assert (end - start) == timedelta(hours=3)  # naive arithmetic on the same tzinfo: wall time
    assert end.timestamp() - start.timestamp() == 2 * H
    assert cal.business_seconds(start, end) == 2 * H
    assert cal.add_business_seconds(start, H + 1).astimezone(ny).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 0, 1)


def test_fall_back_hour_counts_twice():
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(time_zone="America/New_York", week=((),) * 6 + (((H, 3 * H),),))
    # 1 November 2026 (a Sunday): 01:00–02:00 happens twice; open 01:00–03:00 local is three real hours.
    day_start = datetime(2026, 11, 1, 0, 0, tzinfo=ny)
    assert cal.business_seconds(day_start, day_start + timedelta(days=1)) == 3 * H


def test_half_hour_zones_and_lord_howe():
    # Lord Howe moves by 30 minutes (+10:30 → +11 on 4 October 2026); a 24/7 schedule stays wall-clock.
    cal = BusinessCalendar(time_zone="Australia/Lord_Howe", week=(((0, DAY_S),),) * 7,
                           holidays=frozenset({date(1999, 1, 1)}))
    assert not cal.is_wall_clock
    a = datetime(2026, 10, 3, 12, tzinfo=UTC)
    b = datetime(2026, 10, 5, 12, tzinfo=UTC)
    assert cal.business_seconds(a, b) == 2 * DAY_S
    kolkata = office(tz="Asia/Kolkata")
    assert kolkata.business_seconds(datetime(2026, 5, 11, 3, 30, tzinfo=UTC),
                                    datetime(2026, 5, 11, 4, 30, tzinfo=UTC)) == H  # 09:00–10:00 IST


# --- properties --------------------------------------------------------------------------------

ZONES = ["Asia/Bangkok", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
         "Pacific/Chatham", "America/Sao_Paulo", "UTC"]

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    week = []
    for _day in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 48).map(lambda q: q * 1800), max_size=6)))
        cuts = cuts[: len(cuts) // 2 * 2]
        week.append(tuple((cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2) if cuts[i] < cuts[i + 1]))
    holidays = draw(st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), max_size=8))
    return BusinessCalendar(time_zone=zone, week=tuple(week), holidays=frozenset(holidays))


spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=120, deadline=None)
@given(calendars(), instants, spans, spans)
def test_additive(cal, a, d1, d2):
    b, c = a + d1, a + d1 + d2
    assert cal.business_microseconds(a, b) + cal.business_microseconds(b, c) == cal.business_microseconds(a, c)


@settings(max_examples=120, deadline=None)
@given(calendars(), instants, spans, spans)
def test_monotone_and_bounded_by_wall_clock(cal, a, d1, d2):
    b, c = a + d1, a + d1 + d2
    assert 0 <= cal.business_microseconds(a, b) <= cal.business_microseconds(a, c)
    assert cal.business_seconds(a, c) <= (c - a).total_seconds()


@settings(max_examples=120, deadline=None)
@given(calendars(), instants, st.integers(0, 40 * H))
def test_add_is_the_inverse(cal, a, seconds):
    due = cal.add_business_seconds(a, seconds)
    if due is None:
        assert not any(cal.week)
        return
    assert cal.business_seconds(a, due) == seconds
    # The earliest such instant: one microsecond earlier is short (unless nothing was asked).
    if seconds:
        assert cal.business_microseconds(a, due - timedelta(microseconds=1)) == seconds * 10**6 - 1


def _local_day(cal, day):
    """The day's bounds as aware instants, or None on a day with a UTC-offset change (covered above)."""
    zone = ZoneInfo(cal.time_zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return None if start.utcoffset() != end.utcoffset() else start


@settings(max_examples=120, deadline=None)
@given(calendars(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 30)),
       st.floats(0, 1), st.floats(0, 1))
def test_zero_outside_hours_and_wall_clock_inside(cal, day, f1, f2):
    midnight = _local_day(cal, day)
    if midnight is None:
        return
    intervals = [] if day in cal.holidays else list(cal.week[day.weekday()])
    cuts = [0] + [x for iv in intervals for x in iv] + [DAY_S]
    closed = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2) if cuts[i] < cuts[i + 1]]
    for lo, hi in closed:  # any range inside a closed stretch: nothing
        a, b = sorted((lo + (hi - lo) * f1, lo + (hi - lo) * f2))
        assert cal.business_seconds(midnight + timedelta(seconds=a), midnight + timedelta(seconds=b)) == 0
    for lo, hi in intervals:  # any range inside an open interval: all of it
        a, b = sorted((lo + (hi - lo) * f1, lo + (hi - lo) * f2))
        ta, tb = midnight + timedelta(seconds=a), midnight + timedelta(seconds=b)
        assert cal.business_microseconds(ta, tb) == round((tb - ta) / timedelta(microseconds=1))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(ZONES), instants, spans)
def test_always_open_is_wall_clock_in_every_zone(zone, a, d):
    plain = BusinessCalendar.always_open(zone)
    # The same 24/7 week, made to take the general path by a holiday outside the range.
    general = BusinessCalendar.always_open(zone, holidays=[date(1990, 1, 1)])
    assert plain.business_seconds(a, a + d) == d.total_seconds()
    assert general.business_microseconds(a, a + d) == plain.business_microseconds(a, a + d)


@settings(max_examples=80, deadline=None)
@given(calendars(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 30)))
def test_a_holiday_contributes_nothing(cal, day):
    closed = BusinessCalendar(time_zone=cal.time_zone, week=cal.week, holidays=cal.holidays | {day})
    zone = ZoneInfo(cal.time_zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    assert closed.business_seconds(start, end) == 0
