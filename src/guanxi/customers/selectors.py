"""Reads of customers and what hangs off them, always within the acting user's data scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from guanxi.accounts.models import User
from guanxi.core import crypto
from guanxi.core.permissions import has_perm
from guanxi.customers.models import (
    ConsentPurpose,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactMethod,
    Customer,
    CustomerGroup,
    CustomerStatus,
    CustomFieldDefinition,
    CustomFieldTarget,
    Industry,
    SavedFilter,
    SearchToken,
    Tag,
)
from guanxi.customers.normalise import query_tokens

SORTS: dict[str, tuple[str, ...]] = {
    "-pk": ("-pk",),
    "pk": ("pk",),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "-created_at": ("-created_at", "-pk"),
}
LIST_FIELDS = (
    "pk",
    "code",
    "kind",
    "name",
    "status",
    "source",
    "lifecycle_stage",
    "region",
    "city",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "team_id",
    "industry_id",
    "phone",
    "email",
    "custom_fields",
)


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    kind: str = ""
    industry_id: int | None = None
    region: str = ""
    city: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    group_id: int | None = None
    tag_id: int | None = None
    source: str = ""
    status: str = ""
    lifecycle_stage: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    include_merged: bool = False
    sort: str = "-pk"

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORTS.get(self.sort, SORTS["-pk"])


def customer_base(*, actor: User) -> QuerySet[Customer]:
    """Every customer the actor may see (customers.view, then the data scope)."""
    if not has_perm(actor, "customers.view"):
        return Customer.objects.none()
    return Customer.objects.visible_to(actor)


def _prefix_range(column: str, prefix: str) -> Q:
    """`column` starts with the a–z `prefix`, as a range an ordinary B-tree index serves."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{column}__gte": prefix, f"{column}__lt": upper})


CONTACT_MATCH_LIMIT = 1000


def _via_contacts(**lookup: str) -> Q:
    """Customers whose contacts' phones or emails match, as a short id list.

    Resolved first, so that the main query ORs indexed columns (a bitmap OR on PostgreSQL)
    instead of an OR with a sub-query, which forces a full scan (measured: 1.3 s at 1M).
    """
    ids = list(
        ContactMethod.objects.filter(**lookup)
        .values_list("customer_id", flat=True)
        .distinct()[:CONTACT_MATCH_LIMIT]
    )
    return Q(pk__in=ids) if ids else Q(pk__in=[])


NAME_FTS_TABLE = "customers_customer_name_fts"
NAME_FTS_LIMIT = 2000


def _name_fts_ids(term: str, limit: int) -> list[int] | None:
    """Ids (newest first, at most `limit`) of customers whose name or legal name contains
    `term`, read from SQLite's FTS5 trigram table (migration 0008); None without one.

    Case-insensitive like LIKE, and for non-ASCII letters too. Needs 3+ characters.
    """
    if connection.vendor != "sqlite":
        return None
    phrase = '"' + term.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                f"SELECT rowid FROM {NAME_FTS_TABLE} WHERE {NAME_FTS_TABLE} MATCH %s "  # noqa: S608 - a constant
                "ORDER BY rowid DESC LIMIT %s",
                [phrase, limit],
            )
        except OperationalError:  # an SQLite without FTS5: the migration built no table
            return None
        return [row[0] for row in cursor.fetchall()]


def _name_contains(term: str) -> Q:
    """Name or legal name contains `term`, case-insensitive, as an indexed condition.

    PostgreSQL serves the LIKE from trigram indexes. SQLite's LIKE '%…%' is a scan, so a
    term of 3+ characters is looked up in the FTS5 trigram table first, as an id list; when
    more than NAME_FTS_LIMIT customers match, the term is common, a newest-first walk finds
    a page at once, and the LIKE stays (an id list that long costs more than the walk).
    """
    like = Q(name__icontains=term) | Q(legal_name__icontains=term)
    if len(term) < 3:
        return like
    ids = _name_fts_ids(term, NAME_FTS_LIMIT + 1)
    if ids is None or len(ids) > NAME_FTS_LIMIT:
        return like
    return Q(pk__in=ids)


