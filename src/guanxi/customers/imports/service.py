"""Customer import jobs: upload, dry run, batched commit with a checkpoint, and revert.

A row is validated by `customers.services.customer_apply`, exactly as a form edit is. The
rows of a batch are matched against existing customers in a few set-based queries (code,
then the phone, email, ID-number and credit-code blind indexes), and each batch is written
in one transaction together with the job's checkpoint, so a crash leaves whole batches and
a rerun resumes after the last one. The dry run walks the same code without writing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import IO, Any, ClassVar, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.base import ModelState
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import crypto, events
from guanxi.core.crypto import EncryptedTextField
from guanxi.core.errors import Conflict, DomainError
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.imports import mapping as columns
from guanxi.customers.imports import targets, writes
from guanxi.customers.imports.readers import (
    REPLACEMENT,
    BadRow,
    FileShape,
    ImportFileError,
    Opener,
    Row,
    data_rows,
    sniff,
)
from guanxi.customers.models import (
    Address,
    BuyingRole,
    Contact,
    ContactMethod,
    Customer,
    CustomerKind,
    CustomerStatus,
    CustomerTag,
    CustomFieldDefinition,
    DuplicatePolicy,
    ImportAction,
    ImportedRow,
    ImportFormat,
    ImportJob,
    ImportRowError,
    ImportStatus,
    ImportTarget,
    Industry,
    SearchToken,
    SourceChannel,
    Tag,
)
from guanxi.customers.normalise import FieldError, clean_email, clean_phone, sorted_search_tokens
from guanxi.customers.services import (
    CODE_PREFIX,
    custom_field_definitions,
    customer_apply,
    search_tokens_refresh,
)
from guanxi.customers.vcard import CARD_EXTRAS

logger = logging.getLogger(__name__)

CHUNK = 500  # SQLite caps bound parameters: long `__in` lists go in chunks of this size
MAX_STORED_ERRORS = 200
MAX_SEEN_KEYS = 500_000  # the dry run's memory for in-file duplicates across batches
STALE_AFTER = timedelta(minutes=10)
MATCH_KEYS = ("code", "phone_index", "email_index", "id_number_index", "credit_code")
# What an import may change on an existing customer, and so what an update records.
TRACKED = tuple(
    model_field.attname
    for model_field in Customer._meta.concrete_fields
    if model_field.name
    not in {"id", "created_at", "updated_at", "version", "owner", "team", "merged_into"}
)
CONCRETE = {model_field.attname: model_field for model_field in Customer._meta.concrete_fields}
ENCRYPTED = {
    model_field.attname: model_field
    for model_field in Customer._meta.concrete_fields
    if isinstance(model_field, EncryptedTextField)
}

# Tests set this to stop a run after N committed batches, as a crash would.
_fail_after_batches: int | None = None


class SimulatedCrash(RuntimeError):
    """Raised by the test hook `_fail_after_batches`."""


def _batch_size() -> int:
    return max(1, int(getattr(settings, "IMPORT_BATCH_SIZE", 1000)))


def _max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 200 * 1024 * 1024))


def _inline_analyse_bytes() -> int:
    # ~1 MB is ~15,000 rows: a few seconds of dry run, acceptable inside a request.
    return int(getattr(settings, "IMPORT_INLINE_ANALYSE_BYTES", 1024 * 1024))


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- access ----------------------------------------------------------------------------------


def may_see_job(actor: User, job: ImportJob) -> bool:
    """A job is its creator's and, for administration, visible to customers.admin."""
    return job.created_by_id == actor.pk or has_perm(actor, "customers.admin")


def _other_target(target: str) -> Any:
    """The module importing a target other than customers: leads, or a commerce fact."""
    if target == ImportTarget.LEADS:
        from guanxi.leads import imports as leads_imports

        return leads_imports
    from guanxi.commerce import imports as commerce_imports

    return commerce_imports


def _create_perm(target: str) -> str:
    """Leads are imported with sales.create, everything else with customers.create."""
    return "sales.create" if target == ImportTarget.LEADS else "customers.create"


def _require_job(actor: User, job: ImportJob) -> None:
    if not may_see_job(actor, job):
        raise PermissionDenied("customers.import")


def _opener(job: ImportJob) -> Opener:
    def open_file() -> AbstractContextManager[IO[bytes]]:
        return cast(AbstractContextManager[IO[bytes]], job.file.storage.open(job.file.name, "rb"))

    return open_file


def _shape(job: ImportJob) -> FileShape:
    return FileShape(
        format=job.format, encoding=job.encoding, delimiter=job.delimiter, headers=job.headers
    )


def _completed_twin(sha256: str, exclude_pk: int | None = None) -> ImportJob | None:
    twins = ImportJob.objects.filter(file_sha256=sha256, status=ImportStatus.COMPLETED)
    if exclude_pk is not None:
        twins = twins.exclude(pk=exclude_pk)
    return twins.order_by("pk").first()


def _refuse_reimport(sha256: str, exclude_pk: int | None = None) -> None:
    twin = _completed_twin(sha256, exclude_pk)
    if twin is not None:
        raise Conflict(
            _("This file was already imported (job #%(number)s).") % {"number": twin.pk},
            field="file",
        )


# --- create ----------------------------------------------------------------------------------


