"""Customer merge (合并): the surviving values, everything attached moved, the rest marked.

`customer_merge` is the command; `merge_preview` reads what the merge screen shows. What is
attached is found generically from `Customer`'s reverse relations, so a new domain's rows
(interactions, orders, tickets…) move without this module knowing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, F, OuterRef, UniqueConstraint
from django.db.models.fields.related import ForeignKey, ForeignObjectRel
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from simple_history.models import HistoricalChanges

from guanxi.accounts.models import User
from guanxi.core import crypto, events
from guanxi.core.errors import Conflict, DomainError, StaleEdit
from guanxi.core.permissions import require_perm
from guanxi.customers.models import (
    ContactMethod,
    Customer,
    CustomerStatus,
    CustomerTag,
    CustomFieldDefinition,
    GroupMembership,
    Industry,
    LifecycleStage,
    SearchToken,
)
from guanxi.customers.selectors import CustomerFilters, customer_list
from guanxi.customers.services import (
    custom_field_definitions,
    customer_apply,
    search_tokens_refresh,
)

MAX_OTHERS = 10
MERGE_FIELDS = (
    "name",
    "code",
    "kind",
    "phone",
    "email",
    "id_number",
    "bank_account",
    "region",
    "city",
    "gender",
    "birthday",
    "occupation",
    "legal_name",
    "credit_code",
    "industry",
    "size_band",
    "website",
    "notes",
    "source",
    "lifecycle_stage",
)
PERSONAL_FIELDS = ("phone", "email", "id_number", "bank_account")
CUSTOM_PREFIX = "custom."
# Rows rebuilt from the survivor instead of moved: the short-name search chunks.
REBUILT: tuple[type[models.Model], ...] = (SearchToken,)
# Records of what happened to one customer stay with it (an import's undo log would
# otherwise undo onto the survivor). A model of another domain opts out with a class
# attribute `keeps_merged_customer = True`.
KEPT = frozenset({"customers.importedrow"})
RELATION_LABELS: dict[type[models.Model], Any] = {
    ContactMethod: gettext_lazy("contact phones and emails"),
    GroupMembership: gettext_lazy("groups"),
    CustomerTag: gettext_lazy("tags"),
}


def _stale() -> StaleEdit:
    return StaleEdit(
        _("Someone else changed these customers after you opened them. Reload and try again."),
        field="version",
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value(customer: Customer, name: str) -> Any:
    return customer.industry_id if name == "industry" else getattr(customer, name)


# --- what is attached --------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """One foreign key to Customer from some installed model: its rows move on a merge."""

    model: type[models.Model]
    field: ForeignKey[Any, Any]

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"

    @property
    def label(self) -> str:
        return str(RELATION_LABELS.get(self.model, self.model._meta.verbose_name_plural))

    @property
    def manager(self) -> models.Manager[Any]:
        return self.model._base_manager


def movable_relations() -> list[Relation]:
    """Every concrete foreign key to Customer, hidden ones ("+") included, except the
    field-history copies, the rebuilt search chunks, the KEPT records and
    Customer.merged_into itself."""
    relations = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
            continue
        model, fk = rel.field.model, rel.field
        meta = model._meta
        if (
            not isinstance(fk, ForeignKey)
            or not fk.concrete
            or issubclass(model, HistoricalChanges)
            or model in REBUILT
            or meta.label_lower in KEPT
            or getattr(model, "keeps_merged_customer", False)
            or (model is Customer and fk.name == "merged_into")
            or meta.proxy
            or not meta.managed
        ):
            continue
        relations.append(Relation(model=model, field=fk))
    return sorted(relations, key=lambda relation: relation.key)


def _unique_sets(relation: Relation) -> list[tuple[str, ...]]:
    """For each unconditional uniqueness rule that includes the foreign key: its other fields."""
    meta, name = relation.model._meta, relation.field.name
    sets: list[tuple[str, ...]] = [()] if relation.field.unique else []
    sets.extend(
        tuple(part for part in together if part != name)
        for together in meta.unique_together
        if name in together
    )
    sets.extend(
        tuple(part for part in constraint.fields if part != name)
        for constraint in meta.constraints
        if isinstance(constraint, UniqueConstraint)
        and name in constraint.fields
        and constraint.condition is None
        and not constraint.expressions
    )
    return sets


def _keep_one_primary(relation: Relation, survivor: Customer, others: list[Customer]) -> None:
    """The survivor's primary row stays the one primary; else the oldest moved primary."""
    name = relation.field.name
    moved = relation.manager.filter(**{f"{name}__in": others, "is_primary": True})
    if relation.manager.filter(**{name: survivor, "is_primary": True}).exists():
        moved.update(is_primary=False)
        return
    first = moved.order_by("pk").values_list("pk", flat=True)[:1]
    moved.exclude(pk__in=list(first)).update(is_primary=False)