def search_condition(term: str) -> Q:
    """What one search-box term matches: name (substring, pinyin, initials), code, phone
    (full or last four), email, ID number or credit code.

    Each branch ORs only indexed conditions, so every kind of term is an index lookup.
    """
    term = term.strip()[:100]
    if not term:
        return Q()
    tokens = query_tokens(term)
    if tokens is not None:
        # A CJK term is a name, never a code: the token index alone answers it.
        match = Q()
        for token in tokens:
            match &= Q(pk__in=SearchToken.objects.filter(token=token).values("customer_id"))
        if len(term) > 2:
            match &= Q(name__contains=term)
        return match
    condition = Q(code=term) | Q(code=term.upper())
    digits = re.sub(r"[\s\-()+]", "", term)
    if "@" in term:
        try:
            index = crypto.blind_index(crypto.normalise_email(term), kind="email")
        except ValueError:
            return condition
        return condition | Q(email_index=index) | _via_contacts(value_index=index)
    if digits.isdigit():
        if len(digits) == 4:
            return condition | Q(phone_last4=digits) | _via_contacts(last4=digits)
        if len(digits) == 18 or (len(digits) == 17 and term[-1:] in "xX"):
            pass
        elif len(digits) >= 7:
            try:
                index = crypto.blind_index(crypto.normalise_phone(term), kind="phone")
            except ValueError:
                return condition
            return condition | Q(phone_index=index) | _via_contacts(value_index=index)
    if len(term) == 18 and term[:17].isdigit():
        return (
            condition
            | Q(
                id_number_index=crypto.blind_index(
                    crypto.normalise_id_number(term), kind="id_number"
                )
            )
            | Q(credit_code=term.upper())
        )
    if len(term) == 18 and term.isalnum():
        return condition | Q(credit_code=term.upper())
    if digits.isdigit():
        return condition
    letters = term.lower().replace(" ", "")
    pinyin = letters.isascii() and letters.isalpha()
    if len(term) >= 3 or not pinyin:
        condition |= _name_contains(term)
    if pinyin:
        # One or two Latin letters read as pinyin initials ("zw" → 张伟): a substring that
        # short matches most names and no index can serve it.
        condition |= _prefix_range("name_pinyin", letters) | _prefix_range("name_initials", letters)
    return condition