def import_job_create(
    *,
    actor: User,
    upload: File[Any],
    duplicate_policy: str = DuplicatePolicy.SKIP,
    allow_reimport: bool = False,
    target: str = ImportTarget.CUSTOMERS,
) -> ImportJob:
    """Store an uploaded file as a new job: format, encoding and header sniffed, columns
    mapped automatically (status "uploaded").

    Refuses an empty file, a file without data rows, one over IMPORT_MAX_BYTES, and, unless
    `allow_reimport`, a file whose import already completed (and was not reverted).
    """
    if target not in ImportTarget.values:
        raise DomainError(_("Choose one of the allowed values."), field="target")
    require_perm(actor, _create_perm(target))
    if target not in (ImportTarget.CUSTOMERS, ImportTarget.LEADS):
        require_perm(actor, "commerce.create")
    if duplicate_policy not in DuplicatePolicy.values:
        raise DomainError(_("Choose one of the allowed values."), field="duplicate_policy")
    size = int(upload.size or 0)
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    if size > _max_bytes():
        raise ImportFileError(
            _("The file is larger than %(limit)s MB.") % {"limit": _max_bytes() // (1024 * 1024)}
        )
    digest = hashlib.sha256()
    for piece in upload.chunks():
        digest.update(piece)
    sha256 = digest.hexdigest()
    if not allow_reimport:
        _refuse_reimport(sha256)
    original = (upload.name or "upload").rsplit("/", 1)[-1][:255]
    extension = original.rsplit(".", 1)[-1].lower()[:8] if "." in original else "bin"
    job = ImportJob(
        created_by=actor,
        original_name=original,
        file_sha256=sha256,
        file_size=size,
        duplicate_policy=duplicate_policy,
        allow_reimport=allow_reimport,
        target=target,
    )
    upload.seek(0)
    # A random stored name: the user's file name may itself be personal data.
    job.file.save(f"{secrets.token_hex(12)}.{extension}", upload, save=False)
    try:
        shape = sniff(_opener(job), original)
        job.format, job.encoding, job.delimiter = shape.format, shape.encoding, shape.delimiter
        job.headers = shape.headers
        definitions = custom_field_definitions()
        if target != ImportTarget.CUSTOMERS:
            job.mapping, job.warnings = _other_target(job.target).auto_map(target, shape.headers)
        elif job.format == ImportFormat.VCF:
            job.mapping = {str(index): key for index, key in enumerate(shape.headers)}
            job.warnings = []
        else:
            job.mapping, job.warnings = columns.auto_map(shape.headers, definitions)
            job.warnings += [
                warning
                for warning in columns.mapping_warnings(job.mapping, job.headers)
                if warning["column"] is None
            ]
        job.save()
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def import_job_map(*, actor: User, job: ImportJob, mapping: dict[str, Any]) -> ImportJob:
    """Replace the column mapping of a job not yet started; the dry run must be run again."""
    _require_job(actor, job)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.ANALYSED):
        raise Conflict(_("The mapping can no longer be changed."), field="mapping")
    if job.target != ImportTarget.CUSTOMERS:
        cleaned, errors = _other_target(job.target).mapping_clean(job.target, mapping, job.headers)
        warnings = _other_target(job.target).missing(job.target, cleaned)
    else:
        cleaned, errors = columns.mapping_clean(mapping, job.headers, custom_field_definitions())
        warnings = columns.mapping_warnings(cleaned, job.headers)
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    job.mapping = cleaned
    job.warnings = warnings
    job.status = ImportStatus.UPLOADED
    job.dry_run = {}
    job.save(update_fields=["mapping", "warnings", "status", "dry_run", "updated_at"])
    return job


# --- preparing rows --------------------------------------------------------------------------


@dataclass
class Context:
    """What every batch of one job needs, read once."""

    job: ImportJob
    actor: User
    definitions: list[CustomFieldDefinition]
    industries: dict[str, Industry]
    targets: list[tuple[int, str]]
    policy: str
    may_edit_others: bool
    template: Customer  # a new customer before its row's values: copied for each row
    seen: set[int] | None = None  # dry run only: keys of earlier batches' rows
    touched: set[int] = field(default_factory=set)  # dry run only: customers updated so far


@dataclass
class Prepared:
    """One row after validation onto a fresh customer."""

    number: int
    values: dict[str, Any]
    raw: dict[str, Any]
    tags: list[str]
    customer: Customer
    errors: list[dict[str, str]]
    keys: dict[str, str]
    extras: Extras | None = None


@dataclass
class Extras:
    """A card's other phones and emails (validated) and its postal addresses."""

    phones: list[tuple[str, str, str]] = field(default_factory=list)  # number, index, last 4
    emails: list[tuple[str, str]] = field(default_factory=list)  # address, index
    addresses: list[dict[str, str]] = field(default_factory=list)


def _masked(error: FieldError, kind: str, text: str) -> dict[str, str]:
    """A refused personal value's error with the value masked, in the message as well."""
    shown = crypto.mask(kind, text.strip())[:200]
    message = error.message.replace(text.strip(), shown) if text.strip() else error.message
    return {"field": error.field, "message": message[:500], "value": shown}


def _extras(values: dict[str, Any]) -> tuple[Extras | None, list[dict[str, str]]]:
    """The card extras of a row (see vcard.CARD_EXTRAS) and their errors, field by field."""
    if not any(values.get(name) for name in CARD_EXTRAS):
        return None, []
    extras = Extras()
    errors: list[dict[str, str]] = []
    for index, text in enumerate(str(values.get("more_phones") or "").splitlines()):
        try:
            extras.phones.append(clean_phone(text, f"more_phones.{index}"))
        except FieldError as error:
            errors.append(_masked(error, "phone", text))
    for index, text in enumerate(str(values.get("more_emails") or "").splitlines()):
        try:
            extras.emails.append(clean_email(text, f"more_emails.{index}"))
        except FieldError as error:
            errors.append(_masked(error, "email", text))
    if values.get("addresses"):
        try:
            extras.addresses = [dict(item) for item in json.loads(str(values["addresses"]))]
        except (ValueError, TypeError):
            errors.append(_error("addresses", _("Enter a valid value."), {}))
    return extras, errors


@dataclass
class Update:
    """A row that changes an existing customer: its previous values and new tags."""

    row: Prepared
    customer: Customer
    before: dict[str, Any]
    changed: list[str]
    new_tags: list[str]


@dataclass
class Plan:
    """What one batch will do (or, in the dry run, would do)."""

    creates: list[Prepared] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    skips: list[tuple[Prepared, Customer | None]] = field(default_factory=list)
    failures: list[Prepared] = field(default_factory=list)


def _context(job: ImportJob, *, dry_run: bool) -> Context:
    actor = job.created_by
    if actor is None or not actor.is_active:
        raise DomainError(_("The user who uploaded this file is no longer active."))
    targets = sorted(
        (int(index), target) for index, target in (job.mapping or {}).items() if target
    )
    return Context(
        job=job,
        actor=actor,
        definitions=custom_field_definitions(),
        industries={industry.code: industry for industry in Industry.objects.all()},
        targets=targets,
        policy=job.duplicate_policy,
        may_edit_others=has_perm(actor, "customers.edit"),
        template=Customer(source=SourceChannel.IMPORT, owner=actor, team_id=actor.team_id),
        seen=set() if dry_run else None,
    )


def _fresh(template: Customer) -> Customer:
    """A copy of the template customer: Model.__init__ over ~35 fields costs ~20 µs a row."""
    customer = Customer.__new__(Customer)
    customer.__dict__.update(template.__dict__)
    customer._state = ModelState()
    customer.custom_fields = {}
    return customer


