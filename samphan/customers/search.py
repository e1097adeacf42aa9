"""Customer search, one backend per database (Wagtail-style dispatch on connection.vendor).

Customer.search_text holds lower-cased names, e-mail, phone digits (E.164 and
local form), external id and member number. Substring search on it is served by
- PostgreSQL: a pg_trgm GIN index, queried with LIKE '%…%';
- SQLite: an FTS5 table with the trigram tokenizer, kept in step by triggers
  (migration 0003); queries shorter than three characters fall back to LIKE.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

_PHONEISH = re.compile(r"^[\d\s()+\-.๐-๙]+$")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def normalise_query(q: str) -> str:
    q = q.strip().lower()
    if _PHONEISH.match(q):
        digits = re.sub(r"\D", "", q.translate(_THAI_DIGITS))
        if len(digits) >= 4:
            return digits
    return re.sub(r"\s+", " ", q)


def apply_search(qs: QuerySet, q: str) -> QuerySet:
    term = normalise_query(q)
    if not term:
        return qs
    if connection.vendor == "sqlite" and len(term) >= 3:
        phrase = '"' + term.replace('"', '""') + '"'
        return qs.filter(
            id__in=RawSQL("SELECT rowid FROM customers_customer_fts WHERE search_text MATCH %s", [phrase])
        )
    return qs.filter(search_text__contains=term)


class SearchResults:
    """A customer search, newest first, that pages without a pathological plan.

    Why not a plain queryset: neither database can estimate how many rows a `LIKE '%…%'` (or
    an FTS5 MATCH) keeps, so PostgreSQL guesses 1 % and, for `ORDER BY created_at DESC LIMIT
    25`, walks the whole created_at index filtering row by row until it has found 25 — seconds
    for a rare full name in a million customers ("Linh Walker": 4.3 s). Here the matches are
    materialised first (a CTE the planner cannot see through, so the trigram/FTS index finds
    them), then sorted; the page query also returns the total through a window count, so the
    API's page and count cost one scan of the matches, not two.

    Quacks like the sliced queryset that Django's Paginator and ninja's LimitOffsetPagination
    expect: `count()`, `len()`, `all()`, slicing, iteration.
    """

    def __init__(self, queryset: QuerySet, ordering: tuple[str, ...] = ("-created_at", "-id")) -> None:
        self.queryset = queryset  # filtered (search included), any ordering
        self.ordering = ordering
        self._count: int | None = None
        self._slice: tuple[int, int, list] | None = None  # the last page fetched: start, stop, rows

    def all(self) -> SearchResults:
        return self

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.order_by().count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[0:self.count()])

    def __getitem__(self, key):
        if isinstance(key, int):
            rows = self[key:key + 1]
            if not rows:
                raise IndexError(key)
            return rows[0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            stop = self.count()
        if stop <= start:
            return []
        if self._slice is None or self._slice[:2] != (start, stop):
            self._slice = (start, stop, self._page(start, stop - start))
        return self._slice[2]

    def prime(self, page_number: Any, per_page: int) -> None:
        """Fetch the page Django's Paginator is about to ask for, so its count comes with it.

        Paginator counts before it slices; primed, both are answered by one query.
        """
        try:
            number = max(int(page_number or 1), 1)
        except (TypeError, ValueError):
            number = 1
        self[(number - 1) * per_page:number * per_page]

    def _page(self, offset: int, limit: int) -> list:
        fields = [name.lstrip("-") for name in self.ordering]
        inner, params = self.queryset.order_by().values_list("pk", *fields).query.sql_with_params()
        aliases = ", ".join(f"o{i}" for i in range(len(fields)))
        order = ", ".join(f"o{i} {'DESC' if name.startswith('-') else 'ASC'}" for i, name in enumerate(self.ordering))
        sql = (f"WITH m (k, {aliases}) AS MATERIALIZED ({inner}) "  # noqa: S608 (no value is interpolated)
               f"SELECT k, count(*) OVER () FROM m ORDER BY {order} LIMIT %s OFFSET %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            rows = cursor.fetchall()
        if rows:
            self._count = rows[0][1]
        elif offset == 0:
            self._count = 0
        ids = [r[0] for r in rows]
        by_id = self.queryset.order_by().in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]