def _move(relation: Relation, survivor: Customer, others: list[Customer]) -> int:
    """Re-point the others' rows at the survivor in set-based statements.

    Rows that would break a uniqueness rule (the survivor already has that tag, or two
    others share it) are deleted first; a "primary" flag stays unique per customer.
    """
    name, manager = relation.field.name, relation.manager
    field_names = {f.name for f in relation.model._meta.concrete_fields}
    if "is_primary" in field_names:
        _keep_one_primary(relation, survivor, others)
    for fields in _unique_sets(relation):
        same = {part: OuterRef(part) for part in fields}
        twin_of_survivor = manager.filter(**{name: survivor}, **same)
        manager.filter(**{f"{name}__in": others}).filter(Exists(twin_of_survivor)).delete()
        earlier_twin = manager.filter(**{f"{name}__in": others}, pk__lt=OuterRef("pk"), **same)
        manager.filter(**{f"{name}__in": others}).filter(Exists(earlier_twin)).delete()
    changes: dict[str, Any] = {name: survivor}
    if "version" in field_names:
        changes["version"] = F("version") + 1
    updated_at = next(
        (f for f in relation.model._meta.concrete_fields if f.name == "updated_at"), None
    )
    if isinstance(updated_at, models.DateTimeField) and updated_at.auto_now:
        changes["updated_at"] = timezone.now()
    try:
        with transaction.atomic():
            return int(manager.filter(**{f"{name}__in": others}).update(**changes))
    except IntegrityError as error:
        raise Conflict(
            _("The %(records)s of these customers cannot be combined.")
            % {"records": relation.label},
            field="others",
        ) from error


# --- the command -------------------------------------------------------------------------------


def merge_defaults(customers: list[Customer]) -> dict[str, int]:
    """Whose value survives by default, field by field: the survivor's (the first) unless
    it is empty, then the first non-empty one."""
    picks = {}
    for name in MERGE_FIELDS:
        source = next((c for c in customers if not _empty(_value(c, name))), customers[0])
        picks[name] = source.pk
    return picks


def _merged_custom_fields(
    customers: list[Customer], choices: dict[str, int], definitions: list[CustomFieldDefinition]
) -> dict[str, Any]:
    """Key by key: the survivor's non-empty values, others fill blanks, choices override."""
    active = {definition.key for definition in definitions}
    merged = dict(customers[0].custom_fields or {})
    for customer in customers[1:]:
        for key, value in (customer.custom_fields or {}).items():
            if key in active and _empty(merged.get(key)) and not _empty(value):
                merged[key] = value
    by_pk = {customer.pk: customer for customer in customers}
    for choice, source in choices.items():
        if choice.startswith(CUSTOM_PREFIX):
            key = choice[len(CUSTOM_PREFIX) :]
            merged[key] = (by_pk[source].custom_fields or {}).get(key)
    return merged


def _check_choices(choices: dict[str, int], ids: list[int], active: set[str]) -> None:
    errors = []
    for name, source in choices.items():
        custom = name.startswith(CUSTOM_PREFIX)
        if (custom and name[len(CUSTOM_PREFIX) :] not in active) or (
            not custom and name not in MERGE_FIELDS
        ):
            errors.append({"field": f"choices.{name}", "message": _("Unknown field.")})
        elif source not in ids:
            errors.append(
                {
                    "field": f"choices.{name}",
                    "message": _("Choose a value of one of the customers being merged."),
                }
            )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)


def _survivor_values(
    customers: list[Customer], choices: dict[str, int], definitions: list[CustomFieldDefinition]
) -> dict[str, Any]:
    """The `customer_apply` values that turn the survivor into the merged record: only the
    fields whose surviving value differs from the survivor's own."""
    survivor = customers[0]
    by_pk = {customer.pk: customer for customer in customers}
    picks = merge_defaults(customers) | {k: v for k, v in choices.items() if k in MERGE_FIELDS}
    values: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        value = _value(by_pk[picks[name]], name)
        if value != _value(survivor, name):
            values[name] = value
    if values.get("industry") is not None:
        values["industry"] = Industry.objects.filter(pk=values["industry"]).first()
    merged = _merged_custom_fields(customers, choices, definitions)
    current = survivor.custom_fields or {}
    changed = {
        d.key: merged.get(d.key) for d in definitions if merged.get(d.key) != current.get(d.key)
    }
    if changed:
        values["custom_fields"] = changed
    return values


