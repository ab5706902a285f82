"""The one background-task API: `@task` defines a job, `enqueue` schedules it after commit.

How a task runs depends on `settings.TASK_MODE`:
- "celery" (GUANXI_BROKER_URL set): sent over the broker to Celery workers;
- "thread" (the embedded default): run in a small thread pool of this process;
- "eager" (tests): run at once in the caller, exceptions propagate.
Periodic jobs are declared with `periodic`; celery beat runs them with a broker, and
`run_local_scheduler` runs them inside `guanxi serve` / `guanxi worker` without one.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import Task as CeleryTask
from celery.schedules import crontab, schedule
from django.apps import apps
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from guanxi.celery import app as celery_app

logger = logging.getLogger(__name__)

Task = CeleryTask[Any, Any]

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


@dataclass
class PeriodicJob:
    name: str
    task: Task
    schedule: crontab | schedule
    kwargs: dict[str, Any]


PERIODIC: dict[str, PeriodicJob] = {}


def task(func: Callable[..., Any]) -> Task:
    """Register a function as a background task named "<module>.<function>"."""
    name = f"{func.__module__}.{func.__name__}"
    return celery_app.task(name=name)(func)


def periodic(name: str, job: Task, every: crontab | schedule, **kwargs: Any) -> PeriodicJob:
    """Declare that `job` runs on a schedule (a celery crontab or an interval schedule)."""
    entry = PeriodicJob(name=name, task=job, schedule=every, kwargs=kwargs)
    PERIODIC[name] = entry
    return entry


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="guanxi-task")
        return _executor


def _run_local(job: Task, kwargs: dict[str, Any]) -> None:
    close_old_connections()
    try:
        job.run(**kwargs)
    except Exception:  # a background job's failure is logged, it has no caller to raise to
        logger.exception("task %s failed", job.name)
    finally:
        close_old_connections()


def _dispatch(job: Task, kwargs: dict[str, Any]) -> None:
    mode = settings.TASK_MODE
    if mode == "celery":
        job.apply_async(kwargs=kwargs)
    elif mode == "eager":
        job.run(**kwargs)
    else:
        _pool().submit(_run_local, job, kwargs)


def enqueue(job: Task, /, **kwargs: Any) -> None:
    """Run `job(**kwargs)` in the background once the current transaction commits.

    Arguments must be plain JSON values (ids, strings): a task re-reads what it needs.
    """
    transaction.on_commit(lambda: _dispatch(job, kwargs))


def load_task_modules() -> None:
    """Import every installed Guanxi app's `tasks` module so their tasks and jobs register."""
    for config in apps.get_app_configs():
        if config.name.startswith("guanxi."):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.tasks":
                    raise


def run_local_scheduler(stop: threading.Event, *, poll_seconds: float = 5.0) -> None:
    """Run the periodic jobs in this process until `stop` is set (no broker configured)."""
    load_task_modules()
    last_run: dict[str, datetime] = {name: timezone.now() for name in PERIODIC}
    while not stop.wait(poll_seconds):
        for name, job in list(PERIODIC.items()):
            due, _next = job.schedule.is_due(last_run.setdefault(name, timezone.now()))
            if due:
                last_run[name] = timezone.now()
                _run_local(job.task, job.kwargs)


@task
def ping_task(token: str) -> dict[str, str]:
    """Round trip through the task system: echoes the token with the worker's time."""
    return {"token": token, "at": timezone.now().isoformat()}
