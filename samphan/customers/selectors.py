"""Reads for customers. Every function takes the workspace first."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from samphan.customers.models import Customer


def customer_list(*, workspace: Any, q: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.for_workspace(workspace).filter(merged_into__isnull=True, erased_at__isnull=True)
    if q:
        qs = qs.filter(search_text__contains=q.strip().lower())
    return qs.order_by("-created_at", "-id")
