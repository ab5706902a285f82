"""Duplicate detection (查重): likely twins of one customer, and an on-demand scan for groups.

Exact evidence comes from the blind indexes (phone, email, ID number; a contact person's
phones and emails count too) and the credit code; names are compared on `name_key`, equal or
similar (difflib's SequenceMatcher ratio ≥ 0.85 among names sharing a short prefix). Only
customers the actor can see are considered, never merged ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    TextChoices,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import User
from guanxi.customers.models import ContactMethod, ContactMethodKind, Customer, CustomerStatus
from guanxi.customers.normalise import has_cjk
from guanxi.customers.selectors import customer_base

SIMILARITY_THRESHOLD = 0.85
MAX_SIMILAR = 200  # name candidates compared in Python per customer
MAX_EXACT = 200  # exact-evidence candidates read per customer
GROUP_MEMBERS = 11  # a survivor and the ten others one merge takes


class DuplicateReason(TextChoices):
    ID_NUMBER = "id_number", _("Same ID number")
    CREDIT_CODE = "credit_code", _("Same credit code")
    PHONE = "phone", _("Same phone")
    EMAIL = "email", _("Same email")
    SAME_NAME = "same_name", _("Same name")
    SIMILAR_NAME = "similar_name", _("Similar name")


# Evidence weights (0–100). Each further reason adds BONUS, up to 100.
WEIGHTS: dict[str, int] = {
    DuplicateReason.ID_NUMBER: 100,
    DuplicateReason.CREDIT_CODE: 100,
    DuplicateReason.PHONE: 90,
    DuplicateReason.EMAIL: 80,
    DuplicateReason.SAME_NAME: 70,
}
SIMILAR_NAME_WEIGHT = 60  # times the similarity ratio
BONUS = 5


@dataclass
class Candidate:
    """Another customer that may be the same one: why, and how sure (0–100)."""

    customer: Customer
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    similarity: float | None = None  # name_key ratio, for "similar name"

    @property
    def reason_labels(self) -> list[str]:
        return [str(DuplicateReason(reason).label) for reason in self.reasons]


@dataclass
class DuplicateGroup:
    """Visible live customers sharing one key; `size` counts them all, `customers` holds
    the first GROUP_MEMBERS by id."""

    reason: str
    size: int
    customers: list[Customer]

    @property
    def reason_label(self) -> str:
        return str(DuplicateReason(self.reason).label)

    @property
    def customer_ids(self) -> list[int]:
        return [customer.pk for customer in self.customers]


def _score(reasons: list[str], similarity: float | None) -> int:
    weights = [WEIGHTS[reason] for reason in reasons if reason in WEIGHTS]
    if DuplicateReason.SIMILAR_NAME in reasons and similarity is not None:
        weights.append(round(SIMILAR_NAME_WEIGHT * similarity))
    if not weights:
        return 0
    return min(100, max(weights) + BONUS * (len(weights) - 1))


def _contact_keys(customer: Customer) -> tuple[set[str], set[str]]:
    """The customer's phone and email blind indexes, its contact persons' included."""
    phones = {customer.phone_index}
    emails = {customer.email_index}
    if customer.pk is not None:
        for kind, index in ContactMethod.objects.filter(customer_id=customer.pk).values_list(
            "kind", "value_index"
        ):
            (phones if kind == ContactMethodKind.PHONE else emails).add(index)
    return phones - {""}, emails - {""}


def _method_matches(customer: Customer, phones: set[str], emails: set[str]) -> set[tuple[int, str]]:
    """(customer id, "phone" | "email") of other customers' contact persons sharing a key."""
    if not phones and not emails:
        return set()
    rows = (
        ContactMethod.objects.filter(
            Q(kind=ContactMethodKind.PHONE, value_index__in=sorted(phones))
            | Q(kind=ContactMethodKind.EMAIL, value_index__in=sorted(emails))
        )
        .exclude(customer_id=customer.pk)
        .values_list("customer_id", "kind")
        .distinct()[:MAX_EXACT]
    )
    return {(customer_id, str(kind)) for customer_id, kind in rows}


