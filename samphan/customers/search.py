"""Customer search, one backend per database (Wagtail-style dispatch on connection.vendor).

Customer.search_text holds lower-cased names, e-mail, phone digits (E.164 and
local form), external id and member number. Substring search on it is served by
- PostgreSQL: a pg_trgm GIN index, queried with LIKE '%…%';
- SQLite: an FTS5 table with the trigram tokenizer, kept in step by triggers
  (migration 0003); queries shorter than three characters fall back to LIKE.
"""

from __future__ import annotations

import re

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
