"""Keep membership fresh when data changes, not only on a nightly run."""

from __future__ import annotations

from samphan.commerce.services import ORDER_COMMITTED_HOOKS


def _after_order(workspace_id: int, customer_id: int | None) -> None:
    if customer_id is None:
        return
    from samphan.segments.models import Segment
    from samphan.segments.tasks import segments_refresh_customer_task

    if Segment.objects.filter(workspace_id=workspace_id).exists():
        segments_refresh_customer_task.delay(workspace_id, customer_id)


ORDER_COMMITTED_HOOKS.append(_after_order)