def _shown_value(target: str, raw: Any) -> str:
    text = "" if raw is None else str(raw)
    if target in ("phone", "email", "id_number", "bank_account") and text:
        return crypto.mask(target, text.strip())[:200]  # never keep personal data in the clear
    return text[:200]


def _error(target: str, message: str, raw: dict[str, Any]) -> dict[str, str]:
    value = raw.get(target, "")
    shown = _shown_value(target, value)
    text = str(value).strip() if value is not None else ""
    if text and shown != text[:200]:
        message = message.replace(text, shown)
    return {"field": target, "message": message[:500], "value": shown}


def _domain_errors(error: DomainError, raw: dict[str, Any]) -> list[dict[str, str]]:
    """A refused row's errors, the first per field (customer_apply may report a field twice)."""
    found: dict[str, dict[str, str]] = {}
    for item in error.errors or [{"field": "", "message": error.message}]:
        name = str(item.get("field") or "")
        found.setdefault(name, _error(name, str(item["message"]), raw))
    return list(found.values())


def _row_values(ctx: Context, cells: list[Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    tags: list[str] = []
    custom: dict[str, Any] = {}
    for index, target in ctx.targets:
        if index >= len(cells):
            continue
        cell = cells[index]
        if isinstance(cell, str):
            cell = cell.strip()
        if cell is None or cell == "":
            continue
        raw[target] = cell
        if target == columns.TAGS:
            tags = columns.split_tags(cell)
        elif target.startswith(columns.CUSTOM_PREFIX):
            custom[target[len(columns.CUSTOM_PREFIX) :]] = cell
        elif target in columns.CHOICE_FIELDS or target in columns.EXTRA_CHOICE_ALIASES:
            values[target] = columns.choice_value(target, cell)
        else:
            values[target] = cell
    if custom:
        values["custom_fields"] = custom
    return values, raw, tags


def _keys(customer: Customer, values: dict[str, Any]) -> dict[str, str]:
    keys = {
        "code": (customer.code or "") if "code" in values else "",
        "phone_index": customer.phone_index,
        "email_index": customer.email_index,
        "id_number_index": customer.id_number_index,
        "credit_code": customer.credit_code,
    }
    return {name: value for name, value in keys.items() if value}


# Choice fields whose cell already holds a stored value (mapping.choice_value translates
# labels): customer_apply would accept it as it is, after building the choices' labels.
STORED_CHOICES = {
    "kind": frozenset(CustomerKind.values),
    "source": frozenset(SourceChannel.values),
    "status": frozenset(CustomerStatus.values),
}


def _set_stored_choices(customer: Customer, values: dict[str, Any]) -> dict[str, Any]:
    """Set the choice values already in stored form; the values left for customer_apply."""
    rest = values
    for name, allowed in STORED_CHOICES.items():
        value = values.get(name)
        if isinstance(value, str) and value in allowed:
            if rest is values:
                rest = dict(values)
            setattr(customer, name, rest.pop(name))
    return rest


def _prepare(ctx: Context, rows: list[Row]) -> list[Prepared]:
    """Validate each row onto a fresh customer (CPU only: no query, no write)."""
    prepared = []
    for number, cells in rows:
        if cells and isinstance(cells[0], BadRow):
            prepared.append(
                Prepared(number, {}, {}, [], Customer(), [_error("", cells[0].message, {})], {})
            )
            continue
        values, raw, tags = _row_values(ctx, cells)
        customer = _fresh(ctx.template)
        errors: list[dict[str, str]] = []
        if any(isinstance(cell, str) and REPLACEMENT in cell for cell in cells):
            errors.append(
                _error(
                    "",
                    _("This row holds bytes that are not valid UTF-8 text; it was not read."),
                    {},
                )
            )
        else:
            try:
                customer_apply(
                    customer,
                    _set_stored_choices(customer, values),
                    definitions=ctx.definitions,
                    industries=ctx.industries,
                )
            except DomainError as error:
                errors = _domain_errors(error, raw)
        extras, extra_errors = _extras(values)
        prepared.append(
            Prepared(
                number,
                values,
                raw,
                tags,
                customer,
                errors + extra_errors,
                _keys(customer, values),
                extras,
            )
        )
    return prepared


# --- matching --------------------------------------------------------------------------------


def _matches(prepared: list[Prepared]) -> tuple[dict[tuple[str, str], int], set[str]]:
    """(key → id of the oldest live customer holding it, codes held by merged customers).

    One query for the whole batch: the customers' own columns and their contacts' methods.
    """
    wanted: dict[str, set[str]] = {name: set() for name in MATCH_KEYS}
    for row in prepared:
        for name, value in row.keys.items():
            wanted[name].add(value)
    found: dict[tuple[str, str], int] = {}
    merged_codes: set[str] = set()
    contact_keys = wanted["phone_index"] | wanted["email_index"]
    for column, value, pk, status in writes.customers_holding(wanted, contact_keys=contact_keys):
        if column == "code" and status == CustomerStatus.MERGED:
            merged_codes.add(value)
            continue
        names = (
            [name for name in ("phone_index", "email_index") if value in wanted[name]]
            if column == "contact"
            else [column]
        )
        for name in names:
            if (name, value) not in found or pk < found[(name, value)]:
                found[(name, value)] = pk
    return found, merged_codes


def _seen_key(name: str, value: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{name}\0{value}".encode(), digest_size=8).digest())


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in TRACKED}


def _before_json(before: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """The previous values of the changed fields as JSON; personal ones as encrypted tokens."""
    stored: dict[str, Any] = {}
    for name in changed:
        value = before[name]
        if name in ENCRYPTED:
            stored[name] = crypto.encrypt(str(value or ""), context=ENCRYPTED[name].context)
        elif hasattr(value, "isoformat"):
            stored[name] = value.isoformat()
        else:
            stored[name] = value
    return stored


def _plan(ctx: Context, prepared: list[Prepared], *, lock: bool) -> Plan:
    """Decide each row's fate: create, update, skip or refuse (reads only)."""
    found, merged_codes = _matches(prepared)
    policy = ctx.policy
    matched_ids = {
        found[(name, value)]
        for row in prepared
        for name, value in row.keys.items()
        if (name, value) in found
    }
    loaded: dict[int, Customer] = {}
    existing_tags: dict[int, set[str]] = {}
    touched: set[int] = set()
    if policy == DuplicatePolicy.UPDATE and matched_ids:
        for chunk in _chunks(sorted(matched_ids)):
            query = Customer.objects.visible_to(ctx.actor).filter(pk__in=chunk)
            if lock:
                query = query.select_for_update(of=("self",))
            loaded.update((customer.pk, customer) for customer in query)
            for customer_id, name in CustomerTag.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "tag__name"
            ):
                existing_tags.setdefault(customer_id, set()).add(name)
            if ctx.seen is None:
                touched.update(
                    ImportedRow.objects.filter(job=ctx.job, customer_id__in=chunk).values_list(
                        "customer_id", flat=True
                    )
                )
            else:
                touched.update(ctx.touched.intersection(chunk))
    plan = Plan()
    pending: dict[tuple[str, str], Customer] = {}  # keys claimed by earlier rows of the batch
    visited: list[int] = []  # customers this batch updated (or found unchanged)
    for row in prepared:
        code = row.keys.get("code", "")
        if code and code in merged_codes:
            row.errors = [_error("code", _("This customer code is already used."), row.raw)]
            plan.failures.append(row)
            continue
        earlier = next((pending[(n, v)] for n, v in row.keys.items() if (n, v) in pending), None)
        seen = ctx.seen is not None and any(
            _seen_key(n, v) in ctx.seen for n, v in row.keys.items()
        )
        match_id = next(
            (found[(n, row.keys[n])] for n in MATCH_KEYS if (n, row.keys.get(n, "")) in found),
            None,
        )
        if policy == DuplicatePolicy.CREATE or (earlier is None and match_id is None and not seen):
            if row.errors:
                plan.failures.append(row)
            elif code and ((("code", code) in found) or ("code", code) in pending):
                row.errors = [_error("code", _("This customer code is already used."), row.raw)]
                plan.failures.append(row)
            else:
                plan.creates.append(row)
                pending.update(((n, v), row.customer) for n, v in row.keys.items())
            continue
        if policy == DuplicatePolicy.SKIP or earlier is not None or seen:
            target = earlier if earlier is not None else None
            if target is None and match_id is not None:
                target = Customer(pk=match_id)
            plan.skips.append((row, target))
            continue
        # The update policy, and the row matches an existing customer (match_id is set).
        customer = loaded.get(match_id or 0)
        if customer is None:
            row.errors = [
                _error(
                    "",
                    _("This row matches a customer you may not change (#%(id)s).")
                    % {"id": match_id},
                    row.raw,
                )
            ]
            plan.failures.append(row)
            continue
        if match_id in touched:
            plan.skips.append((row, customer))
            continue
        if customer.owner_id != ctx.actor.pk and not ctx.may_edit_others:
            row.errors = [
                _error(
                    "",
                    _("This row matches a customer you may not change (#%(id)s).")
                    % {"id": match_id},
                    row.raw,
                )
            ]
            plan.failures.append(row)
            continue
        before = _snapshot(customer)
        try:
            customer_apply(
                customer, row.values, definitions=ctx.definitions, industries=ctx.industries
            )
        except DomainError as error:
            for name in TRACKED:  # leave the loaded row as it was for the next match
                setattr(customer, name, before[name])
            row.errors = _domain_errors(error, row.raw)
            plan.failures.append(row)
            continue
        if row.values.get("code") and customer.code != before["code"]:
            other = found.get(("code", str(customer.code)))
            if (other is not None and other != customer.pk) or ("code", customer.code) in pending:
                for name in TRACKED:
                    setattr(customer, name, before[name])
                row.errors = [_error("code", _("This customer code is already used."), row.raw)]
                plan.failures.append(row)
                continue
        changed = [name for name in TRACKED if getattr(customer, name) != before[name]]
        new_tags = [tag for tag in row.tags if tag not in existing_tags.get(customer.pk, set())]
        touched.add(customer.pk)
        visited.append(customer.pk)
        pending.update(((n, v), customer) for n, v in row.keys.items())
        if not changed and not new_tags:
            plan.skips.append((row, customer))
            continue
        plan.updates.append(Update(row, customer, _before_json(before, changed), changed, new_tags))
    if ctx.seen is not None and len(ctx.seen) < MAX_SEEN_KEYS:
        for row in (*plan.creates, *(update.row for update in plan.updates)):
            ctx.seen.update(_seen_key(n, v) for n, v in row.keys.items())
        ctx.touched.update(visited)
    return plan


# --- dry run ---------------------------------------------------------------------------------


def _first_errors(stored: list[dict[str, Any]], failures: list[Prepared]) -> None:
    for row in failures:
        for error in row.errors:
            if len(stored) >= MAX_STORED_ERRORS:
                return
            stored.append({"row": row.number, **error})


def _batches(job: ImportJob, *, after: int = 0) -> Iterator[list[Row]]:
    return _chunks(data_rows(_opener(job), _shape(job), after=after), _batch_size())


def _prepared_ahead(
    ctx: Context, batches: Iterator[list[Row]]
) -> Iterator[tuple[list[Row], list[Prepared]]]:
    """The batches with their rows validated, the next one read and validated in a thread
    while the caller matches and writes the current one.

    Validation is pure Python and the writes wait on the database, so the two overlap on two
    cores. `_prepare` runs no query; the thread speaks the caller's language.
    """
    language = translation.get_language()

    def step() -> tuple[list[Row], list[Prepared]] | None:
        rows = next(batches, None)
        if rows is None:
            return None
        with translation.override(language):
            return rows, _prepare(ctx, rows)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="guanxi-import") as pool:
        future = pool.submit(step)
        while (item := future.result()) is not None:
            future = pool.submit(step)
            yield item


def import_job_analyse(
    *, actor: User, job: ImportJob, mapping: dict[str, Any] | None = None
) -> ImportJob:
    """The dry run: validate every row, count what would be created, updated or skipped.

    Writes no customer, tag or history row: only the job's counts and its row errors (all of
    them in ImportRowError, the first 200 in `dry_run`). Status "analysed".
    """
    _require_job(actor, job)
    if mapping is not None:
        import_job_map(actor=actor, job=job, mapping=mapping)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.ANALYSING, ImportStatus.ANALYSED):
        raise Conflict(_("This import has already been started."), field="status")
    if job.target != ImportTarget.CUSTOMERS:
        return cast(
            ImportJob, _other_target(job.target).analyse(job, _batches(job), MAX_STORED_ERRORS)
        )
    ctx = _context(job, dry_run=True)
    writes.Statistics(Customer, ContactMethod)  # analyses tables never analysed
    ImportRowError.objects.filter(job=job).delete()
    counts = {"rows": 0, "valid": 0, "invalid": 0, "would_create": 0, "would_update": 0}
    counts["would_skip"] = 0
    errors: list[dict[str, Any]] = []
    for rows, prepared in _prepared_ahead(ctx, _batches(job)):
        plan = _plan(ctx, prepared, lock=False)
        counts["rows"] += len(rows)
        counts["invalid"] += len(plan.failures)
        counts["valid"] += len(rows) - len(plan.failures)
        counts["would_create"] += len(plan.creates)
        counts["would_update"] += len(plan.updates)
        counts["would_skip"] += len(plan.skips)
        writes.insert_rows(ImportRowError, targets.error_rows(job, plan.failures))
        _first_errors(errors, plan.failures)
        ImportJob.objects.filter(pk=job.pk).update(rows_total=counts["rows"])
    job.dry_run = {**counts, "errors": errors}
    job.rows_total = counts["rows"]
    job.error_count = counts["invalid"]
    job.status = ImportStatus.ANALYSED
    job.message = ""
    job.save(
        update_fields=["dry_run", "rows_total", "error_count", "status", "message", "updated_at"]
    )
    return job


