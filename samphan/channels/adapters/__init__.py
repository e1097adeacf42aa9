"""Which adapter class serves which provider string, the way Django picks EMAIL_BACKEND.

`settings.SAMPHAN_CHANNEL_ADAPTERS` (optional) adds or overrides entries, e.g.
{"line": "myproject.channels.LineViaProxy"}.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from samphan.channels.adapters.base import ChannelAdapter
from samphan.core.errors import ValidationFailed

DEFAULT_ADAPTERS: dict[str, str] = {
    "line": "samphan.channels.adapters.line.LineAdapter",
    "facebook": "samphan.channels.adapters.facebook.FacebookAdapter",
    "webchat": "samphan.channels.adapters.webchat.WebchatAdapter",
    "email": "samphan.channels.adapters.mail.EmailAdapter",
    "sms": "samphan.channels.adapters.sms.SmsAdapter",
    "fake": "samphan.channels.adapters.fake.FakeAdapter",
    # Mentions from X, feeds and uploads turned into conversations; answered on their own site.
    "listening": "samphan.listening.adapter.ListeningAdapter",
}


def adapter_paths() -> dict[str, str]:
    return {**DEFAULT_ADAPTERS, **getattr(settings, "SAMPHAN_CHANNEL_ADAPTERS", {})}


@lru_cache(maxsize=32)
def _load(path: str) -> type[ChannelAdapter]:
    return import_string(path)


def adapter_class(provider: str) -> type[ChannelAdapter]:
    path = adapter_paths().get(provider)
    if path is None:
        raise ValidationFailed(f"unknown channel provider {provider!r}; one of {', '.join(sorted(adapter_paths()))}")
    return _load(path)


def get_adapter(account: Any) -> ChannelAdapter:
    return adapter_class(account.provider)(account)
