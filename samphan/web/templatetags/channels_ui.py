"""`{% load channels_ui %}{{ conversation.provider|provider_label }}`: a channel provider's name
("line" → "LINE Official Account" / "บัญชี LINE Official Account") in the reader's language."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def provider_label(provider: str) -> str:
    from samphan.web.views_channels import provider_label as label

    return label(str(provider or ""))
