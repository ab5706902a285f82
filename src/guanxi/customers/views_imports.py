"""Import and export pages: upload, column mapping and dry run, progress, errors, revert,
and the export download behind the customer list's Export menu."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from guanxi.accounts.auth import page_actor
from guanxi.core.errors import DomainError
from guanxi.core.forms import apply_domain_error
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.exports import customers_export
from guanxi.customers.imports import mapping as columns
from guanxi.customers.imports import selectors, service
from guanxi.customers.imports.forms import ImportUploadForm, MappingForm
from guanxi.customers.models import ImportFormat, ImportJob, ImportStatus, ImportTarget
from guanxi.customers.services import custom_field_definitions
from guanxi.customers.views import filters_from_query


@login_required
def import_list_view(request: HttpRequest) -> HttpResponse:
    """The user's import jobs and the upload form; an upload goes straight to its dry run."""
    actor = page_actor(request)
    require_perm(actor, "customers.create")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = service.import_job_create(
                actor=actor,
                upload=data["file"],
                duplicate_policy=data["duplicate_policy"],
                allow_reimport=data["allow_reimport"],
                target=data["target"] or ImportTarget.CUSTOMERS,
            )
            service.import_job_analyse_later(actor=actor, job=job)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return redirect("customers:import-detail", pk=job.pk)
    jobs = list(selectors.import_job_list(actor=actor)[:50])
    return render(request, "customers/imports/list.html", {"form": form, "jobs": jobs})


def _targets(job: ImportJob) -> list[tuple[str, str]]:
    """The fields a column of this job can feed: customer fields, or another target's."""
    if job.target != ImportTarget.CUSTOMERS:
        return list(service._other_target(job.target).target_choices(job.target))
    return columns.target_choices(custom_field_definitions(), get_language() or "en")


def _detail_context(
    request: HttpRequest, job: ImportJob, form: MappingForm | None
) -> dict[str, Any]:
    actor = page_actor(request)
    targets = _targets(job)
    if form is None:
        form = MappingForm(headers=job.headers, targets=targets, mapping=job.mapping)
    labels = dict(targets)
    samples = [
        {**error, "label": labels.get(error["field"], error["field"])}
        for error in job.dry_run.get("errors", [])[:50]
    ]
    return {
        "job": job,
        "form": form,
        "mapping_rows": [
            (form[f"col_{index}"], header) for index, header in enumerate(job.headers)
        ],
        "may_map": job.status in (ImportStatus.UPLOADED, ImportStatus.ANALYSED)
        and job.format != ImportFormat.VCF,
        "may_start": job.status in (ImportStatus.ANALYSED, ImportStatus.FAILED),
        "may_revert": job.status == ImportStatus.COMPLETED,
        "errors": samples,
        "is_admin": has_perm(actor, "customers.admin"),
    }


@login_required
def import_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A job: its mapping and dry run, then its progress, then its outcome."""
    actor = page_actor(request)
    job = selectors.import_job_get(actor=actor, pk=pk)
    form: MappingForm | None = None
    if request.method == "POST":
        form = MappingForm(
            request.POST,
            headers=job.headers,
            targets=_targets(job),
            mapping=job.mapping,
        )
        if form.is_valid():
            try:
                service.import_job_analyse_later(actor=actor, job=job, mapping=form.mapping())
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, _("Mapping saved and the file checked again."))
                return redirect("customers:import-detail", pk=job.pk)
    return render(request, "customers/imports/detail.html", _detail_context(request, job, form))


@login_required
def import_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial, polled every second while the job runs; then a page reload."""
    job = selectors.import_job_get(actor=page_actor(request), pk=pk)
    if not job.is_busy and request.htmx:  # type: ignore[attr-defined]  # set by django-htmx
        return HttpResponseClientRefresh()
    return render(request, "customers/imports/detail.html#progress", {"job": job})


@login_required
@require_POST
def import_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    job = selectors.import_job_get(actor=actor, pk=pk)
    try:
        service.import_job_start(actor=actor, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Import started."))
    return redirect("customers:import-detail", pk=pk)


@login_required
@require_POST
def import_revert_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    job = selectors.import_job_get(actor=actor, pk=pk)
    try:
        result = service.import_job_revert(actor=actor, job=job)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Import reverted: %(deleted)s customers deleted, %(restored)s restored, "
                "%(kept)s edited and %(linked)s linked to other records since the import kept."
            )
            % result,
        )
    return redirect("customers:import-detail", pk=pk)


@login_required
def import_errors_csv_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Every row error of a job as a CSV file (Excel reads it thanks to the BOM)."""
    job = selectors.import_job_get(actor=page_actor(request), pk=pk)
    headers = [_("Row"), _("Field"), _("Value"), _("Message")]
    response = StreamingHttpResponse(
        selectors.import_job_errors_csv(job=job, headers=[str(h) for h in headers]),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@login_required
def customer_export_view(request: HttpRequest) -> HttpResponseBase:
    """The customer list under the page's filters as ?format=csv|xlsx|vcf (&version=4.0)."""
    return customers_export(
        actor=page_actor(request),
        filters=filters_from_query(request.GET),
        fmt=request.GET.get("format", "csv"),
        request=request,
        version=request.GET.get("version", "3.0"),
    )