def import_job_analyse_later(
    *, actor: User, job: ImportJob, mapping: dict[str, Any] | None = None
) -> ImportJob:
    """Run the dry run now for a small file, or in the background for a large one."""
    _require_job(actor, job)
    if mapping is not None:
        import_job_map(actor=actor, job=job, mapping=mapping)
    if job.file_size <= _inline_analyse_bytes():
        return import_job_analyse(actor=actor, job=job)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.ANALYSED):
        raise Conflict(_("This import has already been started."), field="status")
    from guanxi.core.tasks import enqueue
    from guanxi.customers.tasks import import_job_analyse_task

    with transaction.atomic():
        job.status = ImportStatus.ANALYSING
        job.save(update_fields=["status", "updated_at"])
        enqueue(import_job_analyse_task, job_id=job.pk)
    return job


def import_job_analyse_background(job_id: int) -> None:
    """The task body of a background dry run; a failure is recorded on the job."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.ANALYSING or job.created_by is None:
        return
    try:
        import_job_analyse(actor=job.created_by, job=job)
    except Exception as error:  # recorded for the user, then re-raised for the task log
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.UPLOADED, message=_failure_message(error)
        )
        raise


def _failure_message(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return error.message
    return _("The import stopped because of an unexpected error: %(error)s") % {
        "error": f"{type(error).__name__}: {error}"[:300]
    }


# --- commit ----------------------------------------------------------------------------------


def import_job_start(*, actor: User, job: ImportJob) -> ImportJob:
    """Queue the analysed job for import (status "queued"); a failed or stalled run resumes
    after its last committed batch."""
    _require_job(actor, job)
    require_perm(actor, _create_perm(job.target))
    stalled = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) and (
        job.updated_at < timezone.now() - STALE_AFTER
    )
    if job.status in (ImportStatus.UPLOADED, ImportStatus.ANALYSING):
        raise Conflict(_("Run the dry run before starting the import."), field="status")
    if job.status not in (ImportStatus.ANALYSED, ImportStatus.FAILED) and not stalled:
        raise Conflict(
            _("This import cannot be started: it is %(status)s.")
            % {"status": job.get_status_display().lower()},
            field="status",
        )
    if not job.allow_reimport:
        _refuse_reimport(job.file_sha256, exclude_pk=job.pk)
    from guanxi.core.tasks import enqueue
    from guanxi.customers.tasks import import_job_run_task

    with transaction.atomic():
        job.status = ImportStatus.QUEUED
        job.message = ""
        job.save(update_fields=["status", "message", "updated_at"])
        enqueue(import_job_run_task, job_id=job.pk)
    return job


def import_job_run(job_id: int) -> ImportJob | None:
    """Import the job's rows in batches, each batch and the checkpoint in one transaction.

    Resumes after `last_row_committed`; stops quietly when another run is ahead of it.
    Status "completed" at the end (the stored file is then deleted), "failed" on an error.
    """
    job = ImportJob.objects.filter(pk=job_id).first()
    runnable = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED)
    if job is None or job.status not in runnable:
        return job
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.message = ""
    job.save(update_fields=["status", "started_at", "message", "updated_at"])
    try:
        if job.last_row_committed == 0:
            # A fresh run: the dry run's errors and counts are rewritten batch by batch.
            ImportRowError.objects.filter(job=job).delete()
            job.rows_done = job.created_count = job.updated_count = 0
            job.skipped_count = job.error_count = 0
            job.save(
                update_fields=[
                    "rows_done",
                    "created_count",
                    "updated_count",
                    "skipped_count",
                    "error_count",
                ]
            )
        if job.target != ImportTarget.CUSTOMERS:
            for rows in _batches(job, after=job.last_row_committed):
                if not _other_target(job.target).commit_batch(job, rows):
                    return job  # another run is ahead
        else:
            ctx = _context(job, dry_run=False)
            statistics = writes.Statistics(Customer, ContactMethod)
            ahead = _prepared_ahead(ctx, _batches(job, after=job.last_row_committed))
            with writes.large_cache():
                for committed, (rows, prepared) in enumerate(ahead, start=1):
                    created = _commit_batch(ctx, rows, prepared)
                    if created is None:
                        return job  # another run is ahead
                    statistics.grew(created)
                    if _fail_after_batches is not None and committed >= _fail_after_batches:
                        raise SimulatedCrash(f"stopped after {committed} batches")
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=_failure_message(error), updated_at=timezone.now()
        )
        raise
    job.refresh_from_db()
    job.status = ImportStatus.COMPLETED
    job.finished_at = timezone.now()
    job.rows_total = max(job.rows_total, job.rows_done)
    job.save(update_fields=["status", "finished_at", "rows_total", "updated_at"])
    if job.file:
        job.file.delete(save=True)  # the rows are in; no need to keep personal data in a file
    return job


def _commit_batch(ctx: Context, rows: list[Row], prepared: list[Prepared]) -> int | None:
    """Plan and write one prepared batch with the checkpoint; how many customers it created,
    or None when another run already committed past this batch."""
    job = ctx.job
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.last_row_committed != job.last_row_committed:
            return None
        plan = _plan(ctx, prepared, lock=True)
        _write(ctx, plan)
        job.last_row_committed = rows[-1][0]
        job.rows_done = locked.rows_done + len(rows)
        job.created_count = locked.created_count + len(plan.creates)
        job.updated_count = locked.updated_count + len(plan.updates)
        job.skipped_count = locked.skipped_count + len(plan.skips)
        job.error_count = locked.error_count + len(plan.failures)
        job.save(
            update_fields=[
                "last_row_committed",
                "rows_done",
                "created_count",
                "updated_count",
                "skipped_count",
                "error_count",
                "updated_at",
            ]
        )
    return len(plan.creates)


def _tag_ids(names: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(names)):
        ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "pk"))
    missing = sorted(names - set(ids))
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing], ignore_conflicts=True)
        for chunk in _chunks(missing):
            ids.update(Tag.objects.filter(name__in=chunk).values_list("name", "pk"))
    return ids


class Tables:
    """The columns a batch writes, set up once per process (converters per field)."""

    _built: ClassVar[dict[str, Tables]] = {}

    def __init__(self) -> None:
        history = Customer.history.model
        self.customer = writes.Columns.of(Customer)
        self.history = writes.Columns.of(history, skip={"history_id"})
        self.token = writes.Columns(SearchToken, ["customer_id", "token"])
        self.tag = writes.Columns(CustomerTag, ["customer_id", "tag_id", "added_at"])
        self.imported = writes.Columns.of(ImportedRow, skip={"id"})
        self.contact = writes.Columns.of(Contact)
        self.contact_history = writes.Columns.of(Contact.history.model, skip={"history_id"})
        self.method = writes.Columns.of(ContactMethod, skip={"id"})
        self.address = writes.Columns.of(Address)
        self.error = writes.Columns.of(ImportRowError, skip={"id"})

    @classmethod
    def get(cls) -> Tables:
        vendor = connection.vendor
        if vendor not in cls._built:
            cls._built[vendor] = cls()
        return cls._built[vendor]


def _history_rows(
    tables: Tables, customers: list[Customer], *, kind: str, when: Any, user_id: int, reason: str
) -> list[tuple[Any, ...]]:
    """simple-history rows of the customers as they are now, as a single save would write."""
    extra = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": kind,
        "history_user_id": user_id,
    }
    return [tables.history.row({**customer.__dict__, **extra}) for customer in customers]


def _imported_row(
    job_id: int, number: int, customer_id: int | None, action: str, version: int, before: Any
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "row_number": number,
        "customer_id": customer_id,
        "action": action,
        "before": before,
        "customer_version_after": version,
        "revert_outcome": "",
    }


def created_rows(
    created: list[Customer], ids: list[int], *, when: Any, user_id: int, reason: str
) -> list[tuple[writes.Columns, list[tuple[Any, ...]]]]:
    """The stored rows of new customers given their ids: customers (coded C + id unless the
    file gave a code), their "+" history and their search tokens, table by table."""
    tables = Tables.get()
    for customer, pk in zip(created, ids, strict=True):
        customer.pk = pk
        customer.code = customer.code or f"{CODE_PREFIX}{pk:08d}"
        customer.created_at = customer.updated_at = when
    return [
        (tables.customer, [tables.customer.row(c.__dict__) for c in created]),
        (
            tables.history,
            _history_rows(tables, created, kind="+", when=when, user_id=user_id, reason=reason),
        ),
        (tables.token, [(c.pk, token) for c in created for token in sorted_search_tokens(c.name)]),
    ]


def _write_extras(
    rows: list[Prepared], *, when: Any, user_id: int, reason: str
) -> dict[int, dict[str, list[int]]]:
    """A vCard's other phones and emails as methods of a primary contact standing for the
    person (with its "+" history), and its postal addresses; per customer, the ids written,
    which revert removes with the customer."""
    tables = Tables.get()
    own: dict[int, dict[str, list[int]]] = {}
    reachable = [row for row in rows if row.extras and (row.extras.phones or row.extras.emails)]
    contacts = []
    for row, pk in zip(reachable, writes.next_ids(Contact, len(reachable)), strict=True):
        customer = row.customer
        contact = {
            "id": pk,
            "created_at": when,
            "updated_at": when,
            "version": 1,
            "customer_id": customer.pk,
            "name": customer.name[:120],
            "title": "",
            "buying_role": BuyingRole.OTHER.value,
            "wechat_id": "",
            "is_primary": True,
            "notes": "",
            "custom_fields": {},
        }
        contacts.append(contact)
        own.setdefault(customer.pk, {})["_contacts"] = [pk]
    writes.insert(tables.contact, [tables.contact.row(c) for c in contacts])
    history = {"history_date": when, "history_change_reason": reason, "history_type": "+"}
    writes.insert(
        tables.contact_history,
        [
            tables.contact_history.row({**c, **history, "history_user_id": user_id})
            for c in contacts
        ],
    )
    methods = []
    for row, contact in zip(reachable, contacts, strict=True):
        extras = cast(Extras, row.extras)
        common = {"contact_id": contact["id"], "customer_id": row.customer.pk, "label": ""}
        methods += [
            {**common, "kind": "phone", "value": value, "value_index": index, "last4": last4}
            for value, index, last4 in extras.phones
        ]
        methods += [
            {**common, "kind": "email", "value": value, "value_index": index, "last4": ""}
            for value, index in extras.emails
        ]
    writes.insert(tables.method, [tables.method.row(m) for m in methods])
    placed = [(row, item) for row in rows for item in cast(Extras, row.extras).addresses]
    addresses = []
    for position, (row, item) in enumerate(placed):
        first = position == 0 or placed[position - 1][0] is not row
        addresses.append(
            {
                "created_at": when,
                "updated_at": when,
                "version": 1,
                "customer_id": row.customer.pk,
                "kind": str(item.get("kind") or "other")[:10],
                "country": str(item.get("country") or "CN")[:2],
                "region": str(item.get("region") or "")[:50],
                "city": str(item.get("city") or "")[:50],
                "district": "",
                "street": str(item.get("street") or "")[:500],
                "postal_code": str(item.get("postal_code") or "")[:12],
                "is_primary": first,
            }
        )
    for pk, address in zip(writes.next_ids(Address, len(addresses)), addresses, strict=True):
        address["id"] = pk
        own.setdefault(address["customer_id"], {}).setdefault("_addresses", []).append(pk)
    if addresses:
        writes.insert(tables.address, [tables.address.row(a) for a in addresses])
    return own


def _write(ctx: Context, plan: Plan) -> None:
    """Write one planned batch in the caller's transaction: new customers with their history,
    search tokens and tags (COPY / executemany), updated customers with theirs, the row log
    and the row errors, and one access-log entry for the batch."""
    from simple_history.utils import bulk_update_with_history

    from guanxi.audit.services import access_log_write

    tables = Tables.get()
    job, actor = ctx.job, ctx.actor
    reason = f"import #{job.pk}"
    now = timezone.now()
    created = [row.customer for row in plan.creates]
    # Ids first, so that a new customer gets its code in the same INSERT: a second UPDATE
    # (customer_codes_assign) doubles the writes and, on PostgreSQL, its `code IS NULL`
    # lookup walks every dead NULL entry a bulk load leaves behind (0.5 s per batch at 100k).
    for table, rows in created_rows(
        created,
        writes.next_ids(Customer, len(created)),
        when=now,
        user_id=actor.pk,
        reason=reason,
    ):
        writes.insert(table, rows)
    own = _write_extras(
        [row for row in plan.creates if row.extras], when=now, user_id=actor.pk, reason=reason
    )

    updated = [update.customer for update in plan.updates]
    changed_fields = sorted({name for update in plan.updates for name in update.changed})
    really_changed = [update.customer for update in plan.updates if update.changed]
    for customer in really_changed:
        customer.version += 1
        customer.updated_at = now
    if really_changed:
        bulk_update_with_history(
            really_changed,
            Customer,
            [*changed_fields, "version", "updated_at"],
            batch_size=CHUNK,
            default_user=actor,
            default_change_reason=reason,
        )

    # Tags: create the missing ones, then link; an update remembers what it added, for revert.
    names = {name for row in plan.creates for name in row.tags}
    names.update(name for update in plan.updates for name in update.new_tags)
    tag_ids = _tag_ids(names) if names else {}
    tag_db = tables.tag.converters[2](now)
    writes.insert(
        tables.tag,
        [(row.customer.pk, tag_ids[name], tag_db) for row in plan.creates for name in row.tags],
    )
    writes.insert(
        tables.tag,
        [
            (update.customer.pk, tag_ids[name], tag_db)
            for update in plan.updates
            for name in update.new_tags
        ],
        ignore_conflicts=True,  # someone may have added the tag since the batch was planned
    )

    log = [
        _imported_row(
            job.pk, row.number, row.customer.pk, ImportAction.CREATED, 1, own.get(row.customer.pk)
        )
        for row in plan.creates
    ]
    log += [
        _imported_row(
            job.pk,
            update.row.number,
            update.customer.pk,
            ImportAction.UPDATED,
            update.customer.version,
            (
                {**update.before, "_tags_added": [tag_ids[n] for n in update.new_tags]}
                if update.new_tags
                else update.before
            ),
        )
        for update in plan.updates
    ]
    log += [
        _imported_row(
            job.pk,
            row.number,
            target.pk if target is not None else None,
            ImportAction.SKIPPED,
            target.version if target is not None else 0,
            None,
        )
        for row, target in plan.skips
    ]
    writes.insert(tables.imported, [tables.imported.row(entry) for entry in log])
    writes.insert_rows(ImportRowError, targets.error_rows(job, plan.failures))

    renamed = [update.customer.pk for update in plan.updates if "name" in update.changed]
    if renamed:
        search_tokens_refresh(renamed)
    new_ids = [customer.pk for customer in created]
    if new_ids or updated:
        access_log_write(
            actor=actor,
            action="import",
            target_model="customers.importjob",
            target_pk=job.pk,
            detail={
                "rows": len(plan.creates)
                + len(plan.updates)
                + len(plan.skips)
                + len(plan.failures),
                "created": len(new_ids),
                "updated": len(updated),
            },
        )
        events.publish_on_commit(
            "customer.imported",
            job_id=job.pk,
            created_ids=new_ids,
            updated_ids=[customer.pk for customer in updated],
            actor_id=actor.pk,
        )


# --- revert ----------------------------------------------------------------------------------


def _restore(customer: Customer, before: dict[str, Any]) -> list[str]:
    fields = []
    for name, stored in before.items():
        if name.startswith("_") or name not in TRACKED:
            continue
        model_field = CONCRETE[name]
        value: Any
        if name in ENCRYPTED:
            # Raises rather than restore a token as if it were the value (a retired key).
            value = crypto.decrypt(str(stored or ""), context=ENCRYPTED[name].context)
        elif name != model_field.name:
            value = stored  # a foreign key's id
        else:
            value = None if stored is None else model_field.to_python(stored)
        setattr(customer, name, value)
        fields.append(name)
    return fields


# What the import itself attaches to a new customer; anything else was added since.
IMPORT_OWN_LINKS = (SearchToken, CustomerTag, ImportedRow)
REVERT_CHUNK = 2000


def _references() -> list[tuple[str, str]]:
    """(table, column) of every foreign key to Customer enforced by the database, hidden
    ones and many-to-many tables included, but the import's own links: a row there means the
    customer is in use. History tables keep unconstrained copies of the key and do not count."""
    found = []
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not relation.is_relation or relation.concrete or relation.many_to_many:
            continue
        model = cast(type[Any], relation.related_model)
        key = cast(Any, relation).field
        if model in (*IMPORT_OWN_LINKS, *CARD_LINKS) or not key.db_constraint or not key.concrete:
            continue
        found.append((model._meta.db_table, key.column))
    return sorted(set(found))


# Rows an import writes for a vCard's extras: its own when their ids are in the row log.
CARD_LINKS = (Contact, ContactMethod, Address)


def _linked_since(ids: list[int], own: dict[int, dict[str, Any]] | None = None) -> set[int]:
    """Customers among `ids` that other records (contacts, consent, orders…) now refer to,
    whichever domain adds them later — but the contact and addresses the import itself made
    from a vCard (`own`: the row log's ids, per customer) while unchanged since."""
    linked = writes.ids_referenced(_references(), ids)
    if not ids:
        return linked
    mine = own or {}
    contacts = {pk for done in mine.values() for pk in done.get("_contacts", [])}
    addresses = {pk for done in mine.values() for pk in done.get("_addresses", [])}
    for customer_id, pk, version in Contact.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "pk", "version"
    ):
        if pk not in contacts or version != 1:
            linked.add(customer_id)
    for customer_id, contact_id in ContactMethod.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "contact_id"
    ):
        if contact_id not in contacts:
            linked.add(customer_id)
    for customer_id, pk, version in Address.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "pk", "version"
    ):
        if pk not in addresses or version != 1:
            linked.add(customer_id)
    return linked


