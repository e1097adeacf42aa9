"""The demo data model: who the customers are and how they buy, as NumPy arrays.

Nothing here touches the database. `ChunkGenerator.generate` turns one block of
customer numbers into polars frames for every table; the service reserves
primary keys and hands the frames to a bulk writer (samphan/demo/bulk.py).

Behaviour modelled (per customer, vectorised over a chunk):
- orders over the last two years: customers sign up at a growing pace and
  churn after a while; 8 % never buy (LINE followers); the others buy once,
  then at a gamma-distributed rate (Poisson over their active time: the NBD
  model), so most buy once or twice and a few hundreds of times;
- a spend level (gamma) that raises basket size and quantity;
- a calendar: growth, weekday and hour-of-day patterns, payday at month end,
  double-day campaigns (9.9, 11.11, 12.12 …), Songkran, Black Friday, year end;
- promotions: some orders carry discounts, far more on campaign days, and
  "bargain hunters" (15 %) buy mostly then and mostly on discount;
- a preferred channel (LINE, Facebook, Shopee, Lazada, TikTok, stores) and a
  favourite product category;
- a small share refunded.

Determinism: every chunk draws from its own generator seeded with
(seed, first customer number of the chunk), so the same seed, arguments and
`until` date give the same rows whatever the database.

Contact points are derived from the customer number through fixed bijections
(phone and Facebook id: a Feistel permutation; LINE id: splitmix64; e-mail:
the number in the local part), so they stay unique across runs into the same
workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from samphan.demo import vocab

DAYS = 730  # the order history: two years up to `until`
CHUNK_CUSTOMERS = 50_000  # customers per chunk (and per transaction); part of the determinism contract
BANGKOK_OFFSET_S = 7 * 3600  # Asia/Bangkok has no daylight saving
EPOCH = np.datetime64("1970-01-01T00:00:00", "s")

ZERO_ORDER_SHARE = 0.08
BARGAIN_SHARE = 0.15
REFUND_SHARE = 0.02
MEMBER_SHARE_FREQUENT, MEMBER_SHARE_OTHER = 0.55, 0.12


# --- bijections on the customer number ---------------------------------------------

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection on 64-bit integers that looks random."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def permute(x: np.ndarray, domain: int, key: int) -> np.ndarray:
    """A keyed bijection of [0, domain): a balanced Feistel network with cycle walking."""
    bits = max(2, int(domain - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = np.uint64((1 << half) - 1)

    def once(v: np.ndarray) -> np.ndarray:
        left, right = v >> np.uint64(half), v & mask
        for r in range(4):
            f = splitmix64(right ^ np.uint64((key * 0x100000001B3 + r) & 0xFFFFFFFFFFFFFFFF)) & mask
            left, right = right, left ^ f
        return (left << np.uint64(half)) | right

    y = once(np.asarray(x, dtype=np.uint64))
    outside = y >= np.uint64(domain)
    while outside.any():  # cycle walking: a permutation of the power-of-two range restricted to [0, domain)
        y[outside] = once(y[outside])
        outside = y >= np.uint64(domain)
    return y


def hex32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two uint64 arrays as 32 lower-case hex digits (vectorised: a byte lookup table)."""
    table = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(256, 2)
    pairs = np.empty((len(a), 2), dtype=">u8")  # big-endian, so bytes read in hex order
    pairs[:, 0], pairs[:, 1] = a, b
    raw = pairs.view(np.uint8).reshape(len(a), 16)
    return table[raw].reshape(len(a), 32).copy().view("S32").ravel().astype("U32")


# --- calendar -------------------------------------------------------------------------

