"""Listening's share of a PDPA export and erasure: the mentions a customer wrote.

A mention is theirs when it is linked to the customer or its author is. Erasing blanks the
text, the author's name and handle, the address and the connector's raw fields, and turns the
author into an anonymous one (its key — a platform user id or handle — replaced); the mention's
time, topics, sentiment and reach stay, so the dashboard's volumes and share of voice still
add up, and the dedupe key stays, so the same post fetched again is not collected again.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from samphan.customers.pdpa import PersonalDataSection


def _mentions(customer: Any) -> Any:
    from samphan.listening.models import Mention

    return Mention.objects.filter(Q(customer=customer) | Q(author__customer=customer),
                                  workspace_id=customer.workspace_id)


def mentions_export(customer: Any) -> list[dict[str, Any]]:
    return [{"id": m.pk, "source": m.source, "connector": m.connector, "url": m.url, "text": m.text,
             "author_name": m.author_name, "author_handle": m.author_handle, "language": m.language,
             "published_at": m.published_at.isoformat(), "sentiment": m.label, "status": m.status}
            for m in _mentions(customer).order_by("published_at", "id")]


def mentions_erase(customer: Any, identities: list[tuple[str, str]]) -> dict[str, int]:
    from samphan.listening.models import Author

    mentions = _mentions(customer).update(text="", author_name="", author_handle="", url="", external_id="",
                                          meta={"erased": True}, customer=None)
    authors = Author.objects.filter(customer=customer).update(
        name="", handle="", customer=None, key=Concat(Value("erased:"), Cast("id", CharField())))
    return {"mentions": mentions, "authors": authors}


SECTION = PersonalDataSection(name="mentions", export=mentions_export, erase=mentions_erase,
                              models=("listening.mention", "listening.author"))
