"""What one request costs in CPU, for the latency benchmarks that run Django in process.

On a shared machine the wall clock also counts the wait for a core; the CPU of the request's
thread plus its PostgreSQL backend (read in nanoseconds from /proc/<pid>/schedstat, when the
server runs here) is what the request costs on an idle machine with the data in memory.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db import connection


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


class CpuClock:
    """CPU nanoseconds of this thread plus its PostgreSQL backend (when the server runs here)."""

    def __init__(self) -> None:
        self.backend: Path | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                path = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")
            self.backend = path if path.exists() else None

    def now(self) -> int:
        ns = time.thread_time_ns()
        if self.backend is not None:
            ns += int(self.backend.read_text().split()[0])
        return ns
