"""The demo behaviour model, without a database: distributions over a larger sample."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from samphan.demo import vocab
from samphan.demo.generator import (
    DAYS,
    Calendar,
    Catalogue,
    ChunkGenerator,
    Plan,
    hex32,
    permute,
    splitmix64,
)

UNTIL = date(2026, 6, 30)


@pytest.fixture(scope="module")
def chunk():
    rows = vocab.CATALOGUES["coffee"]
    categories = {c: i for i, c in enumerate(dict.fromkeys(r[3] for r in rows))}
    plan = Plan(
        seed=5, orders_per_customer=8, until=UNTIL, catalogue_name="coffee",
        catalogue=Catalogue(ids=np.arange(1, len(rows) + 1), skus=[f"P-{i}" for i in range(len(rows))],
                            price_satang=np.array([r[4] * 100 for r in rows]),
                            category=np.array([categories[r[3]] for r in rows]),
                            popularity=np.array([r[5] for r in rows], dtype=float)),
        calendar=Calendar.build(UNTIL, 5), org_ids=np.arange(1, 101), org_corporate=np.arange(100) % 3 == 0,
        tag_ids={name: i for i, name in enumerate(vocab.TAGS)},
        insights=[(k, lang, text) for k, lang, text, _ in vocab.INSIGHTS],
    )
    return ChunkGenerator(plan).generate(first_number=1, count=20_000, first_order_number=1)


def test_permute_is_a_bijection():
    x = np.arange(200_000, dtype=np.uint64)
    y = permute(x, 260_000_000, key=66)
    assert len(np.unique(y)) == len(x) and int(y.max()) < 260_000_000
    small = permute(np.arange(1000, dtype=np.uint64), 1000, key=3)
    assert sorted(small.tolist()) == list(range(1000))
    assert len(np.unique(splitmix64(x))) == len(x)
    assert hex32(np.array([0xABCDEF], dtype=np.uint64), np.array([1], dtype=np.uint64))[0] == \
        f"{0xABCDEF:016x}{1:016x}"


def test_orders_follow_the_calendar(chunk):
    orders = chunk.frames["order"]
    local = orders.select((pl.col("ordered_at") + pl.duration(hours=7)).alias("t"))["t"]
    by_day = local.dt.date().value_counts()
    counts = dict(zip(by_day[:, 0].to_list(), by_day[:, 1].to_list(), strict=True))
    typical = np.median(list(counts.values()))
    assert counts[date(2025, 11, 11)] > 2.5 * typical  # 11.11
    assert counts[date(2025, 12, 12)] > 2.0 * typical  # 12.12
    songkran_sale = np.mean([counts[date(2025, 4, d)] for d in range(5, 13)])
    assert songkran_sale > 1.3 * typical
    hours = local.dt.hour().value_counts()
    per_hour = dict(zip(hours[:, 0].to_list(), hours[:, 1].to_list(), strict=True))
    assert per_hour[8] > 5 * per_hour[3]  # mornings busy, small hours quiet
    assert len(counts) > DAYS - 5


def test_bargain_hunters_buy_on_promotion(chunk):
    orders = chunk.frames["order"].with_columns(discounted=pl.col("discount_total") > 0)
    per_customer = orders.group_by("customer_id").agg(share=pl.col("discounted").mean(), n=pl.len())
    shares = per_customer.filter(pl.col("n") >= 5)["share"].to_numpy()
    # a distinct group buys mostly on discount, most customers rarely do
    assert np.mean(shares > 0.6) > 0.08
    assert np.median(shares) < 0.3


def test_purchase_frequency_is_heavy_tailed(chunk):
    orders = chunk.frames["order"]
    k = np.bincount(orders["customer_id"].to_numpy(), minlength=20_000)
    assert 7.0 < k.mean() < 9.0  # --orders-per-customer 8
    assert 0.05 < np.mean(k == 0) < 0.11
    assert np.mean(k == 1) > 0.2
    assert np.percentile(k, 99) > 45


def test_spend_levels_and_lines(chunk):
    lines = chunk.frames["order_line"]
    per_order = lines.group_by("order_id").len()["len"]
    assert per_order.min() == 1 and per_order.max() == 3
    assert 1.2 < per_order.mean() < 1.8
    assert (lines["amount"] == lines["quantity"] * lines["unit_price"] - lines["discount"]).all()


def test_contact_points_unique(chunk):
    identities = chunk.frames["identity"]
    assert identities.select(pl.struct("kind", "value").n_unique()).item() == identities.height
    customers = chunk.frames["customer"]
    phones = customers.filter(pl.col("phone") != "")["phone"]
    assert phones.str.contains(r"^\+66(8\d|9\d|6[1-6])\d{7}$").all()
    share_6 = phones.str.starts_with("+666").mean()
    assert 0.1 < share_6 < 0.35


def test_the_brand_grows_without_a_late_rush(chunk):
    """Orders follow the active customer base: growth, not everyone's history squeezed into the last weeks."""
    months = chunk.frames["order"].group_by(pl.col("ordered_at").dt.strftime("%Y-%m").alias("m")).len()
    per_month = dict(months.rows())
    first_quarter = sum(per_month[m] for m in ("2024-08", "2024-09", "2024-10"))
    last_quarter = sum(per_month[m] for m in ("2026-01", "2026-02", "2026-03"))
    assert 1.2 < last_quarter / first_quarter < 3.5
