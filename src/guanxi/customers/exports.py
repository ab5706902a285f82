"""Customer export (客户导出): CSV, XLSX and vCard of the customers a filter selects.

Rows are read in primary-key keyset chunks (never OFFSET) from the actor's scoped customer
list; personal data leaves masked unless the actor holds customers.reveal; every text cell
that a spreadsheet could take for a formula is neutralised; and each export writes one
access-log entry with its format, row count and filter.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import crypto
from guanxi.core.errors import DomainError
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.models import (
    Address,
    ContactMethod,
    Customer,
    CustomerKind,
    CustomerStatus,
    CustomerTag,
    Gender,
    LifecycleStage,
    SizeBand,
    SourceChannel,
)
from guanxi.customers.selectors import CustomerFilters, custom_field_list, customer_list
from guanxi.customers.vcard import VERSIONS, CardAddress, customer_vcard

logger = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "vcf")
CHUNK = 2000
PERSONAL = ("phone", "email", "id_number", "bank_account")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIELDS = (
    "code",
    "kind",
    "name",
    "status",
    "source",
    "lifecycle_stage",
    "phone",
    "email",
    "region",
    "city",
    "gender",
    "birthday",
    "id_number",
    "occupation",
    "bank_account",
    "legal_name",
    "credit_code",
    "industry",
    "size_band",
    "website",
    "notes",
)
CHOICES = {
    "kind": CustomerKind,
    "status": CustomerStatus,
    "source": SourceChannel,
    "lifecycle_stage": LifecycleStage,
    "gender": Gender,
    "size_band": SizeBand,
}


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula (= + - @, tab, CR first) prefixed with '."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _chunks(queryset: QuerySet[Customer]) -> Iterator[list[Customer]]:
    """The queryset in primary-key order, CHUNK rows per query, each after the last."""
    ordered = queryset.order_by("pk")
    last = 0
    while True:
        chunk = list(ordered.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


@dataclasses.dataclass
class _Table:
    """Headers and cell makers, resolved in the user's language before streaming starts."""

    headers: list[str]
    cells: Callable[[Customer, list[str]], list[str]]


def _table(actor: User) -> _Table:
    reveal = has_perm(actor, "customers.reveal")
    language = get_language() or "en"
    verbose = {f.name: str(f.verbose_name) for f in Customer._meta.concrete_fields}
    labels = {name: verbose[name] for name in FIELDS}
    choice_labels = {
        name: {str(value): str(label) for value, label in choices.choices}
        for name, choices in CHOICES.items()
    }
    definitions = list(custom_field_list(target="customer"))
    yes, no = str(_("Yes")), str(_("No"))
    headers = [
        *(labels[name] for name in FIELDS),
        str(_("Tags")),
        verbose["owner"],
        verbose["team"],
        verbose["created_at"],
        *(definition.label(language) for definition in definitions),
    ]
    english_industry = not language.startswith("zh")

    def text(customer: Customer, name: str) -> str:
        value = getattr(customer, name)
        if name in PERSONAL:
            return str(value or "") if reveal else crypto.mask(name, str(value or ""))
        if name in choice_labels:
            return choice_labels[name].get(str(value or ""), str(value or ""))
        if name == "industry":
            if value is None:
                return ""
            return str(value.name_en if english_industry else value.name_zh)
        if name == "birthday":
            return value.isoformat() if value else ""
        return "" if value is None else str(value)

    def custom(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return yes if value else no
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return str(value)

    def cells(customer: Customer, tags: list[str]) -> list[str]:
        values = [text(customer, name) for name in FIELDS]
        values += [
            ", ".join(tags),
            str(customer.owner) if customer.owner else "",
            customer.team.name if customer.team else "",
            timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M"),
        ]
        values += [custom((customer.custom_fields or {}).get(d.key)) for d in definitions]
        return [neutralise(value) for value in values]

    return _Table(headers=headers, cells=cells)


def _rows(queryset: QuerySet[Customer], table: _Table) -> Iterator[list[str]]:
    for chunk in _chunks(queryset):
        tags: dict[int, list[str]] = {}
        for customer_id, name in (
            CustomerTag.objects.filter(customer_id__in=[c.pk for c in chunk])
            .order_by("tag__name")
            .values_list("customer_id", "tag__name")
        ):
            tags.setdefault(customer_id, []).append(name)
        for customer in chunk:
            yield table.cells(customer, tags.get(customer.pk, []))


class _Echo:
    """A file-like sink for csv.writer that hands each written line back."""

    def write(self, value: str) -> str:
        return value


def _csv(queryset: QuerySet[Customer], table: _Table) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(table.headers)  # the BOM makes Excel read UTF-8
    lines: list[str] = []
    for row in _rows(queryset, table):
        lines.append(writer.writerow(row))
        if len(lines) >= 500:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def _xlsx(queryset: QuerySet[Customer], table: _Table) -> Any:
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="guanxi-export-")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False}
        )
        sheet = workbook.add_worksheet(str(_("Customers"))[:31])
        bold = workbook.add_format({"bold": True})
        for column, header in enumerate(table.headers):
            sheet.write_string(0, column, header, bold)
        for row_index, row in enumerate(_rows(queryset, table), start=1):
            for column, value in enumerate(row):
                sheet.write_string(row_index, column, value)
        workbook.close()
        stream = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    return stream


