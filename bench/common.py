"""What the bench scripts share: Django set-up for a chosen database, timing statistics."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str | None, **environment: str) -> None:
    """Point Django at `database_url` (else $DATABASE_URL, else the default SQLite file)."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    for name, value in environment.items():
        os.environ.setdefault(name, value)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    sys.path.insert(0, str(ROOT / "src"))
    os.chdir(ROOT)  # var/ (keys, secret key) and node_modules/ are found from the repo root
    import django

    django.setup()


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile of the samples (inclusive method: p50 is the median)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(fraction * 100) - 1]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 of timings given in seconds, in milliseconds to 0.01 ms."""
    return {
        "p50": round(percentile(seconds, 0.50) * 1000, 2),
        "p95": round(percentile(seconds, 0.95) * 1000, 2),
    }


def timing(
    func: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None
) -> dict[str, float]:
    """p50/p95 of ``func`` over ``runs`` calls after one warm-up call; ``before`` (untimed)
    runs ahead of each call, e.g. to reset what the call changes."""
    if before:
        before()
    func()  # warm the caches once
    seconds = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        func()
        seconds.append(time.perf_counter() - started)
    return summary_ms(seconds)


def sqlite_droppable_indexes(connection: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of a SQLite table's plain indexes, to drop and rebuild
    around a bulk load (unique ones stay: they guard the load)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name",
            [table],
        )
        return list(cursor.fetchall())


def sqlite_fast_load(cursor: Any) -> None:
    """Only in this process, for the load: no journal, no fsync, a big page cache."""
    cursor.execute("PRAGMA journal_mode = OFF")
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA cache_size = -1000000")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.execute("PRAGMA foreign_keys = OFF")
