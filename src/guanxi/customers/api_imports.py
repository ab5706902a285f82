"""Customer import and export API: upload a file, dry run, start, follow, read errors,
revert; and download the filtered customer list as CSV, XLSX or vCard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import File, Form, Query, Router, Schema
from ninja.errors import ValidationError
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from guanxi.accounts.auth import api_actor
from guanxi.core.schemas import InputSchema, PageOut
from guanxi.customers.api import filters_from
from guanxi.customers.exports import customers_export
from guanxi.customers.imports import selectors, service
from guanxi.customers.models import ImportJob
from guanxi.customers.schemas import CustomerQuery

router = Router(tags=["customer imports"])


class ImportJobOut(Schema):
    id: int
    status: str
    original_name: str
    format: str
    encoding: str
    target: str
    duplicate_policy: str
    allow_reimport: bool
    headers: list[str]
    mapping: dict[str, str]
    warnings: list[dict[str, Any]]
    dry_run: dict[str, Any]
    rows_total: int
    rows_done: int
    progress: int
    created_count: int
    updated_count: int
    skipped_count: int
    error_count: int
    last_row_committed: int
    message: str
    revert_result: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    reverted_at: dt.datetime | None

    @staticmethod
    def from_job(job: ImportJob) -> ImportJobOut:
        return ImportJobOut(
            id=job.pk,
            status=job.status,
            original_name=job.original_name,
            format=job.format,
            encoding=job.encoding,
            target=job.target,
            duplicate_policy=job.duplicate_policy,
            allow_reimport=job.allow_reimport,
            headers=job.headers,
            mapping=job.mapping,
            warnings=job.warnings,
            dry_run=job.dry_run,
            rows_total=job.rows_total,
            rows_done=job.rows_done,
            progress=job.progress,
            created_count=job.created_count,
            updated_count=job.updated_count,
            skipped_count=job.skipped_count,
            error_count=job.error_count,
            last_row_committed=job.last_row_committed,
            message=job.message,
            revert_result=job.revert_result,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            reverted_at=job.reverted_at,
        )


class MappingIn(InputSchema):
    mapping: dict[str, str] = Field(max_length=500)


class RowErrorOut(Schema):
    row: int
    field: str
    value: str
    message: str


class ErrorQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=1000)


class RevertOut(Schema):
    deleted: int
    restored: int
    kept: int
    linked: int
    missing: int
    kept_ids: list[int | None]


class ExportQuery(CustomerQuery):
    format: str = Field("csv", pattern="^(csv|xlsx|vcf)$")
    version: str = Field("3.0", pattern="^(3\\.0|4\\.0)$")


@router.get("/customers/imports", response=list[ImportJobOut], summary="Recent import jobs")
def list_imports(request: HttpRequest) -> list[ImportJobOut]:
    jobs = selectors.import_job_list(actor=api_actor(request))[:100]
    return [ImportJobOut.from_job(job) for job in jobs]


@router.post(
    "/customers/imports",
    response={201: ImportJobOut},
    summary="Upload a CSV, XLSX or vCard file as a new import job (columns mapped for you)",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    duplicate_policy: Form[str] = "skip",
    allow_reimport: Form[bool] = False,
    target: Form[str] = "customers",
) -> Status[ImportJobOut]:
    """`target`: what the rows are — customers, orders, invoices, payments, holdings or leads."""
    job = service.import_job_create(
        actor=api_actor(request),
        upload=file,
        duplicate_policy=duplicate_policy,
        allow_reimport=allow_reimport,
        target=target,
    )
    return Status(201, ImportJobOut.from_job(job))


@router.get("/customers/imports/{int:job_id}", response=ImportJobOut, summary="Status and counts")
def get_import(request: HttpRequest, job_id: int) -> ImportJobOut:
    return ImportJobOut.from_job(selectors.import_job_get(actor=api_actor(request), pk=job_id))


@router.post(
    "/customers/imports/{int:job_id}/analyse",
    response={200: ImportJobOut, 202: ImportJobOut},
    summary="Dry run, optionally with a new column mapping (202 while a large file is analysed)",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": MappingIn.model_json_schema()}},
        }
    },
)
def analyse_import(request: HttpRequest, job_id: int) -> Status[ImportJobOut]:
    # The body is optional: without one the automatic (or last saved) mapping is used.
    mapping = None
    if request.content_type == "application/json" and request.body.strip():
        try:
            mapping = MappingIn.model_validate_json(request.body).mapping
        except PydanticValidationError as error:
            raise ValidationError(
                [{**item, "loc": ("body", "payload", *item["loc"])} for item in error.errors()]
            ) from error
    actor = api_actor(request)
    job = selectors.import_job_get(actor=actor, pk=job_id)
    job = service.import_job_analyse_later(actor=actor, job=job, mapping=mapping)
    return Status(202 if job.is_busy else 200, ImportJobOut.from_job(job))


@router.post(
    "/customers/imports/{int:job_id}/start",
    response={202: ImportJobOut},
    summary="Import the analysed rows in the background; resumes a failed run",
)
def start_import(request: HttpRequest, job_id: int) -> Status[ImportJobOut]:
    actor = api_actor(request)
    job = service.import_job_start(
        actor=actor, job=selectors.import_job_get(actor=actor, pk=job_id)
    )
    job.refresh_from_db()
    return Status(202, ImportJobOut.from_job(job))


@router.get(
    "/customers/imports/{int:job_id}/errors",
    response=PageOut[RowErrorOut],
    summary="The row errors, in row order (keyset pages)",
)
def list_import_errors(
    request: HttpRequest, job_id: int, query: Query[ErrorQuery]
) -> PageOut[RowErrorOut]:
    job = selectors.import_job_get(actor=api_actor(request), pk=job_id)
    page = selectors.import_job_errors(job=job, cursor=query.cursor, limit=query.limit)
    return PageOut[RowErrorOut](
        items=[
            RowErrorOut(row=e.row_number, field=e.field, value=e.value, message=e.message)
            for e in page.items
        ],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/customers/imports/{int:job_id}/revert",
    response=RevertOut,
    summary="Delete what the import created and restore what it changed, unless edited since",
)
def revert_import(request: HttpRequest, job_id: int) -> RevertOut:
    actor = api_actor(request)
    result = service.import_job_revert(
        actor=actor, job=selectors.import_job_get(actor=actor, pk=job_id)
    )
    return RevertOut(**result)


@router.get(
    "/customers/export",
    summary="The filtered customers as CSV, XLSX or vCard (same filters as GET /customers)",
    response={200: None},
)
def export_customers(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponseBase:
    return customers_export(
        actor=api_actor(request),
        filters=filters_from(query, request.GET),
        fmt=query.format,
        request=request,
        version=query.version,
    )