def name_prefix(key: str) -> str:
    """The start of a name key that similar names share: 2 CJK characters or 4 letters."""
    return key[: 2 if has_cjk(key[:1]) else 4]


def _length_bounds(length: int) -> tuple[int, int]:
    """Lengths that can reach the threshold: ratio = 2·matches / (a + b) ≤ 2·min / (a + b)."""
    low = math.floor(length * SIMILARITY_THRESHOLD / (2 - SIMILARITY_THRESHOLD))
    high = math.ceil(length * (2 - SIMILARITY_THRESHOLD) / SIMILARITY_THRESHOLD)
    return low, high


def _name_matches(base: QuerySet[Customer], key: str) -> dict[int, float | None]:
    """Customer id → None for the same name key, or the ratio of a similar one.

    Compares the MAX_SIMILAR keys sharing the prefix that sort nearest to `key` (half after
    it, equal keys first, half before), read in index order: two short range scans
    however common the prefix is. The range [prefix, prefix⁺) is exact in SQLite's byte
    order and in PostgreSQL's C collations; under another collation it may hold a few
    other keys, which the prefix check here drops. (A LIKE in the query would be exact
    everywhere but leads the planner to read and sort the whole prefix.)
    """
    if not key:
        return {}
    prefix = name_prefix(key)
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    half = MAX_SIMILAR // 2
    # Ordered by name_key alone, so that the index scan stops after `half` rows; a tie-break
    # on pk would make the database read and sort the whole prefix range.
    after = base.filter(name_key__gte=key, name_key__lt=upper).order_by("name_key")
    before = base.filter(name_key__gte=prefix, name_key__lt=key).order_by("-name_key")
    low, high = _length_bounds(len(key))
    found: dict[int, float | None] = {}
    for queryset in (after, before):
        for pk, other in queryset.values_list("pk", "name_key")[:half]:
            if other == key:
                found[pk] = None
            elif other.startswith(prefix) and low <= len(other) <= high:
                matcher = SequenceMatcher(None, key, other, autojunk=False)
                # quick_ratio() bounds ratio() from above at a fraction of its cost
                if matcher.quick_ratio() >= SIMILARITY_THRESHOLD:
                    ratio = matcher.ratio()
                    if ratio >= SIMILARITY_THRESHOLD:
                        found[pk] = round(ratio, 3)
    return found


@dataclass(frozen=True)
class _Evidence:
    """What the subject customer offers to match on."""

    phones: set[str]
    emails: set[str]
    id_number_index: str
    credit_code: str
    methods: set[tuple[int, str]]  # (customer id, kind) of matching contact persons

    def reasons(self, pk: int, row: tuple[str, str, str, str]) -> list[str]:
        phone_index, email_index, id_number_index, credit_code = row
        checks = (
            (DuplicateReason.ID_NUMBER, id_number_index == self.id_number_index != ""),
            (DuplicateReason.CREDIT_CODE, credit_code == self.credit_code != ""),
            (
                DuplicateReason.PHONE,
                phone_index in self.phones or (pk, ContactMethodKind.PHONE) in self.methods,
            ),
            (
                DuplicateReason.EMAIL,
                email_index in self.emails or (pk, ContactMethodKind.EMAIL) in self.methods,
            ),
        )
        return [reason.value for reason, hit in checks if hit]


