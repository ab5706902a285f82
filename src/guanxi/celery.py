"""The Celery application: workers and beat, used when GUANXI_BROKER_URL is set."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

app = Celery("guanxi")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_finalize.connect
def _register_periodic_jobs(sender: Celery, **_: Any) -> None:
    from guanxi.core.tasks import PERIODIC, load_task_modules

    load_task_modules()
    for name, job in PERIODIC.items():
        sender.add_periodic_task(job.schedule, job.task.s(**job.kwargs), name=name)