def _check_request(survivor: Customer, others: list[Customer]) -> list[int]:
    other_ids = [customer.pk for customer in others]
    if not others:
        raise DomainError(_("Choose at least one customer to merge."), field="others")
    if len(others) > MAX_OTHERS:
        raise DomainError(
            _("Merge at most %(count)s customers at a time.") % {"count": MAX_OTHERS},
            field="others",
        )
    if survivor.pk in other_ids:
        raise DomainError(_("A customer cannot be merged into itself."), field="others")
    if len(set(other_ids)) != len(other_ids):
        raise DomainError(_("Each customer can be merged only once."), field="others")
    return other_ids


@transaction.atomic
def customer_merge(
    *,
    actor: User,
    survivor: Customer,
    others: list[Customer],
    choices: dict[str, int],
    reason: str = "",
    versions: dict[int, int] | None = None,
) -> Customer:
    """Merge up to ten visible customers into `survivor`; returns the survivor as saved.

    Needs customers.edit and every customer within the actor's scope (PermissionDenied);
    refuses a merged customer (Conflict) and a customer changed since it was read
    (StaleEdit: `versions` maps id → version read, else each given object's version).
    `choices` maps a field of MERGE_FIELDS, or "custom.<key>", to the id of the customer
    whose value survives; other fields keep the survivor's value unless it is empty. All
    rows attached to the others move to the survivor; the others become MERGED with
    `merged_into` set. Writes history on all, an access-log row, and publishes
    customer.merged after commit. One transaction: a refusal changes nothing.
    """
    require_perm(actor, "customers.edit")
    other_ids = _check_request(survivor, others)
    ids = [survivor.pk, *other_ids]
    locked = {
        customer.pk: customer
        for customer in Customer.objects.visible_to(actor)
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    if set(locked) != set(ids):
        raise PermissionDenied("customers.edit")
    merged_already = [pk for pk in ids if locked[pk].status == CustomerStatus.MERGED]
    if merged_already:
        raise Conflict(
            _("Customer #%(id)s has already been merged into another.") % {"id": merged_already[0]},
            field="others",
        )
    given = {customer.pk: customer.version for customer in [survivor, *others]}
    expected = {**given, **(versions or {})}
    if any(locked[pk].version != expected[pk] for pk in ids):
        raise _stale()
    customers = [locked[pk] for pk in ids]
    target, merged = customers[0], customers[1:]
    definitions = custom_field_definitions()
    _check_choices(choices, ids, {definition.key for definition in definitions})
    values = _survivor_values(customers, choices, definitions)
    stage = values.pop("lifecycle_stage", None)
    customer_apply(target, values, definitions=definitions)
    if stage is not None:
        target.lifecycle_stage = stage if stage in LifecycleStage.values else ""
    code_giver = next((c for c in merged if "code" in values and c.code == target.code), None)

    for relation in movable_relations():
        _move(relation, target, merged)
    for other in merged:
        other.status = CustomerStatus.MERGED
        other.merged_into = target
        other.version += 1
        if other is code_giver:
            other.code = None  # its code lives on in the survivor
        other._change_reason = f"merged into #{target.pk}"  # type: ignore[attr-defined]  # read by simple-history
        other._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
        other.save()
    listed = ", ".join(f"#{pk}" for pk in other_ids)
    target.version += 1
    target._change_reason = f"merge of {listed}" + (f": {reason.strip()}" if reason.strip() else "")  # type: ignore[attr-defined]  # read by simple-history
    target._history_user = actor  # type: ignore[attr-defined]  # read by simple-history
    target.save()
    search_tokens_refresh([target.pk])
    _log_access(actor, target, other_ids)
    events.publish_on_commit("customer.merged", survivor_id=target.pk, merged_ids=other_ids)
    events.publish_on_commit("customer.updated", customer_id=target.pk, actor_id=actor.pk)
    return target


def _log_access(actor: User, survivor: Customer, merged_ids: list[int]) -> None:
    from django.apps import apps

    if not apps.is_installed("guanxi.audit"):
        return
    from guanxi.audit.services import access_log_write

    access_log_write(
        actor=actor,
        action="merge",
        target_model="customers.customer",
        target_pk=str(survivor.pk),
        detail={"merged": merged_ids},
    )


# --- what the merge screen reads ---------------------------------------------------------------


@dataclass
class Cell:
    customer_id: int
    display: Any
    empty: bool
    chosen: bool


@dataclass
class FieldRow:
    name: str  # the choice key: a MERGE_FIELDS name or "custom.<key>"
    label: str
    cells: list[Cell]


@dataclass
class SummaryRow:
    label: str
    counts: list[int]  # per customer, in the preview's column order

    @property
    def moved(self) -> int:
        return sum(self.counts[1:])


@dataclass
class MergePreview:
    customers: list[Customer]  # the survivor first
    rows: list[FieldRow]
    summary: list[SummaryRow]
    problems: list[str] = field(default_factory=list)

    @property
    def survivor(self) -> Customer:
        return self.customers[0]

    @property
    def others(self) -> list[Customer]:
        return self.customers[1:]

    @property
    def ids(self) -> list[int]:
        return [customer.pk for customer in self.customers]


def _display(customer: Customer, name: str, language: str) -> Any:
    value = _value(customer, name)
    if _empty(value):
        return ""
    if name in PERSONAL_FIELDS:
        return crypto.mask(name, str(value))
    if name == "industry":
        industry = customer.industry
        if industry is None:
            return ""
        label = industry.name_zh if language.startswith("zh") else industry.name_en
        return f"{industry.code} {label}"
    if name in {"kind", "gender", "size_band", "source", "lifecycle_stage"}:
        return getattr(customer, f"get_{name}_display")()
    return value


def _field_label(name: str) -> str:
    model_field = Customer._meta.get_field(name)
    return str(getattr(model_field, "verbose_name", name))


def merge_summary(customers: list[Customer]) -> list[SummaryRow]:
    """Per attached kind of row, how many each customer has: one aggregate per relation."""
    ids = [customer.pk for customer in customers]
    rows = []
    for relation in movable_relations():
        column = relation.field.attname
        counts = dict(
            relation.manager.filter(**{f"{column}__in": ids})
            .order_by()
            .values(column)
            .annotate(_n=Count("pk"))
            .values_list(column, "_n")
        )
        if counts:
            rows.append(SummaryRow(label=relation.label, counts=[counts.get(pk, 0) for pk in ids]))
    return rows


def merge_customers_get(*, actor: User, ids: list[int]) -> list[Customer]:
    """The visible customers of `ids` in that order, merged ones included; else Http404."""
    found = {
        customer.pk: customer
        for customer in customer_list(actor=actor, filters=CustomerFilters(include_merged=True))
        .filter(pk__in=ids)
        .order_by()
    }
    if set(found) != set(ids):
        raise Http404
    return [found[pk] for pk in ids]


def merge_preview(*, actor: User, ids: list[int], survivor_id: int | None = None) -> MergePreview:
    """The merge screen: one row per field with each customer's (masked) value and the
    default pick, the custom fields, and counts of what will move. `ids` are 2–11
    distinct visible customers (else DomainError / Http404); the survivor comes first."""
    require_perm(actor, "customers.edit")
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise DomainError(_("Choose two or more different customers."), field="ids")
    if len(ids) > MAX_OTHERS + 1:
        raise DomainError(
            _("Merge at most %(count)s customers at a time.") % {"count": MAX_OTHERS},
            field="ids",
        )
    survivor_id = survivor_id if survivor_id in ids else ids[0]
    ordered = [survivor_id, *(pk for pk in ids if pk != survivor_id)]
    customers = merge_customers_get(actor=actor, ids=ordered)
    language = get_language() or "en"
    picks = merge_defaults(customers)
    rows = [
        FieldRow(
            name=name,
            label=_field_label(name),
            cells=[
                Cell(
                    customer_id=customer.pk,
                    display=_display(customer, name, language),
                    empty=_empty(_value(customer, name)),
                    chosen=picks[name] == customer.pk,
                )
                for customer in customers
            ],
        )
        for name in MERGE_FIELDS
    ]
    used = {key for customer in customers for key in (customer.custom_fields or {})}
    for definition in custom_field_definitions():
        if definition.key not in used:
            continue
        values = [(customer.custom_fields or {}).get(definition.key) for customer in customers]
        chosen = next((i for i, value in enumerate(values) if not _empty(value)), 0)
        rows.append(
            FieldRow(
                name=f"{CUSTOM_PREFIX}{definition.key}",
                label=definition.label(language),
                cells=[
                    Cell(
                        customer_id=customer.pk,
                        display=", ".join(map(str, value)) if isinstance(value, list) else value,
                        empty=_empty(value),
                        chosen=index == chosen,
                    )
                    for index, (customer, value) in enumerate(zip(customers, values, strict=True))
                ],
            )
        )
    problems = [
        _("%(name)s (#%(id)s) has already been merged into #%(into)s.")
        % {"name": customer.name, "id": customer.pk, "into": customer.merged_into_id}
        for customer in customers
        if customer.status == CustomerStatus.MERGED
    ]
    return MergePreview(
        customers=customers, rows=rows, summary=merge_summary(customers), problems=problems
    )
