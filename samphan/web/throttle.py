"""Login throttling: after N failures for one e-mail or one address, wait.

Counts live in the cache (file-based by default, so every web process sees them).
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _keys(email: str, ip: str) -> list[str]:
    def h(s: str) -> str:
        return hashlib.sha256(s.encode()).hexdigest()[:32]

    return [f"login-fail:e:{h(email.strip().lower())}", f"login-fail:ip:{h(ip)}"]


def seconds_locked(email: str, ip: str) -> int:
    """0 when a login may be tried; else how long to wait."""
    now = time.time()
    limit = settings.LOGIN_THROTTLE_FAILURES
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    worst = 0
    for key in _keys(email, ip):
        failures = [t for t in cache.get(key, []) if now - t < window]
        # The address key gets more slack: an office shares one address.
        allowed = limit if ":e:" in key else limit * 4
        if len(failures) >= allowed:
            worst = max(worst, int(window - (now - failures[-allowed])) + 1)
    return worst


def record_failure(email: str, ip: str) -> None:
    now = time.time()
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    for key in _keys(email, ip):
        failures = [t for t in cache.get(key, []) if now - t < window]
        failures.append(now)
        cache.set(key, failures[-50:], timeout=window)


def clear(email: str) -> None:
    cache.delete(_keys(email, "")[0])
