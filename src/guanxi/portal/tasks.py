"""Background jobs of the portal: the CSAT invitation after a resolved ticket and the NPS
sweep (daily at 09:00: each active NPS survey whose interval has passed)."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from guanxi.core.tasks import enqueue, periodic, task
from guanxi.portal import services


@task
def csat_for_ticket_task(ticket_id: int) -> None:
    services.csat_for_ticket(ticket_id=ticket_id)


@task
def nps_send_due_task() -> int:
    return services.nps_send_due()


def on_ticket_resolved(*, ticket_id: int, **_: Any) -> None:
    """Subscriber of ticket.resolved: invite the contact once the resolution is committed."""
    enqueue(csat_for_ticket_task, ticket_id=ticket_id)


periodic("portal.nps-surveys", nps_send_due_task, crontab(hour=9, minute=0))
