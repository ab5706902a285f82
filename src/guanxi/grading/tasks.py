"""Background jobs of grading: evaluation runs, scheduled evaluations, the follow-up planner."""

from __future__ import annotations

from celery.schedules import crontab
from django.utils import timezone

from guanxi.core.tasks import periodic, task
from guanxi.grading import services
from guanxi.grading.models import Schedule, Scheme


@task
def evaluation_run_task(run_id: int) -> None:
    services.evaluation_run(run_id=run_id)


@task
def scheduled_evaluations_task() -> None:
    """Start the evaluations due today: daily ones every day, weekly on Mondays, monthly on
    the 1st. Runs early each morning."""
    today = timezone.localdate()
    due = [Schedule.DAILY]
    if today.weekday() == 0:
        due.append(Schedule.WEEKLY)
    if today.day == 1:
        due.append(Schedule.MONTHLY)
    for scheme in Scheme.objects.filter(is_active=True, schedule__in=due):
        services.evaluation_start(actor=None, scheme=scheme)


@task
def follow_ups_plan_task() -> None:
    services.follow_ups_plan()


periodic("grading.scheduled-evaluations", scheduled_evaluations_task, crontab(hour=2, minute=0))
periodic("grading.follow-up-planner", follow_ups_plan_task, crontab(hour=6, minute=0))
