"""Reads of import jobs: a job is visible to its creator and to holders of customers.admin."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import Http404

from guanxi.accounts.models import User
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import has_perm
from guanxi.customers.models import ImportJob, ImportRowError


def import_job_list(*, actor: User) -> QuerySet[ImportJob]:
    """The actor's own jobs, or every job for customers.admin; newest first."""
    jobs = ImportJob.objects.select_related("created_by").order_by("-pk")
    if has_perm(actor, "customers.admin"):
        return jobs
    if not has_perm(actor, "customers.create"):
        return jobs.none()
    return jobs.filter(created_by_id=actor.pk)


def import_job_get(*, actor: User, pk: int) -> ImportJob:
    """One visible job; anyone else's is 404."""
    found = import_job_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def import_job_errors(
    *, job: ImportJob, cursor: str | None = None, limit: int = 100
) -> Page[ImportRowError]:
    """A keyset page of the job's row errors in row order."""
    return keyset_page(
        ImportRowError.objects.filter(job=job),
        cursor=cursor,
        limit=limit,
        ordering=("row_number", "pk"),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def import_job_errors_csv(*, job: ImportJob, headers: list[str]) -> Iterator[str]:
    """Every row error of the job as CSV lines (UTF-8 BOM first), streamed in pk order."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(headers)
    last = 0
    while True:
        chunk = list(
            ImportRowError.objects.filter(job=job, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "row_number", "field", "value", "message")[:2000]
        )
        if not chunk:
            return
        last = chunk[-1][0]
        yield "".join(
            writer.writerow([row, _cell(field), _cell(value), _cell(message)])
            for _pk, row, field, value, message in chunk
        )