def customer_list(*, actor: User, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Visible customers matching the filters, owner, team and industry joined, sorted."""
    filters = filters or CustomerFilters()
    qs = customer_base(actor=actor)
    if not filters.include_merged and filters.status != CustomerStatus.MERGED:
        qs = qs.exclude(status=CustomerStatus.MERGED)
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    simple = {
        "kind": filters.kind,
        "region": filters.region,
        "city": filters.city,
        "source": filters.source,
        "status": filters.status,
        "lifecycle_stage": filters.lifecycle_stage,
    }
    qs = qs.filter(**{name: value for name, value in simple.items() if value})
    ids = {
        "industry_id": filters.industry_id,
        "owner_id": filters.owner_id,
        "team_id": filters.team_id,
    }
    qs = qs.filter(**{name: value for name, value in ids.items() if value is not None})
    if filters.group_id is not None:
        group = CustomerGroup.objects.filter(pk=filters.group_id).first()
        path = group.path if group else "/none/"
        qs = qs.filter(
            Exists(
                Customer.groups.through.objects.filter(
                    customer_id=OuterRef("pk"), group__path__startswith=path
                )
            )
        )
    if filters.tag_id is not None:
        qs = qs.filter(
            Exists(
                Customer.tags.through.objects.filter(
                    customer_id=OuterRef("pk"), tag_id=filters.tag_id
                )
            )
        )
    if filters.custom:
        definitions = {
            d.key: d
            for d in CustomFieldDefinition.objects.filter(
                target=CustomFieldTarget.CUSTOMER, key__in=list(filters.custom)
            )
        }
        for key, value in filters.custom.items():
            definition = definitions.get(key)
            if definition is None or value == "":
                continue
            lookup = f"custom_fields__{key}"
            if definition.field_type == "multi_choice":
                qs = qs.filter(**{f"{lookup}__icontains": f'"{value}"'})
            elif definition.field_type == "boolean":
                qs = qs.filter(**{lookup: value in ("1", "true", "True", "yes")})
            elif definition.field_type == "number":
                try:
                    qs = qs.filter(**{lookup: int(value)})
                except ValueError:
                    qs = qs.none()
            elif definition.field_type == "text":
                qs = qs.filter(**{f"{lookup}__icontains": value})
            else:
                qs = qs.filter(**{lookup: value})
    return qs.select_related("owner", "team", "industry").order_by(*filters.ordering)


LIST_PAGE_FIELDS = (
    "pk",
    "code",
    "kind",
    "name",
    "status",
    "city",
    "created_at",
    "updated_at",
    "owner_id",
    "phone",
    "custom_fields",
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
)


def customer_list_page(
    *, actor: User, filters: CustomerFilters | None = None
) -> QuerySet[Customer]:
    """`customer_list` narrowed to the columns the list page shows, the owner joined.

    Loading whole rows (and the owner's) costs more than the query itself at 50 rows a page.
    """
    return (
        customer_list(actor=actor, filters=filters)
        .select_related(None)
        .select_related("owner")
        .only(*LIST_PAGE_FIELDS)
    )


def customer_get(*, actor: User, pk: int) -> Customer:
    """One visible customer with owner, team and industry; anything else is 404."""
    found = (
        customer_list(actor=actor, filters=CustomerFilters(include_merged=True))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def customer_contacts(*, customer: Customer) -> list[Contact]:
    """The customer's contacts, primary first, with their phones and emails."""
    return list(customer.contacts.prefetch_related("methods"))


def contact_get(*, actor: User, pk: int) -> Contact:
    found = (
        Contact.objects.visible_to(actor).select_related("customer").filter(pk=pk).first()
        if has_perm(actor, "customers.view")
        else None
    )
    if found is None:
        raise Http404
    return found


def consent_state(*, customer: Customer) -> list[dict[str, Any]]:
    """For each purpose: granted or not, and the record in force (newest), if any."""
    latest: dict[str, ConsentRecord] = {}
    for record in customer.consents.order_by("-recorded_at", "-pk"):
        latest.setdefault(record.purpose, record)
    return [
        {
            "purpose": purpose,
            "label": label,
            "record": latest.get(purpose),
            "granted": latest.get(purpose) is not None
            and latest[purpose].status == ConsentStatus.GRANTED,
        }
        for purpose, label in ConsentPurpose.choices
    ]


def customers_consenting(queryset: QuerySet[Customer], purpose: str) -> QuerySet[Customer]:
    """Narrow customers to those whose newest consent record for `purpose` is a grant.

    Marketing and service use this before any message goes out.
    """
    newest = ConsentRecord.objects.filter(customer_id=OuterRef("pk"), purpose=purpose).order_by(
        "-recorded_at", "-pk"
    )
    return queryset.annotate(_consent=Subquery(newest.values("status")[:1])).filter(
        _consent=ConsentStatus.GRANTED
    )


def consent_allows(*, customer_id: int, purpose: str) -> bool:
    return customers_consenting(Customer.objects.filter(pk=customer_id), purpose).exists()


def group_list(*, actor: User) -> QuerySet[CustomerGroup]:
    if not has_perm(actor, "customers.view"):
        return CustomerGroup.objects.none()
    return CustomerGroup.objects.order_by("path")


def group_list_marked(*, actor: User, customer: Customer) -> QuerySet[CustomerGroup]:
    """Every group, each with `is_member` for this customer: the 360 page's labels and its
    add-to-group choices in one query."""
    return group_list(actor=actor).annotate(
        is_member=Exists(
            Customer.groups.through.objects.filter(customer_id=customer.pk, group_id=OuterRef("pk"))
        )
    )


def tag_list(*, actor: User) -> QuerySet[Tag]:
    if not has_perm(actor, "customers.view"):
        return Tag.objects.none()
    return Tag.objects.order_by("name")


def industry_list() -> QuerySet[Industry]:
    return Industry.objects.filter(is_active=True).order_by("code")


def custom_field_list(
    *, target: str | None = None, active_only: bool = True
) -> QuerySet[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.all()
    if target:
        qs = qs.filter(target=target)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("target", "position", "pk")


def saved_filter_list(*, actor: User) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(user_id=actor.pk).order_by("name")


def saved_filter_get(*, actor: User, pk: int) -> SavedFilter:
    found = saved_filter_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def assignable_users(*, actor: User) -> QuerySet[User]:
    """Active users the actor may hand customers to: those in the actor's scope."""
    from guanxi.accounts.selectors import user_list
    from guanxi.core.scoping import ALL, data_scope_of

    if data_scope_of(actor) == ALL or actor.is_superuser:
        return User.objects.filter(is_active=True).order_by("username")
    scoped = user_list(actor=actor).filter(is_active=True)
    if not scoped.exists():
        return User.objects.filter(pk=actor.pk)
    return scoped.order_by("username")


def group_get(*, actor: User, pk: int) -> CustomerGroup:
    found = group_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def tag_get(*, actor: User, pk: int) -> Tag:
    found = tag_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def custom_field_get(*, pk: int) -> CustomFieldDefinition:
    found = CustomFieldDefinition.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
