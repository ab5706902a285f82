"""Background jobs of leads: the nightly pool sweep (return and warn) and the score decay."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from guanxi.core.tasks import periodic, task
from guanxi.leads import pool, scoring


@task
def pool_sweep_task() -> dict[str, Any]:
    """Return neglected customers and idle leads to the pool; warn owners of those about to go."""
    return pool.pool_sweep()


@task
def leads_rescore_task() -> int:
    """Recompute every open lead's score so that behaviour points fade day by day."""
    return scoring.leads_rescore()


periodic("leads.pool-sweep", pool_sweep_task, crontab(hour=1, minute=30))
periodic("leads.rescore", leads_rescore_task, crontab(hour=3, minute=15))
