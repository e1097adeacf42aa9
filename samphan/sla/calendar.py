"""Business time: how many business seconds lie between two instants, and when N of them have passed.

A `BusinessCalendar` is a weekly schedule in local wall-clock time (several
intervals per day, Monday = 0), a time zone and a set of holiday dates (whole
local days closed). Business time is the real time during which the local wall
clock reads a time inside an open interval of a non-holiday day:

- across a DST spring-forward gap the wall clock never reads the skipped hour,
  so it is never business time;
- across a fall-back the repeated hour passes twice in real time, so it counts
  twice (people are at work for both);
- a 24/7 schedule is therefore exactly wall-clock time, in any zone.

How: real time is cut into pieces of at most a day in which the zone's UTC
offset is constant (a transition inside a day is found by bisection to the
second). Inside a piece, local time is real time plus the offset, so the
piece's local range is intersected with the open intervals of the (at most two)
local days it touches. All arithmetic is in integer microseconds, so additivity
holds exactly: business(a, b) + business(b, c) == business(a, c).

No library fitted: `businesstimedelta`, the best known, was last released in
2019, needs pytz and has no notion of a repeated hour. The properties above
are tested with hypothesis (tests/sla/test_calendar.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

US = 1_000_000
DAY_S = 86_400
DAY_US = DAY_S * US
_EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How far `add_business_seconds` looks before it gives up (a schedule with no open time, or years of holidays).
MAX_HORIZON_DAYS = 3 * 366

Interval = tuple[int, int]  # seconds from local midnight, start < end <= 86400


def _to_us(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    delta = instant - _UTC_EPOCH
    return (delta.days * DAY_S + delta.seconds) * US + delta.microseconds


def _from_us(us: int) -> datetime:
    return _UTC_EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "Asia/Bangkok"
    # Seven tuples (Monday first) of sorted, non-overlapping (start, end) seconds from local midnight.
    week: tuple[tuple[Interval, ...], ...] = field(default_factory=lambda: ((( 0, DAY_S),),) * 7)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days")
        for day in self.week:
            previous_end = 0
            for start, end in day:
                if not (0 <= start < end <= DAY_S) or start < previous_end:
                    raise ValueError(f"bad interval list {day!r}")
                previous_end = end
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        # Per weekday, intervals in microseconds; and whether the schedule is plain wall-clock time.
        object.__setattr__(self, "_week_us", tuple(tuple((s * US, e * US) for s, e in day) for day in self.week))
        object.__setattr__(self, "_always", not self.holidays and all(day == ((0, DAY_S),) for day in self.week))

    @classmethod
    def always_open(cls, time_zone: str = "Asia/Bangkok", holidays: Iterable[date] = ()) -> BusinessCalendar:
        return cls(time_zone=time_zone, week=(((0, DAY_S),),) * 7, holidays=frozenset(holidays))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined]

    @property
    def is_wall_clock(self) -> bool:
        """Open every second of every day: business time equals wall-clock time."""
        return self._always  # type: ignore[attr-defined]

    # --- offsets -----------------------------------------------------------------------

    def _offset_us(self, us: int) -> int:
        off = _from_us(us).astimezone(self.zone).utcoffset()
        return int(off.total_seconds() * US) if off is not None else 0

    def _pieces(self, start_us: int, end_us: int | None) -> Iterator[tuple[int, int, int]]:
        """(piece start, piece end, UTC offset) in microseconds: constant offset, at most a day long."""
        a = start_us
        offset = self._offset_us(a)
        while end_us is None or a < end_us:
            b = a + DAY_US if end_us is None else min(a + DAY_US, end_us)
            offset_b = self._offset_us(b)
            if offset_b != offset:
                # A transition in (a, b]: bisect to the second for the first instant with the new offset.
                lo, hi = a, b
                while hi - lo > US:
                    mid = lo + (hi - lo) // 2
                    if self._offset_us(mid) == offset:
                        lo = mid
                    else:
                        hi = mid
                # Transitions fall on whole seconds; step back onto it when hi overshot by a fraction.
                edge = hi - hi % US
                if edge > a and self._offset_us(edge) != offset:
                    hi = edge
                yield a, hi, offset
                a, offset = hi, self._offset_us(hi)
                continue
            yield a, b, offset
            a = b

    def _open_ranges(self, local_a: int, local_b: int) -> Iterator[tuple[int, int]]:
        """Open local ranges (microseconds since the local epoch) overlapping [local_a, local_b), in order."""
        day = local_a // DAY_US
        last = (local_b - 1) // DAY_US
        while day <= last:
            day_start = day * DAY_US
            current = date.fromordinal(_EPOCH_ORDINAL + day)
            if current not in self.holidays:
                for s, e in self._week_us[current.weekday()]:  # type: ignore[attr-defined]
                    lo, hi = max(day_start + s, local_a), min(day_start + e, local_b)
                    if lo < hi:
                        yield lo, hi
            day += 1

    # --- the two questions -------------------------------------------------------------------

    def business_microseconds(self, start: datetime, end: datetime) -> int:
        a, b = _to_us(start), _to_us(end)
        if b <= a:
            return 0
        if self.is_wall_clock:
            return b - a
        total = 0
        for piece_a, piece_b, offset in self._pieces(a, b):
            for lo, hi in self._open_ranges(piece_a + offset, piece_b + offset):
                total += hi - lo
        return total

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end); 0 when end is not after start."""
        return self.business_microseconds(start, end) / US

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime | None:
        """The earliest instant at which `seconds` business seconds have passed since `start`.

        None when that does not happen within MAX_HORIZON_DAYS (no open time in the schedule).
        """
        remaining = round(seconds * US)
        if remaining <= 0:
            return start
        a = _to_us(start)
        if self.is_wall_clock:
            return _from_us(a + remaining)
        if not any(self.week):
            return None
        horizon = a + MAX_HORIZON_DAYS * DAY_US
        for piece_a, piece_b, offset in self._pieces(a, horizon):
            for lo, hi in self._open_ranges(piece_a + offset, piece_b + offset):
                if remaining <= hi - lo:
                    return _from_us(lo + remaining - offset)
                remaining -= hi - lo
        return None

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(s <= second < e for s, e in self.week[local.weekday()])