def _delete_created(customers: list[Customer], *, actor: User, reason: str) -> None:
    """Delete customers an import created and nothing else refers to (see _linked_since):
    their "-" history rows as a single delete writes them, their search tokens and tags, and
    the customers; the import log keeps the row without its customer (SET NULL)."""
    tables = Tables.get()
    ids = [customer.pk for customer in customers]
    writes.insert(
        tables.history,
        _history_rows(
            tables, customers, kind="-", when=timezone.now(), user_id=actor.pk, reason=reason
        ),
    )
    contacts = list(Contact.objects.filter(customer_id__in=ids))
    when = timezone.now()
    writes.insert(
        tables.contact_history,
        [
            tables.contact_history.row(
                {
                    **contact.__dict__,
                    "history_date": when,
                    "history_change_reason": reason,
                    "history_type": "-",
                    "history_user_id": actor.pk,
                }
            )
            for contact in contacts
        ],
    )
    writes.delete_where_in(ContactMethod, "customer_id", ids)
    writes.delete_where_in(Contact, "customer_id", ids)
    writes.delete_where_in(Address, "customer_id", ids)
    writes.delete_where_in(SearchToken, "customer_id", ids)
    writes.delete_where_in(CustomerTag, "customer_id", ids)
    for chunk in _chunks(ids, REVERT_CHUNK):
        ImportedRow.objects.filter(customer_id__in=chunk).update(customer=None)
    writes.delete_where_in(Customer, "id", ids)


