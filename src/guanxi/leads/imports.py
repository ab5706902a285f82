"""Importing leads from a CSV or XLSX file, through the customer importer's job lifecycle
(customers/imports/service.py routes a job whose target is "leads" here for its dry run,
run and revert).

A batch looks its industries and the blind indexes of earlier imported leads up in a few
set-based queries and validates every row with the leads' own checks (the phone and email
normalisers customers use; errors name the file's column). A valid row becomes a lead with
source "import"; each batch is created together by `leads_bulk_create`, which does what
the manual path does one lead at a time (duplicate check against customers and open leads,
assignment rules, scoring) in a constant number of queries. A row whose phone or email already
belongs to a lead created by an import is skipped, so importing the same file twice creates
nothing new. Revert deletes the job's leads not edited since.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.commerce.imports import Checker, Outcome, Parsed, _cells
from guanxi.core.errors import DomainError
from guanxi.customers.imports import targets
from guanxi.customers.imports.readers import Row
from guanxi.customers.models import (
    ImportAction,
    ImportedRow,
    ImportJob,
    ImportRowError,
    Industry,
)
from guanxi.leads.models import Lead, LeadSource
from guanxi.leads.services import lead_apply, leads_bulk_create

CHUNK = 500

# Lead field → the headers (lower case) that map to it, Chinese and English.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "联系人", "name", "contact", "full name"),
    "company": ("公司", "公司名称", "单位", "company", "organisation", "organization"),
    "title": ("职位", "职务", "title", "job title"),
    "phone": ("手机", "手机号", "电话", "phone", "mobile", "telephone"),
    "email": ("邮箱", "电子邮件", "email", "e-mail"),
    "industry": ("行业", "industry"),
    "region": ("地区", "省份", "region", "province"),
    "source_detail": ("来源", "渠道", "source", "source detail"),
    "message": ("备注", "留言", "message", "notes", "note"),
}
LABELS: dict[str, Any] = {
    "name": gettext_lazy("Name"),
    "company": gettext_lazy("Company"),
    "title": gettext_lazy("Job title"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "industry": gettext_lazy("Industry"),
    "region": gettext_lazy("Region"),
    "source_detail": gettext_lazy("Source detail"),
    "message": gettext_lazy("Message"),
}
REQUIRED = ("name",)


def target_choices(target: str) -> list[tuple[str, str]]:
    """(field, label in the active language) of the leads target, for the mapping page."""
    return [(key, str(LABELS[key])) for key in HEADERS]


def _normal(header: Any) -> str:
    return " ".join(str(header or "").replace("_", " ").split()).lower()


def auto_map(target: str, headers: list[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Column index → lead field for each known header (each field once), and a warning for
    each required field no column maps to."""
    known = {name: key for key, names in HEADERS.items() for name in names}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        key = known.get(_normal(header), "")
        if key in used:
            key = ""
        used.add(key)
        mapping[str(index)] = key
    return mapping, missing(target, mapping)


def missing(target: str, mapping: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "column": None,
            "message": _("No column holds the required field “%(field)s”.")
            % {"field": LABELS[key]},
        }
        for key in REQUIRED
        if key not in mapping.values()
    ]