@dataclass
class Calendar:
    first_day: date
    weights: np.ndarray  # relative order volume per day
    promo: np.ndarray  # campaign days
    cdf: np.ndarray  # cumulative weights, length DAYS + 1, from 0 to 1
    cdf_bargain: np.ndarray  # the same with campaign days weighted up
    hour_cdf: np.ndarray

    @classmethod
    def build(cls, until: date, seed: int) -> Calendar:
        first = until - timedelta(days=DAYS - 1)
        days = np.arange(DAYS)
        dates = [first + timedelta(days=int(d)) for d in days]  # 730 values: plain Python is fine
        month = np.array([d.month for d in dates])
        dom = np.array([d.day for d in dates])
        weekday = np.array([d.weekday() for d in dates])
        w = 1.0 + 0.2 * days / DAYS  # busier over time, on top of a growing customer base
        w *= np.array([1.0, 0.95, 0.95, 1.0, 1.15, 1.3, 1.15])[weekday]
        w *= np.where((dom >= 25) | (dom == 1), 1.25, 1.0)  # payday at month end
        double_day = month == dom
        big = {9: 2.5, 10: 2.5, 11: 4.0, 12: 3.5}
        w *= np.where(double_day, [big.get(int(m), 1.8) for m in month], 1.0)
        songkran_sale = (month == 4) & (dom >= 5) & (dom <= 12)
        songkran = (month == 4) & (dom >= 13) & (dom <= 15)
        w *= np.where(songkran_sale, 1.7, 1.0) * np.where(songkran, 1.3, 1.0)
        black_friday = (month == 11) & (weekday == 4) & (dom >= 23) & (dom <= 29)
        w *= np.where(black_friday, 2.0, 1.0)
        mid_year = (month == 6) & (dom >= 24)
        w *= np.where(mid_year, 1.3, 1.0)
        year_end = (month == 12) & (dom >= 20)
        w *= np.where(year_end, 1.6, 1.0) * np.where((month == 1) & (dom == 1), 1.2, 1.0)
        w *= np.where((month == 2) & (dom == 14), 1.5, 1.0)  # Valentine's
        w *= np.where((month == 8) & (dom == 12), 1.6, 1.0)  # Mother's Day
        w *= np.where((month == 12) & (dom == 5), 1.3, 1.0)  # Father's Day
        w *= np.random.default_rng([seed, 7]).lognormal(0.0, 0.12, DAYS)  # day-to-day noise
        promo = double_day | songkran_sale | black_friday | mid_year | ((month == 12) & (dom >= 26))

        def cdf(weights: np.ndarray) -> np.ndarray:
            c = np.concatenate([[0.0], np.cumsum(weights)])
            return c / c[-1]

        hours = np.array([0.3, 0.15, 0.1, 0.05, 0.05, 0.15, 0.6, 1.6, 2.2, 1.8, 1.3, 1.4,
                          1.9, 1.6, 1.2, 1.1, 1.1, 1.2, 1.4, 1.8, 2.0, 1.9, 1.3, 0.7])
        return cls(first, w, promo, cdf(w), cdf(w * np.where(promo, 8.0, 1.0)), cdf(hours))

    @property
    def first_epoch_local(self) -> int:
        return int((np.datetime64(self.first_day, "s") - EPOCH) / np.timedelta64(1, "s"))


# --- run context ----------------------------------------------------------------------

@dataclass
class Catalogue:
    ids: np.ndarray  # product ids, in catalogue order
    skus: list[str]
    price_satang: np.ndarray
    category: np.ndarray  # category code per product
    popularity: np.ndarray


@dataclass
class Plan:
    """Everything a chunk needs that is fixed for the whole run."""

    seed: int
    orders_per_customer: float
    until: date
    catalogue_name: str
    catalogue: Catalogue
    calendar: Calendar
    org_ids: np.ndarray
    org_corporate: np.ndarray  # bool per org
    tag_ids: dict[str, int]
    insights: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, language, text)


@dataclass
class Chunk:
    """Frames for one block of customers. FK columns hold chunk-local indices until `bind`."""

    frames: dict[str, pl.DataFrame]

    def count(self, name: str) -> int:
        return self.frames[name].height

    def bind(self, starts: dict[str, int], workspace_id: int) -> dict[str, pl.DataFrame]:
        """Give every frame its primary keys and turn local indices into foreign keys."""
        out = {}
        for name, frame in self.frames.items():
            exprs = [pl.int_range(starts[name], starts[name] + frame.height, dtype=pl.Int64).alias("id"),
                     pl.lit(workspace_id, dtype=pl.Int64).alias("workspace_id")]
            if "customer_id" in frame.columns:
                exprs.append((pl.col("customer_id") + starts["customer"]).alias("customer_id"))
            if name == "order_line":
                exprs.append((pl.col("order_id") + starts["order"]).alias("order_id"))
            out[name] = frame.with_columns(exprs)
        return out


