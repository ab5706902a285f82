"""Service desk background jobs: mail out replies, sweep the SLA clocks, create callbacks."""

from __future__ import annotations

from celery.schedules import crontab, schedule

from guanxi.core.tasks import periodic, task
from guanxi.service import callbacks, mail, sla


@task
def reply_mail_send_task(*, message_id: int) -> None:
    mail.reply_mail_send(message_id=message_id)


@task
def sla_sweep_task() -> None:
    sla.sla_sweep()


periodic("service.sla_sweep", sla_sweep_task, schedule(run_every=60.0))


@task
def callbacks_schedule_task() -> None:
    callbacks.callbacks_schedule()


periodic("service.callbacks_schedule", callbacks_schedule_task, crontab(hour=7, minute=0))
