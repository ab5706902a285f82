"""The task API in each mode, and a real task through Redis to a real Celery worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import missing_infrastructure
from django.db import DatabaseError, transaction

from guanxi.celery import app as celery_app
from guanxi.core.tasks import enqueue, ping_task, task

REDIS_URL = os.environ.get("GUANXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
ROOT = Path(__file__).resolve().parents[4]

calls: list[str] = []


@task
def remember_task(value: str) -> str:
    calls.append(value)
    return value


@pytest.fixture(autouse=True)
def _clear() -> None:
    calls.clear()


@pytest.mark.django_db(transaction=True)
def test_eager_tasks_run_only_after_the_commit(settings: Any) -> None:
    settings.TASK_MODE = "eager"

    with transaction.atomic():
        enqueue(remember_task, value="a")
        assert calls == []

    assert calls == ["a"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_no_task(settings: Any) -> None:
    settings.TASK_MODE = "eager"

    def fail_after_enqueueing() -> None:
        with transaction.atomic():
            enqueue(remember_task, value="lost")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_enqueueing()

    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_thread_mode_runs_the_task_in_the_background(settings: Any) -> None:
    settings.TASK_MODE = "thread"
    done = threading.Event()

    @task
    def signal_task() -> None:
        calls.append(threading.current_thread().name)
        done.set()

    enqueue(signal_task)

    assert done.wait(10)
    assert calls[0].startswith("guanxi-task")


@pytest.mark.django_db(transaction=True)
def test_a_background_task_writes_a_table_that_a_request_is_reading(settings: Any) -> None:
    """As when a page polls an import's progress while the import writes it: the write waits
    for the reader if it must, and is never refused."""
    from django.contrib.auth.models import Group

    settings.TASK_MODE = "thread"
    groups = Group.objects.bulk_create(Group(name=f"group {n}") for n in range(3))
    done = threading.Event()
    outcome: list[str] = []

    @task
    def rename_task() -> None:
        try:
            Group.objects.filter(pk=groups[-1].pk).update(name="renamed")
            outcome.append("written")
        except DatabaseError as error:
            outcome.append(f"refused: {error}")
        finally:
            done.set()

    reading = Group.objects.order_by("pk").iterator(chunk_size=1)
    first = next(reading)  # the read is still under way
    enqueue(rename_task)
    assert done.wait(30)
    rest = list(reading)

    assert outcome == ["written"]
    assert [first.pk, *(group.pk for group in rest)] == [group.pk for group in groups]
    assert Group.objects.get(pk=groups[-1].pk).name == "renamed"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def celery_worker() -> Iterator[None]:
    if not _redis_available():
        missing_infrastructure(f"Redis is not reachable at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "GUANXI_BROKER_URL": REDIS_URL,
        "GUANXI_TASK_MODE": "celery",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    worker = subprocess.Popen(  # noqa: S603  (our own interpreter's celery)
        [
            celery,
            "-A",
            "guanxi",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    saved = {
        "broker_url": celery_app.conf.broker_url,
        "result_backend": celery_app.conf.result_backend,
    }
    celery_app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL)
    celery_app._pool = None
    if hasattr(celery_app._local, "backend"):
        del celery_app._local.backend
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
        celery_app.conf.update(**saved)
        celery_app._pool = None
        if hasattr(celery_app._local, "backend"):
            del celery_app._local.backend


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_task_travels_through_redis_to_a_real_worker(
    celery_worker: None, settings: Any
) -> None:
    settings.TASK_MODE = "celery"
    token = uuid.uuid4().hex

    result = ping_task.apply_async(kwargs={"token": token})

    assert result.get(timeout=60)["token"] == token


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_enqueue_sends_to_the_worker_when_a_broker_is_configured(
    celery_worker: None, settings: Any
) -> None:
    import redis

    settings.TASK_MODE = "celery"
    token = uuid.uuid4().hex
    client = redis.Redis.from_url(REDIS_URL)

    with transaction.atomic():
        enqueue(ping_task, token=token)
    deadline = time.monotonic() + 60
    found = False
    while time.monotonic() < deadline and not found:
        found = any(
            token in (client.get(key) or b"").decode()
            for key in client.scan_iter("celery-task-meta-*")
        )
        time.sleep(0.2)

    assert found
