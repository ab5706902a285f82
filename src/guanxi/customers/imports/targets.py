"""What every non-customer import target (commerce facts, leads) shares with the importer:
the dry run's counting, the checkpointed batch commit and the stored row errors.

A target module supplies ``plan_batch(job, rows)`` — an outcome with ``created``,
``skipped`` and ``failed`` rows (each failed row with ``number`` and ``errors``) — and
``write_batch(job, outcome)``; the job's bookkeeping is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from guanxi.customers.imports.readers import Row
from guanxi.customers.models_imports import ImportJob, ImportRowError, ImportStatus

CHUNK = 500

Plan = Callable[[ImportJob, list[Row]], Any]
Write = Callable[[ImportJob, Any], None]


def error_rows(job: ImportJob, failed: Iterable[Any]) -> list[ImportRowError]:
    """One stored error per message of each failed row, cut to the columns' sizes."""
    return [
        ImportRowError(
            job=job,
            row_number=row.number,
            field=error["field"][:100],
            value=error["value"][:200],
            message=error["message"][:500],
        )
        for row in failed
        for error in row.errors
    ]


def analyse(
    job: ImportJob, batches: Iterable[list[Row]], max_errors: int, plan_batch: Plan
) -> ImportJob:
    """The dry run: counts and errors, nothing else written."""
    ImportRowError.objects.filter(job=job).delete()
    counts = {"rows": 0, "valid": 0, "invalid": 0, "would_create": 0, "would_update": 0}
    counts["would_skip"] = 0
    errors: list[dict[str, Any]] = []
    for rows in batches:
        outcome = plan_batch(job, rows)
        counts["rows"] += len(rows)
        counts["invalid"] += len(outcome.failed)
        counts["valid"] += len(rows) - len(outcome.failed)
        counts["would_create"] += len(outcome.created)
        counts["would_skip"] += len(outcome.skipped)
        ImportRowError.objects.bulk_create(error_rows(job, outcome.failed), batch_size=CHUNK)
        errors.extend(
            {"row": row.number, **error} for row in outcome.failed for error in row.errors
        )
    job.dry_run = {**counts, "errors": errors[:max_errors]}
    job.rows_total = counts["rows"]
    job.error_count = counts["invalid"]
    job.status = ImportStatus.ANALYSED
    job.message = ""
    job.save(
        update_fields=["dry_run", "rows_total", "error_count", "status", "message", "updated_at"]
    )
    return job


def commit_batch(job: ImportJob, rows: list[Row], plan_batch: Plan, write_batch: Write) -> bool:
    """Plan and write one batch with the job's checkpoint; False when another run is ahead."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.last_row_committed != job.last_row_committed:
            return False
        outcome = plan_batch(job, rows)
        write_batch(job, outcome)
        job.last_row_committed = rows[-1][0]
        job.rows_done = locked.rows_done + len(rows)
        job.created_count = locked.created_count + len(outcome.created)
        job.skipped_count = locked.skipped_count + len(outcome.skipped)
        job.error_count = locked.error_count + len(outcome.failed)
        job.save(
            update_fields=[
                "last_row_committed",
                "rows_done",
                "created_count",
                "skipped_count",
                "error_count",
                "updated_at",
            ]
        )
    return True