def _pick(rng: np.random.Generator, weights: Any, size: int) -> np.ndarray:
    """Indices drawn by weight (inverse CDF: one searchsorted, no Python loop)."""
    c = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(c / c[-1], rng.random(size), side="right").clip(0, len(c) - 1)


def _by_gender(rng: np.random.Generator, female: np.ndarray, male_count: int, female_count: int) -> np.ndarray:
    """Indices into a list of `male_count` male then `female_count` female words."""
    u = rng.random(len(female))
    return np.where(female, male_count + (u * female_count).astype(np.int64), (u * male_count).astype(np.int64))


def _gather(words: list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(words, dtype=pl.Utf8).gather(idx)


def _datetime(seconds: np.ndarray) -> pl.Series:
    return pl.Series((EPOCH + seconds.astype("timedelta64[s]")).astype("datetime64[ms]"))


def _date(days_since_epoch: np.ndarray) -> pl.Series:
    return pl.Series(np.datetime64("1970-01-01", "D") + days_since_epoch.astype("timedelta64[D]"))


def _where(mask: np.ndarray, yes: pl.Series, no: Any) -> pl.Series:
    """Element-wise choice between a series and a series or scalar (None gives NULL)."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(yes)).otherwise(pl.lit(no))).to_series().alias(yes.name)


def _nonempty(s: pl.Series) -> pl.Expr:
    """The column as an expression with "" turned into null (so concat_str skips it)."""
    return pl.when(pl.lit(s) == "").then(None).otherwise(pl.lit(s))


def search_text_frame(frame: pl.DataFrame, member_number: pl.Series) -> pl.Series:
    """`customers.services.customer_search_text`, vectorised over a frame of customers.

    Same rule: lower-cased first and last name, display name, e-mail, phone
    digits (E.164 without '+', and the local 0… form for Thai numbers),
    external id and member number, joined by single spaces, empties skipped.
    The service checks a sample of every chunk against the original.
    """
    digits = frame["phone"].str.strip_chars_start("+")
    local = pl.when(digits.str.starts_with("66")).then(pl.lit("0") + digits.str.slice(2)).otherwise(pl.lit(""))
    parts = [frame["first_name"], frame["last_name"], frame["display_name"], frame["email"], digits]
    exprs = [_nonempty(p) for p in parts]
    exprs.append(pl.when(local == "").then(None).otherwise(local))
    exprs += [_nonempty(frame["external_id"].fill_null("")), _nonempty(member_number)]
    return pl.select(pl.concat_str(exprs, separator=" ", ignore_nulls=True).fill_null("").str.to_lowercase()).to_series()


class ChunkGenerator:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def generate(self, *, first_number: int, count: int, first_order_number: int) -> Chunk:
        """Customers numbered first_number … first_number+count-1 and everything they own."""
        plan, cal, cat = self.plan, self.plan.calendar, self.plan.catalogue
        rng = np.random.default_rng([plan.seed, first_number])
        n = count
        number = np.arange(first_number, first_number + n, dtype=np.int64)
        until_ord = (np.datetime64(plan.until, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)

        # --- who they are ------------------------------------------------------------------
        thai = rng.random(n) < 0.75
        female = rng.random(n) < 0.55
        nick = thai & (rng.random(n) < 0.4)
        th_first_idx = _by_gender(rng, female, len(vocab.THAI_MALE), len(vocab.THAI_FEMALE))
        th_last_idx = rng.integers(0, len(vocab.THAI_SURNAMES), n)
        in_first_idx = _by_gender(rng, female, len(vocab.INTL_MALE), len(vocab.INTL_FEMALE))
        in_last_idx = rng.integers(0, len(vocab.INTL_SURNAMES), n)
        nick_idx = _by_gender(rng, female, len(vocab.NICK_MALE), len(vocab.NICK_FEMALE))

        thai_first = vocab.THAI_MALE + vocab.THAI_FEMALE
        first_th = _gather([t for t, _ in thai_first], th_first_idx)
        first_th_rom = _gather([r for _, r in thai_first], th_first_idx)
        last_th = _gather([t for t, _ in vocab.THAI_SURNAMES], th_last_idx)
        last_th_rom = _gather([r for _, r in vocab.THAI_SURNAMES], th_last_idx)
        first_in = _gather(vocab.INTL_MALE + vocab.INTL_FEMALE, in_first_idx)
        last_in = _gather([t for t, _ in vocab.INTL_SURNAMES], in_last_idx)
        last_in_rom = _gather([r for _, r in vocab.INTL_SURNAMES], in_last_idx)
        nickname = _gather(vocab.NICK_MALE + vocab.NICK_FEMALE, nick_idx)

        first_name = _where(thai, first_th, first_in)
        last_name = _where(thai, last_th, last_in)
        first_rom = _where(thai, first_th_rom, first_in.str.to_lowercase())
        last_rom = _where(thai, last_th_rom, last_in_rom)
        display_name = _where(nick, first_name + " (" + nickname + ")", "")
        attributes = _where(nick, '{"nickname": "' + nickname + '"}', "{}")

        # Contact points, derived from the customer number (unique by construction).
        has_email = rng.random(n) < np.where(thai, 0.6, 0.85)
        has_phone = rng.random(n) < np.where(thai, 0.93, 0.6)
        has_line = rng.random(n) < np.where(thai, 0.72, 0.25)
        has_facebook = rng.random(n) < 0.2
        pattern = rng.integers(0, 4, n)
        pattern = np.where((pattern == 3) & ~nick, 0, pattern)
        num_s = pl.Series(number).cast(pl.Utf8)
        pattern_s = pl.Series(pattern)
        local_part = pl.select(
            pl.when(pl.lit(pattern_s) == 0).then(pl.lit(first_rom) + "." + pl.lit(last_rom) + pl.lit(num_s))
            .when(pl.lit(pattern_s) == 1).then(pl.lit(first_rom) + "_" + pl.lit(num_s))
            .when(pl.lit(pattern_s) == 2).then(pl.lit(first_rom) + pl.lit(last_rom).str.slice(0, 1) + pl.lit(num_s))
            .otherwise(pl.lit(nickname).str.to_lowercase() + pl.lit(num_s))
        ).to_series()
        domain = _gather([d for d, _ in vocab.EMAIL_DOMAINS], _pick(rng, [w for _, w in vocab.EMAIL_DOMAINS], n))
        email_all = pl.select(pl.lit(local_part) + "@" + pl.lit(domain)).to_series()
        # Thai mobile numbers: 8x/9x + 8 digits, 61–66 + 7 digits (2.6e8 numbers).
        v = permute(number.astype(np.uint64), 260_000_000, key=66).astype(np.int64)
        nsn = np.where(v < 100_000_000, 800_000_000 + v,
                       np.where(v < 200_000_000, 900_000_000 + v - 100_000_000,
                                610_000_000 + v - 200_000_000))
        nsn_s = pl.Series(nsn).cast(pl.Utf8)
        phone_all = pl.select(pl.lit("+66") + pl.lit(nsn_s)).to_series()
        phone_display = pl.select(pl.lit("0") + pl.lit(nsn_s).str.slice(0, 2) + "-" + pl.lit(nsn_s).str.slice(2, 3)
                                  + "-" + pl.lit(nsn_s).str.slice(5, 4)).to_series()
        line_all = pl.select(pl.lit("U") + pl.lit(pl.Series(hex32(
            splitmix64(number.astype(np.uint64) ^ np.uint64(0x5A4D50484E)),
            splitmix64(number.astype(np.uint64) ^ np.uint64(0x4C494E45))), dtype=pl.Utf8))).to_series()
        facebook_all = pl.Series(permute(number.astype(np.uint64), 10**15, key=0xFB).astype(np.int64)
                                 + 2 * 10**15).cast(pl.Utf8)
        email = _where(has_email, email_all, "")
        phone = _where(has_phone, phone_all, "")

        language = np.where(thai & (rng.random(n) < 0.96), "th", "en")
        gender = np.where(female, "female", "male")
        gender = np.where(rng.random(n) < 0.03, "", gender)
        city = _gather([c for c, _ in vocab.CITIES], _pick(rng, [w for _, w in vocab.CITIES], n))
        age_days = (np.clip(rng.normal(35, 11, n), 18, 78) * 365.25).astype(np.int64)
        birth = until_ord - age_days - rng.integers(0, 365, n)
        birth_known = rng.random(n) < 0.7

        in_org = (rng.random(n) < 0.08) & (len(plan.org_ids) > 0)
        org_pick = rng.integers(0, max(1, len(plan.org_ids)), n)
        org_id = np.where(in_org, plan.org_ids[org_pick] if len(plan.org_ids) else 0, 0)
        corporate = in_org & (plan.org_corporate[org_pick] if len(plan.org_ids) else False)

        # --- how they buy ------------------------------------------------------------------
        # Who is around when: 20 % were customers before the window, the rest sign
        # up at a growing pace; each stays active for a while (churn), then stops.
        existing = rng.random(n) < 0.2
        u = rng.random(n)
        signup_day = np.where(existing, 0, np.floor(DAYS * (np.sqrt(1 + 3 * u) - 1)).astype(np.int64))
        signup_day = signup_day.clip(0, DAYS - 1)
        lifetime = 60 + rng.exponential(500, n)
        last_day = np.minimum(DAYS - 1, signup_day + lifetime.astype(np.int64))
        active_years = (last_day - signup_day + 1) / 365.0
        # How often: a gamma-distributed purchase rate (a few customers buy weekly,
        # most hardly ever), Poisson purchases over the active time, plus the first
        # one (the NBD model). The scale makes the average --orders-per-customer.
        buyer_share = min(1 - ZERO_ORDER_SHARE, plan.orders_per_customer)  # below 1 order each: fewer buyers
        buyer = rng.random(n) < buyer_share
        repeat_orders = max(plan.orders_per_customer / buyer_share - 1, 0.0) if buyer_share else 0.0
        shape = 0.5
        rate = rng.gamma(shape, repeat_orders / (shape * active_years.mean()) if repeat_orders else 1.0, n)
        repeats = rng.poisson(rate * active_years) if repeat_orders else np.zeros(n, dtype=np.int64)
        k = np.where(buyer, 1 + np.minimum(repeats, 2999), 0).astype(np.int64)
        spend = rng.gamma(2.0, 0.5, n)
        bargain = rng.random(n) < BARGAIN_SHARE
        channel_weights = [w for _, w in vocab.CHANNELS]
        preferred_channel = _pick(rng, channel_weights, n)
        categories = int(cat.category.max()) + 1
        favourite = rng.integers(0, categories, n)

        day0 = cal.first_epoch_local
        created_local = np.where(
            existing,
            day0 - rng.integers(1, 1100, n) * 86400 + rng.integers(8 * 3600, 22 * 3600, n),
            day0 + signup_day * 86400 + rng.integers(0, 86400, n),
        )

        # --- orders (vectorised over every order of the chunk) ----------------------------------
        total_orders = int(k.sum())
        cidx = np.repeat(np.arange(n), k)
        lo = np.where(bargain, cal.cdf_bargain[signup_day], cal.cdf[signup_day])[cidx]
        hi = np.where(bargain, cal.cdf_bargain[last_day + 1], cal.cdf[last_day + 1])[cidx]
        x = lo + rng.random(total_orders) * (hi - lo)
        b = bargain[cidx]
        day = np.where(b, np.searchsorted(cal.cdf_bargain, x, side="right"),
                       np.searchsorted(cal.cdf, x, side="right")) - 1
        day = np.clip(day, signup_day[cidx], last_day[cidx])
        del lo, hi, x
        hour = np.searchsorted(cal.hour_cdf, rng.random(total_orders), side="right") - 1
        seconds = hour * 3600 + rng.integers(0, 3600, total_orders)
        ordered_local = day0 + day * 86400 + seconds
        order = np.lexsort((ordered_local, cidx))  # per customer, oldest first
        ordered_local, day = ordered_local[order], day[order]
        ordered_utc = ordered_local - BANGKOK_OFFSET_S

        has_orders = k > 0
        first_order_pos = np.concatenate([[0], np.cumsum(k)[:-1]])
        if total_orders:
            first_order_local = ordered_local[np.minimum(first_order_pos, total_orders - 1)]
            created_local = np.where(has_orders, np.minimum(created_local, first_order_local), created_local)
        created_utc = created_local - BANGKOK_OFFSET_S

        on_promo_day = cal.promo[day]
        p_discount = np.where(b, 0.75, np.where(on_promo_day, 0.4, 0.05))
        discounted = rng.random(total_orders) < p_discount
        pct = np.where(on_promo_day, np.array([10, 15, 20, 30, 50])[_pick(rng, [3, 3, 3, 2, 1], total_orders)],
                       np.array([5, 10, 15, 20])[_pick(rng, [2, 4, 3, 1], total_orders)])
        pct = np.where(discounted, pct, 0)
        channel = np.where(rng.random(total_orders) < 0.7, preferred_channel[cidx],
                           _pick(rng, channel_weights, total_orders))
        refunded = rng.random(total_orders) < REFUND_SHARE

        # --- order lines ------------------------------------------------------------------------
        p_more = np.clip(0.12 + 0.12 * spend, 0.05, 0.6)[cidx]
        n_lines = 1 + rng.binomial(2, p_more)
        total_lines = int(n_lines.sum())
        oidx = np.repeat(np.arange(total_orders), n_lines)
        line_start = np.concatenate([[0], np.cumsum(n_lines)[:-1]]).astype(np.int64)
        position = np.arange(total_lines) - line_start[oidx]
        line_customer = cidx[oidx]
        product = self._products(rng, favourite[line_customer], total_lines)
        n_products = len(cat.ids)
        if n_products > 1:
            for back in (1, 2, 1):  # no product twice in one order (good enough: re-checked once)
                prev = np.roll(product, back)
                clash = (position >= back) & (product == prev)
                product = np.where(clash, (product + 1) % n_products, product)
        unit = cat.price_satang[product]
        cheap = unit < 200_00
        quantity = 1 + np.minimum(rng.poisson(np.where(cheap, 0.3, 0.08) * spend[line_customer]), 11)
        gross = quantity * unit
        discount = (np.round(gross * pct[oidx] / 100 / 100) * 100).astype(np.int64)
        amount = gross - discount
        if total_orders:
            order_total = np.add.reduceat(amount, line_start)
            order_discount = np.add.reduceat(discount, line_start)
        else:
            order_total = order_discount = np.zeros(0, dtype=np.int64)
        revenue = np.bincount(cidx, weights=np.where(refunded, 0, order_total), minlength=n)

        # --- membership, tags -------------------------------------------------------------------
        member = rng.random(n) < np.where(k >= 3, MEMBER_SHARE_FREQUENT, MEMBER_SHARE_OTHER)
        created_day = (created_local // 86400).astype(np.int64)
        joined = created_day + (rng.random(n) * np.maximum(until_ord - created_day, 0)).astype(np.int64)
        rank = np.empty(n)
        rank[np.argsort(revenue, kind="stable")] = np.arange(n) / max(n - 1, 1)  # 0 … 1 by revenue
        tier_idx = np.select([rank >= 0.95, rank >= 0.8, rank >= 0.5], [3, 2, 1], 0)
        m_idx = np.flatnonzero(member)
        member_number_all = pl.select(pl.lit("M") + pl.lit(num_s).str.zfill(8)).to_series()
        member_number = _where(member, member_number_all, "")

        # --- frames --------------------------------------------------------------------------------
        customers = pl.DataFrame({
            "created_at": _datetime(created_utc),
            "updated_at": _datetime(created_utc),
            "external_id": pl.select(pl.lit("C") + pl.lit(num_s).str.zfill(7)).to_series(),
            "first_name": first_name,
            "last_name": last_name,
            "display_name": display_name,
            "email": email,
            "phone": phone,
            "language": pl.Series(language, dtype=pl.Utf8),
            "gender": pl.Series(gender, dtype=pl.Utf8),
            "birth_date": _where(birth_known, _date(birth), None),
            "city": city,
            "organisation_id": _where(in_org, pl.Series(org_id), None),
            "attributes": attributes,
        })
        customers = customers.with_columns(search_text=search_text_frame(customers, member_number))

        memberships = pl.DataFrame({
            "customer_id": m_idx,
            "member_number": member_number.gather(m_idx),
            "card_number": pl.Series(rng.integers(10**15, 10**16, len(m_idx))).cast(pl.Utf8),
            "joined_on": _date(joined[m_idx]),
            "tier": _gather(vocab.MEMBER_TIERS, tier_idx[m_idx]),
        })

        identities = self._identities(rng, n, created_utc, has_email, email_all, has_phone, phone_all,
                                      phone_display, has_line, line_all, has_facebook, facebook_all)
        consents = self._consents(rng, n, created_utc, until_ord, has_email, has_phone, has_line)
        tags = self._tags(rng, n, revenue, k, bargain, created_day, until_ord, corporate)
        insights = self._insights(rng, n, thai, created_utc, until_ord)

        orders = pl.DataFrame({
            "external_id": pl.select(pl.lit("O") + pl.lit(pl.Series(
                np.arange(first_order_number, first_order_number + total_orders, dtype=np.int64)).cast(pl.Utf8))
                .str.zfill(9)).to_series() if total_orders else pl.Series([], dtype=pl.Utf8),
            "customer_id": cidx,
            "ordered_at": _datetime(ordered_utc),
            "channel": _gather([c for c, _ in vocab.CHANNELS], channel),
            "total": order_total / 100,
            "discount_total": order_discount / 100,
            "currency": pl.Series(["THB"] * 1).gather(np.zeros(total_orders, dtype=np.int64)),
            "status": _gather(["completed", "refunded"], refunded.astype(np.int64)),
        })
        lines = pl.DataFrame({
            "order_id": oidx,
            "product_id": cat.ids[product],
            "sku": _gather(cat.skus, product),
            "quantity": quantity,
            "unit_price": unit / 100,
            "discount": discount / 100,
            "amount": amount / 100,
        })
        return Chunk({
            "customer": customers, "membership": memberships, "identity": identities, "consent": consents,
            "customer_tag": tags, "insight": insights, "order": orders, "order_line": lines,
        })

    # --- parts -------------------------------------------------------------------------------------
    def _products(self, rng: np.random.Generator, favourite: np.ndarray, size: int) -> np.ndarray:
        """Half the lines from the customer's favourite category, the rest by overall popularity."""
        cat = self.plan.catalogue
        pop = cat.popularity / cat.popularity.sum()
        global_cdf = np.cumsum(pop)
        by_cat = np.lexsort((np.arange(len(pop)), cat.category))
        within = np.zeros(len(pop))
        for c in np.unique(cat.category):  # a handful of categories
            members = by_cat[cat.category[by_cat] == c]
            within[members] = np.cumsum(pop[members]) / pop[members].sum()
        # One sorted key: category code + cumulative share within it.
        keys = cat.category[by_cat] + within[by_cat]
        u = rng.random(size)
        from_favourite = rng.random(size) < 0.5
        fav_pos = np.searchsorted(keys, favourite + u, side="left").clip(0, len(pop) - 1)
        fav_product = by_cat[fav_pos]
        any_product = np.searchsorted(global_cdf, u * global_cdf[-1], side="left").clip(0, len(pop) - 1)
        return np.where(from_favourite, fav_product, any_product)

    def _identities(self, rng, n, created_utc, has_email, email_all, has_phone, phone_all, phone_display,
                    has_line, line_all, has_facebook, facebook_all) -> pl.DataFrame:
        parts = []
        for kind, present, value, display, p_verified in (
            ("email", has_email, email_all, email_all, 0.5),
            ("phone", has_phone, phone_all, phone_display, 0.7),
            ("line", has_line, line_all, line_all, 1.0),
            ("facebook", has_facebook, facebook_all, facebook_all, 1.0),
        ):
            idx = np.flatnonzero(present)
            parts.append(pl.DataFrame({
                "customer_id": idx,
                "kind": pl.Series([kind]).gather(np.zeros(len(idx), dtype=np.int64)),
                "value": value.gather(idx),
                "display_value": display.gather(idx),
                "verified": rng.random(len(idx)) < p_verified,
                "created_at": _datetime(created_utc[idx]),
            }))
        return pl.concat(parts).sort("customer_id", maintain_order=True)

    def _consents(self, rng, n, created_utc, until_ord, has_email, has_phone, has_line) -> pl.DataFrame:
        parts = []
        for purpose, eligible, share in (
            ("email_marketing", has_email, 0.55), ("sms", has_phone, 0.4), ("line", has_line, 0.7),
            ("calls", has_phone, 0.1), ("direct_mail", np.ones(n, dtype=bool), 0.05),
        ):
            idx = np.flatnonzero(eligible & (rng.random(n) < share))
            status = _pick(rng, [85, 10, 5], len(idx))
            created = created_utc[idx]
            span = np.maximum(until_ord * 86400 - created, 1)
            recorded = created + (rng.random(len(idx)) ** 3 * span).astype(np.int64)
            parts.append(pl.DataFrame({
                "customer_id": idx,
                "purpose": pl.Series([purpose]).gather(np.zeros(len(idx), dtype=np.int64)),
                "status": _gather(["granted", "denied", "withdrawn"], status),
                "source": pl.Series(["demo"]).gather(np.zeros(len(idx), dtype=np.int64)),
                "recorded_at": _datetime(recorded),
            }))
        return pl.concat(parts).sort("customer_id", maintain_order=True)

    def _tags(self, rng, n, revenue, k, bargain, created_day, until_ord, corporate) -> pl.DataFrame:
        ids = self.plan.tag_ids
        vip_cut = np.quantile(revenue, 0.97) if n else 0
        rules = (
            (vocab.TAG_VIP, (revenue >= vip_cut) & (revenue > 0)),
            (vocab.TAG_REGULAR, k >= 12),
            (vocab.TAG_BARGAIN, bargain & (k >= 2) & (rng.random(n) < 0.8)),
            (vocab.TAG_NEW, created_day >= until_ord - 60),
            (vocab.TAG_CORPORATE, corporate),
            (vocab.TAG_INFLUENCER, rng.random(n) < 0.005),
        )
        parts = []
        for name, mask in rules:
            idx = np.flatnonzero(mask)
            parts.append(pl.DataFrame({"customer_id": idx, "tag_id": np.full(len(idx), ids[name], dtype=np.int64)}))
        return pl.concat(parts).sort("customer_id", maintain_order=True)

    def _insights(self, rng, n, thai, created_utc, until_ord) -> pl.DataFrame:
        pool = self.plan.insights
        if not pool:
            return pl.DataFrame({"customer_id": [], "kind": [], "text": [], "created_at": []})
        first = rng.random(n) < 0.12
        second = first & (rng.random(n) < 0.3)
        idx = np.concatenate([np.flatnonzero(first), np.flatnonzero(second)])
        idx.sort(kind="stable")
        lang_th = np.array([lang == "th" for _, lang, _ in pool])
        everything = np.arange(len(pool))
        th_pool = np.flatnonzero(lang_th) if lang_th.any() else everything
        en_pool = np.flatnonzero(~lang_th) if (~lang_th).any() else everything
        # Thai customers' notes mostly in Thai, international customers' in English.
        want_th = np.where(thai[idx], rng.random(len(idx)) < 0.85, rng.random(len(idx)) < 0.05)
        u = rng.random(len(idx))
        pick = np.where(want_th, th_pool[(u * len(th_pool)).astype(np.int64)],
                        en_pool[(u * len(en_pool)).astype(np.int64)])
        created = created_utc[idx]
        at = created + (rng.random(len(idx)) * np.maximum(until_ord * 86400 - created, 1)).astype(np.int64)
        return pl.DataFrame({
            "customer_id": idx,
            "kind": _gather([kind for kind, _, _ in pool], pick),
            "text": _gather([text for _, _, text in pool], pick),
            "created_at": _datetime(at),
            "updated_at": _datetime(at),
        })


def org_rows(*, seed: int, first_number: int, count: int) -> list[dict[str, Any]]:
    """Shops and corporate accounts, Thai and English names (a few thousand at most: plain Python)."""
    rng = np.random.default_rng([seed, first_number, 0x0126])
    rows = []
    for i in range(count):
        corporate = rng.random() < 0.4
        thai = rng.random() < 0.6
        roots = vocab.ORG_ROOTS_TH if thai else vocab.ORG_ROOTS_EN
        if corporate:
            templates = vocab.ORG_CORP_TH if thai else vocab.ORG_CORP_EN
        else:
            templates = vocab.ORG_SHOP_TH if thai else vocab.ORG_SHOP_EN
        name = templates[rng.integers(len(templates))].format(roots[rng.integers(len(roots))])
        rows.append({
            "name": name,
            "kind": "corporate" if corporate else "shop",
            "external_id": f"ORG{first_number + i:06d}",
            "tax_id": "0105" + "".join(str(d) for d in rng.integers(0, 10, 9)) if corporate else "",
        })
    return rows
