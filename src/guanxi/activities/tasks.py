"""Background jobs of activities: the reminder sender, every minute."""

from __future__ import annotations

from celery.schedules import crontab

from guanxi.activities import services
from guanxi.core.tasks import periodic, task


@task
def reminders_send_task() -> int:
    """Send every reminder that has come due (idempotent: a rerun sends nothing twice)."""
    return services.reminders_send()


periodic("activities.reminders", reminders_send_task, crontab(minute="*"))
