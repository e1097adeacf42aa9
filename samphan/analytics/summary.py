"""From transactions to the per-customer inputs of the models (x, t_x, T, m), in NumPy.

The database path computes the same figures in SQL (samphan/analytics/aggregate.py);
this one serves data that arrives as arrays — the CDNOW benchmark data, tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np

EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class RFSummary:
    customer: np.ndarray  # ids, sorted
    x: np.ndarray  # repeat purchase days
    t_x: np.ndarray  # first → last purchase, in units
    T: np.ndarray  # first purchase → calibration end, in units
    m: np.ndarray  # mean value of the repeat purchase days (NaN when x == 0)
    first_value: np.ndarray  # value of the first purchase day


def day_number(d: date) -> int:
    return (d - EPOCH_DAY).days


def summarise_transactions(customer: np.ndarray, day: np.ndarray, value: np.ndarray, *,
                           calibration_end: int, unit_days: float = 1.0) -> RFSummary:
    """Per customer: merge purchases of the same day, then x, t_x, T and repeat mean spend.

    `day` is an integer day number; purchases after `calibration_end` (a day
    number, inclusive) are ignored. T counts from the first purchase day to the
    calibration end day, so a customer whose first purchase is on the last day
    has T = 0 (and is left out of a fit).
    """
    customer = np.asarray(customer)
    day = np.asarray(day, dtype=np.int64)
    value = np.asarray(value, dtype=float)
    keep = day <= calibration_end
    customer, day, value = customer[keep], day[keep], value[keep]
    # one row per (customer, day), sorted by customer then day
    order = np.lexsort((day, customer))
    customer, day, value = customer[order], day[order], value[order]
    new_group = np.ones(len(day), dtype=bool)
    new_group[1:] = (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(new_group)
    c_day, d_day = customer[starts], day[starts]
    v_day = np.add.reduceat(value, starts) if len(starts) else value[:0]
    # per customer
    first = np.ones(len(c_day), dtype=bool)
    first[1:] = c_day[1:] != c_day[:-1]
    cstarts = np.flatnonzero(first)
    ids = c_day[cstarts]
    n_days = np.diff(np.append(cstarts, len(c_day)))
    first_day = d_day[cstarts]
    last_day = d_day[np.append(cstarts[1:], len(c_day)) - 1] if len(cstarts) else d_day[:0]
    total = np.add.reduceat(v_day, cstarts) if len(cstarts) else v_day[:0]
    first_value = v_day[cstarts]
    x = (n_days - 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, (total - first_value) / np.maximum(x, 1), np.nan)
    return RFSummary(customer=ids, x=x, t_x=(last_day - first_day) / unit_days,
                     T=(calibration_end - first_day) / unit_days, m=m, first_value=first_value)


# --- CDNOW -------------------------------------------------------------------------


def cdnow_path(name: str = "CDNOW_sample.txt") -> Path:
    """The CDNOW file shipped in the `lifetimes` distribution (a dev dependency).

    Found through the installed distribution's file list: importing
    `lifetimes.datasets` fails with current setuptools (pkg_resources).
    Raises PackageNotFoundError when lifetimes is not installed.
    """
    dist = metadata.distribution("lifetimes")
    for f in dist.files or ():
        if f.name == name:
            return Path(str(dist.locate_file(f)))
    raise FileNotFoundError(f"{name} is not in the lifetimes distribution")


@dataclass(frozen=True)
class Transactions:
    customer: np.ndarray
    day: np.ndarray
    value: np.ndarray


def cdnow_transactions(name: str = "CDNOW_sample.txt") -> Transactions:
    """CDNOW rows: master id, sample id (1…2357), date YYYYMMDD, CDs bought, dollar value."""
    raw = np.loadtxt(cdnow_path(name), dtype=np.float64)
    ymd = raw[:, 2].astype(np.int64)
    dates = np.array([f"{y:04d}-{md // 100:02d}-{md % 100:02d}" for y, md in zip(ymd // 10000, ymd % 10000, strict=True)],
                     dtype="datetime64[D]")
    customer_col = 1 if name == "CDNOW_sample.txt" else 0
    return Transactions(customer=raw[:, customer_col].astype(np.int64), day=dates.astype(np.int64),
                        value=raw[:, 4])