def mapping_clean(
    target: str, mapping: dict[str, Any], headers: list[str]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The mapping with only lead fields, each once; the errors found."""
    cleaned: dict[str, str] = {}
    errors: list[dict[str, Any]] = []
    used: set[str] = set()
    for index in range(len(headers)):
        key = str(mapping.get(str(index)) or "")
        if key and key not in HEADERS:
            errors.append({"field": f"mapping.{index}", "message": _("Choose a valid column.")})
        elif key and key in used:
            errors.append(
                {"field": f"mapping.{index}", "message": _("Two columns hold the same field.")}
            )
        used.add(key)
        cleaned[str(index)] = key
    return cleaned, errors


def _industries(raws: Iterable[Any]) -> dict[str, Industry]:
    """Industry by its code or name (Chinese or English, lower case); one query a batch."""
    wanted = sorted({str(raw).strip() for raw in raws if str(raw or "").strip()})
    if not wanted:
        return {}
    found: dict[str, Industry] = {}
    for industry in Industry.objects.filter(
        Q(code__in=wanted) | Q(name_zh__in=wanted) | Q(name_en__in=wanted)
    ):
        for key in (industry.code, industry.name_zh, industry.name_en):
            found[key.lower()] = industry
    return found


def _imported_indexes(indexes: set[str]) -> set[str]:
    """Which of these blind indexes already belong to a lead created by an import."""
    values = sorted(indexes)
    taken: set[str] = set()
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        for phone, email in Lead.objects.filter(
            Q(phone_index__in=chunk) | Q(email_index__in=chunk), source=LeadSource.IMPORT
        ).values_list("phone_index", "email_index"):
            taken.update(value for value in (phone, email) if value)
    return taken


def plan_batch(job: ImportJob, rows: list[Row]) -> Outcome:
    """Validate one batch and sort it into created (row, values), skipped and failed."""
    outcome = Outcome()
    parsed = _cells(job, rows)
    industries = _industries(raw.get("industry") for _row, raw in parsed)
    checked: list[tuple[Parsed, dict[str, Any], Lead]] = []
    for row, raw in parsed:
        if row.errors:
            outcome.failed.append(row)
            continue
        check = Checker(job, row, raw)
        values: dict[str, Any] = {
            key: str(raw.get(key) or "").strip() for key in HEADERS if key in raw
        }
        industry = str(values.pop("industry", ""))
        if industry:
            found = industries.get(industry.lower())
            if found is None:
                check.fail("industry", _("Unknown industry."))
            else:
                values["industry"] = found
        probe = Lead(source=LeadSource.IMPORT)
        try:
            lead_apply(probe, values)
        except DomainError as refused:
            for item in refused.errors or [{"field": "", "message": str(refused)}]:
                check.fail(str(item.get("field") or ""), str(item["message"]))
        for item in row.errors:  # never keep personal data in the clear in the error log
            if item["field"] in ("phone", "email"):
                item["value"] = ""
        if row.errors:
            outcome.failed.append(row)
            continue
        row.values = values
        checked.append((row, raw, probe))
    taken = _imported_indexes(
        {value for _r, _raw, lead in checked for value in (lead.phone_index, lead.email_index)}
        - {""}
    )
    for row, _raw, lead in checked:
        if {lead.phone_index, lead.email_index} & taken:
            outcome.skipped.append(row)
        else:
            outcome.created.append((row, None))
    return outcome


def _actor(job: ImportJob) -> Any:
    actor = job.created_by
    if actor is None or not actor.is_active:
        raise DomainError(_("The user who uploaded this file is no longer active."))
    return actor


def write_batch(job: ImportJob, outcome: Outcome) -> None:
    """Create the batch's leads together like manual ones (match, assignment rules, scoring;
    `leads_bulk_create`, a constant number of queries) in the caller's transaction, with the
    row log (what to revert) and the row errors."""
    actor = _actor(job)
    leads = leads_bulk_create(
        actor=actor,
        rows=[row.values for row, _none in outcome.created],
        source=LeadSource.IMPORT,
    )
    log: list[ImportedRow] = [
        ImportedRow(
            job=job,
            row_number=row.number,
            customer_id=lead.matched_customer_id,
            action=ImportAction.CREATED,
            before={"model": "lead", "id": lead.pk},
            customer_version_after=lead.version,
        )
        for (row, _none), lead in zip(outcome.created, leads, strict=True)
    ]
    log += [
        ImportedRow(job=job, row_number=row.number, action=ImportAction.SKIPPED)
        for row in outcome.skipped
    ]
    ImportedRow.objects.bulk_create(log, batch_size=CHUNK)
    ImportRowError.objects.bulk_create(targets.error_rows(job, outcome.failed), batch_size=CHUNK)


def analyse(job: ImportJob, batches: Iterable[list[Row]], max_errors: int) -> ImportJob:
    """The dry run of a leads job: counts and errors, nothing else written."""
    return targets.analyse(job, batches, max_errors, plan_batch)


def commit_batch(job: ImportJob, rows: list[Row]) -> bool:
    """Plan and write one batch with the job's checkpoint; False when another run is ahead."""
    return targets.commit_batch(job, rows, plan_batch, write_batch)


def revert(job: ImportJob) -> None:
    """Delete the leads the job created; one edited since the import (its version moved on)
    is kept ("edited")."""
    rows = list(
        ImportedRow.objects.filter(
            job=job, action=ImportAction.CREATED, revert_outcome=""
        ).order_by("pk")
    )
    if not rows:
        return
    by_id: dict[int, list[ImportedRow]] = {}
    stamp: dict[int, int] = {}
    for row in rows:
        key = int((row.before or {}).get("id") or 0)
        by_id.setdefault(key, []).append(row)
        stamp[key] = row.customer_version_after
    ids = sorted(by_id)
    with transaction.atomic():
        now: dict[int, int] = {}
        for start in range(0, len(ids), CHUNK):
            now.update(
                Lead.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", "version")
            )
        present = set(now)
        edited = {pk for pk in present if now[pk] != stamp[pk]}
        doomed = sorted(present - edited)
        for start in range(0, len(doomed), CHUNK):
            Lead.objects.filter(pk__in=doomed[start : start + CHUNK]).delete()
        for outcome, keys in (
            ("deleted", doomed),
            ("edited", sorted(edited)),
            ("missing", sorted(set(ids) - present)),
        ):
            pks = [row.pk for key in keys for row in by_id[key]]
            for start in range(0, len(pks), CHUNK):
                ImportedRow.objects.filter(pk__in=pks[start : start + CHUNK]).update(
                    revert_outcome=outcome
                )