def duplicate_candidates(*, actor: User, customer: Customer, limit: int = 20) -> list[Candidate]:
    """Visible live customers that are likely the same as `customer`, surest first.

    Six indexed queries at most: the customer's contact persons' phones and emails, other
    customers' contact persons sharing them, the names nearest its name key (two range
    scans), the keys of every match (by blind index, credit code or id) to score them, and
    the `limit` best loaded with owner and team.
    """
    base = customer_base(actor=actor).exclude(status=CustomerStatus.MERGED).exclude(pk=customer.pk)
    phones, emails = _contact_keys(customer)
    evidence = _Evidence(
        phones=phones,
        emails=emails,
        id_number_index=customer.id_number_index,
        credit_code=customer.credit_code,
        methods=_method_matches(customer, phones, emails),
    )
    names = _name_matches(base, customer.name_key)
    condition = Q()
    if phones:
        condition |= Q(phone_index__in=sorted(phones))
    if emails:
        condition |= Q(email_index__in=sorted(emails))
    if customer.id_number_index:
        condition |= Q(id_number_index=customer.id_number_index)
    if customer.credit_code:
        condition |= Q(credit_code=customer.credit_code)
    ids = {pk for pk, _kind in evidence.methods} | set(names)
    if ids:
        condition |= Q(pk__in=sorted(ids))
    if not condition:
        return []
    rows = (
        base.filter(condition)
        .order_by("pk")
        .values_list("pk", "phone_index", "email_index", "id_number_index", "credit_code")
    )
    scored = []
    for pk, phone_index, email_index, id_number_index, credit_code in rows[
        : MAX_EXACT + MAX_SIMILAR
    ]:
        reasons = evidence.reasons(pk, (phone_index, email_index, id_number_index, credit_code))
        similarity = names.get(pk)
        if pk in names:
            reasons.append(
                DuplicateReason.SAME_NAME.value
                if similarity is None
                else DuplicateReason.SIMILAR_NAME.value
            )
        scored.append((_score(reasons, similarity), pk, reasons, similarity))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:limit]
    loaded = base.select_related("owner", "team").in_bulk([pk for _s, pk, _r, _m in best])
    return [
        Candidate(customer=loaded[pk], score=score, reasons=reasons, similarity=similarity)
        for score, pk, reasons, similarity in best
        if pk in loaded
    ]


# Strongest evidence first: a scan fills its limit with these before weaker groups.
GROUP_KEYS: tuple[tuple[str, str], ...] = (
    (DuplicateReason.ID_NUMBER, "id_number_index"),
    (DuplicateReason.CREDIT_CODE, "credit_code"),
    (DuplicateReason.PHONE, "phone_index"),
    (DuplicateReason.EMAIL, "email_index"),
    (DuplicateReason.SAME_NAME, "name_key"),
)


def duplicate_groups(*, actor: User, limit: int = 100) -> list[DuplicateGroup]:
    """Groups of visible live customers sharing an ID number, credit code, phone, email or
    folded name, largest first within each reason, strongest reason first.

    Set-based: per key one GROUP BY … HAVING COUNT(*) > 1 over the indexed column (blanks
    ignored) and one query for the first members of the groups found, ten queries at most.
    """
    base = customer_base(actor=actor).exclude(status=CustomerStatus.MERGED)
    groups: list[DuplicateGroup] = []
    for reason, column in GROUP_KEYS:
        room = limit - len(groups)
        if room <= 0:
            break
        sizes: dict[Any, int] = dict(
            base.exclude(**{column: ""})
            .order_by()
            .values(column)
            .annotate(_size=Count("*"))
            .filter(_size__gt=1)
            .order_by("-_size", column)
            .values_list(column, "_size")[:room]
        )
        if not sizes:
            continue
        members: dict[Any, list[Customer]] = {key: [] for key in sizes}
        rows = (
            base.filter(**{f"{column}__in": list(sizes)})
            .annotate(_rank=Window(RowNumber(), partition_by=[F(column)], order_by=F("pk").asc()))
            .filter(_rank__lte=GROUP_MEMBERS)
            .only("pk", "code", "kind", "name", "status", "owner_id", "team_id", column)
            .order_by("pk")
        )
        for customer in rows:
            members[getattr(customer, column)].append(customer)
        groups.extend(
            DuplicateGroup(reason=str(reason), size=size, customers=members[key])
            for key, size in sizes.items()
            if len(members[key]) > 1
        )
    return groups