def _vcards(queryset: QuerySet[Customer], *, version: str, reveal: bool) -> Iterator[str]:
    """Each customer's card with every phone, email (its own, then its contacts') and postal
    address; two queries per chunk for the methods and addresses."""

    def shown(kind: str, value: str) -> str:
        return value if reveal or not value else crypto.mask(kind, value)

    for chunk in _chunks(queryset):
        ids = [customer.pk for customer in chunk]
        methods: dict[int, list[ContactMethod]] = {}
        for method in ContactMethod.objects.filter(customer_id__in=ids).order_by("pk"):
            methods.setdefault(method.customer_id, []).append(method)
        addresses: dict[int, list[CardAddress]] = {}
        for address in Address.objects.filter(customer_id__in=ids).order_by("-is_primary", "pk"):
            addresses.setdefault(address.customer_id, []).append(
                CardAddress(
                    kind=address.kind,
                    street=shown("address", address.street),
                    city=address.city,
                    region=address.region,
                    postal_code=address.postal_code,
                    country=address.country,
                )
            )
        yield "".join(
            customer_vcard(
                customer,
                version=version,
                phone=shown("phone", customer.phone),
                email=shown("email", customer.email),
                phones=[
                    (shown("phone", m.value), m.label)
                    for m in methods.get(customer.pk, [])
                    if m.kind == "phone"
                ],
                emails=[
                    (shown("email", m.value), m.label)
                    for m in methods.get(customer.pk, [])
                    if m.kind == "email"
                ],
                addresses=addresses.get(customer.pk, []),
            )
            for customer in chunk
        )


def _access_log(
    actor: User, fmt: str, filters: CustomerFilters, count: int, request: HttpRequest | None
) -> None:
    detail = {
        "format": fmt,
        "count": count,
        "revealed": has_perm(actor, "customers.reveal"),
        "filters": {
            key: value
            for key, value in dataclasses.asdict(filters).items()
            if value not in ("", None, {}, False)
        },
    }
    if not apps.is_installed("guanxi.audit"):
        logger.warning("export of %s customers by %s not logged: no audit app", count, actor.pk)
        return
    from guanxi.audit.services import access_log_write

    access_log_write(
        actor=actor,
        action="export",
        target_model="customers.customer",
        target_pk="",
        field="",
        detail=detail,
        request=request,
    )


def customers_export(
    *,
    actor: User,
    filters: CustomerFilters,
    fmt: str,
    request: HttpRequest | None = None,
    version: str = "3.0",
) -> HttpResponseBase:
    """The customers the actor sees under `filters` as a download (customers.export).

    CSV streams with a UTF-8 BOM; XLSX is written with constant memory to a temporary file;
    vCard (individuals only) is 3.0 unless `version` is "4.0". Writes one access-log entry.
    """
    require_perm(actor, "customers.export")
    if fmt not in FORMATS:
        raise DomainError(_("Choose one of the allowed values."), field="format")
    if fmt == "vcf" and version not in VERSIONS:
        raise DomainError(_("Choose one of the allowed values."), field="version")
    queryset = customer_list(actor=actor, filters=filters)
    if fmt == "vcf":
        queryset = queryset.filter(kind=CustomerKind.PERSON)
    count = queryset.count()
    _access_log(actor, fmt, filters, count, request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"customers-{stamp}.{fmt}"
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv(queryset, _table(actor)), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xlsx":
        response = FileResponse(
            _xlsx(queryset, _table(actor)),
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            _vcards(queryset, version=version, reveal=has_perm(actor, "customers.reveal")),
            content_type="text/vcard; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Export-Count"] = str(count)
    return response