def import_job_revert(*, actor: User, job: ImportJob) -> dict[str, Any]:
    """Undo a completed import, in batches: delete the customers it created and restore the
    ones it updated — except those edited since (their version moved on) or, for created
    ones, that other records now refer to: those are kept and listed. Status "reverted".

    Resumable: each row records its outcome in the batch's transaction.
    """
    from simple_history.utils import bulk_update_with_history

    _require_job(actor, job)
    require_perm(actor, _create_perm(job.target))
    if job.status != ImportStatus.COMPLETED:
        raise Conflict(_("Only a completed import can be reverted."), field="status")
    reason = f"revert import #{job.pk}"
    last = 0
    if job.target != ImportTarget.CUSTOMERS:
        _other_target(job.target).revert(job)
    while job.target == ImportTarget.CUSTOMERS:
        with transaction.atomic():
            rows = list(
                ImportedRow.objects.filter(job=job, revert_outcome="", pk__gt=last)
                .exclude(action=ImportAction.SKIPPED)
                .order_by("pk")[:REVERT_CHUNK]
            )
            if not rows:
                break
            last = rows[-1].pk
            ids = [row.customer_id for row in rows if row.customer_id is not None]
            customers = {
                customer.pk: customer
                for customer in Customer.objects.filter(pk__in=ids).select_for_update(of=("self",))
            }
            created_ids = [row.customer_id for row in rows if row.action == ImportAction.CREATED]
            linked = _linked_since(
                [pk for pk in created_ids if pk is not None],
                {
                    row.customer_id: row.before
                    for row in rows
                    if row.action == ImportAction.CREATED and row.customer_id and row.before
                },
            )
            doomed: list[Customer] = []
            restored: list[Customer] = []
            restored_fields: set[str] = set()
            renamed: list[int] = []
            untag: list[Q] = []
            for row in rows:
                customer = customers.get(row.customer_id) if row.customer_id else None
                if customer is None:
                    row.revert_outcome = "missing"
                elif customer.version != row.customer_version_after:
                    row.revert_outcome = "kept"
                elif customer.pk in linked:
                    row.revert_outcome = "linked"
                elif row.action == ImportAction.CREATED:
                    doomed.append(customer)
                    row.revert_outcome = "deleted"
                else:
                    before = row.before or {}
                    fields = _restore(customer, before)
                    if fields:
                        customer.version += 1
                        customer.updated_at = timezone.now()
                        restored.append(customer)
                        restored_fields.update(fields)
                        if "name" in fields:
                            renamed.append(customer.pk)
                    if before.get("_tags_added"):
                        untag.append(Q(customer_id=customer.pk, tag_id__in=before["_tags_added"]))
                    row.revert_outcome = "restored"
            if restored:
                bulk_update_with_history(
                    restored,
                    Customer,
                    [*sorted(restored_fields), "version", "updated_at"],
                    batch_size=CHUNK,
                    default_user=actor,
                    default_change_reason=reason,
                )
            for condition in _chunks(untag, 100):
                combined = Q()
                for item in condition:
                    combined |= item
                CustomerTag.objects.filter(combined).delete()
            if renamed:
                search_tokens_refresh(renamed)
            if doomed:
                _delete_created(doomed, actor=actor, reason=reason)
            for outcome in {row.revert_outcome for row in rows}:
                ImportedRow.objects.filter(
                    pk__in=[row.pk for row in rows if row.revert_outcome == outcome]
                ).update(revert_outcome=outcome)
    outcomes = dict(
        ImportedRow.objects.filter(job=job)
        .exclude(revert_outcome="")
        .values_list("revert_outcome")
        .annotate(n=Count("pk"))
        .values_list("revert_outcome", "n")
    )
    kept = list(
        ImportedRow.objects.filter(job=job, revert_outcome__in=("kept", "linked"))
        .order_by("row_number")
        .values_list("customer_id", flat=True)[:MAX_STORED_ERRORS]
    )
    result = {
        "deleted": outcomes.get("deleted", 0),
        "restored": outcomes.get("restored", 0),
        "kept": outcomes.get("kept", 0),
        "linked": outcomes.get("linked", 0),
        "missing": outcomes.get("missing", 0),
        "kept_ids": kept,
    }
    with transaction.atomic():
        job.status = ImportStatus.REVERTED
        job.reverted_at = timezone.now()
        job.revert_result = result
        job.save(update_fields=["status", "reverted_at", "revert_result", "updated_at"])
        events.publish_on_commit(
            "customer.import_reverted",
            job_id=job.pk,
            actor_id=actor.pk,
            **{key: value for key, value in result.items() if key != "kept_ids"},
        )
    return result
