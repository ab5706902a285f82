"""Commands on customers, contacts, addresses, groups, tags, custom fields and consent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import Team, User
from guanxi.core import events
from guanxi.core.errors import Conflict, DomainError, check_version
from guanxi.core.permissions import has_perm, require_perm
from guanxi.customers.models import (
    ORGANISATION_KINDS,
    Address,
    ConsentPurpose,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactMethod,
    ContactMethodKind,
    Customer,
    CustomerGroup,
    CustomerKind,
    CustomerStatus,
    CustomerTag,
    CustomFieldDefinition,
    CustomFieldTarget,
    GroupMembership,
    Industry,
    SavedFilter,
    SearchToken,
    SizeBand,
    SourceChannel,
    Tag,
)
from guanxi.customers.normalise import (
    FieldError,
    clean_credit_code,
    clean_custom_value,
    clean_date,
    clean_email,
    clean_id_number,
    clean_phone,
    clean_website,
    name_key,
    name_keys,
    search_tokens,
)

CODE_PREFIX = "C"
PLAIN_FIELDS = ("notes", "region", "city", "occupation", "legal_name")
PERSONAL_FIELDS = ("phone", "email", "id_number", "bank_account")
MASKED_HISTORY_FIELDS = {field: field for field in PERSONAL_FIELDS}


class DuplicateCustomer(Conflict):
    """The new customer shares a phone, email, ID number or credit code with others."""

    code = "duplicate-customer"

    def __init__(self, message: str, *, duplicates: list[Customer]) -> None:
        super().__init__(
            message,
            errors=[
                {
                    "field": "duplicates",
                    "message": message,
                    "ids": [customer.pk for customer in duplicates],
                }
            ],
        )
        self.duplicates = duplicates


def custom_field_definitions(
    target: str = CustomFieldTarget.CUSTOMER,
) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(target=target, is_active=True))


def _choice(value: Any, choices: Any, field: str, *, default: str | None = None) -> str:
    text = "" if value is None else str(value).strip()
    if not text and default is not None:
        return default
    if text in choices.values:
        return text
    labels = {str(label).lower(): key for key, label in choices.choices}
    if text.lower() in labels:
        return str(labels[text.lower()])
    raise FieldError(field, _("Choose one of the allowed values."))


def customer_apply(
    customer: Customer,
    values: dict[str, Any],
    *,
    definitions: list[CustomFieldDefinition] | None = None,
    industries: dict[str, Industry] | None = None,
) -> Customer:
    """Validate `values` onto an unsaved or loaded customer, all errors at once.

    Pure of database writes (reads only the industry when not given), so the importer can
    prepare thousands of rows and write them in one statement. Raises DomainError whose
    `errors` name every bad field.
    """
    errors: list[dict[str, str]] = []

    def attempt(field: str, action: Any) -> None:
        try:
            action()
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})

    if "kind" in values:
        attempt(
            "kind", lambda: setattr(customer, "kind", _choice(values["kind"], CustomerKind, "kind"))
        )
    if not customer.kind:
        errors.append({"field": "kind", "message": _("This field is required.")})
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name:
            errors.append({"field": "name", "message": _("This field is required.")})
        elif len(name) > 200:
            errors.append({"field": "name", "message": _("This value is too long.")})
        else:
            customer.name = name
            customer.name_pinyin, customer.name_initials = name_keys(name)
            customer.name_key = name_key(name)
    elif not customer.name:
        errors.append({"field": "name", "message": _("This field is required.")})
    if "code" in values:
        code = str(values["code"] or "").strip()
        customer.code = code[:32] or customer.code
    if "source" in values:
        attempt(
            "source",
            lambda: setattr(
                customer,
                "source",
                _choice(values["source"], SourceChannel, "source", default="other"),
            ),
        )
    if "status" in values:
        attempt(
            "status",
            lambda: setattr(
                customer,
                "status",
                _choice(values["status"], CustomerStatus, "status", default="active"),
            ),
        )
    for field in PLAIN_FIELDS:
        if field in values:
            setattr(
                customer,
                field,
                str(values[field] or "").strip()[: 5000 if field == "notes" else 200],
            )
    if "phone" in values:

        def set_phone() -> None:
            customer.phone, customer.phone_index, customer.phone_last4 = clean_phone(
                str(values["phone"] or "")
            )

        attempt("phone", set_phone)
    if "email" in values:

        def set_email() -> None:
            customer.email, customer.email_index = clean_email(str(values["email"] or ""))

        attempt("email", set_email)
    if "bank_account" in values:
        digits = "".join(str(values["bank_account"] or "").split())
        if digits and not digits.isdigit():
            errors.append({"field": "bank_account", "message": _("Enter digits only.")})
        else:
            customer.bank_account = digits
    if "gender" in values:
        attempt(
            "gender",
            lambda: setattr(
                customer, "gender", _choice(values["gender"], _GENDERS, "gender", default="")
            ),
        )
    if "birthday" in values:
        attempt(
            "birthday",
            lambda: setattr(customer, "birthday", clean_date(values["birthday"], "birthday")),
        )
    if "id_number" in values:

        def set_id() -> None:
            number, index, birthday = clean_id_number(str(values["id_number"] or ""))
            customer.id_number, customer.id_number_index = number, index
            if birthday and not customer.birthday:
                customer.birthday = birthday

        attempt("id_number", set_id)
    if "credit_code" in values:
        attempt(
            "credit_code",
            lambda: setattr(
                customer, "credit_code", clean_credit_code(str(values["credit_code"] or ""))
            ),
        )
    if "website" in values:
        attempt(
            "website",
            lambda: setattr(customer, "website", clean_website(str(values["website"] or ""))),
        )
    if "size_band" in values:
        attempt(
            "size_band",
            lambda: setattr(
                customer,
                "size_band",
                _choice(values["size_band"], SizeBand, "size_band", default=""),
            ),
        )
    if "industry" in values:
        raw = values["industry"]
        if raw in (None, ""):
            customer.industry = None
        elif isinstance(raw, Industry):
            customer.industry = raw
        else:
            key = str(raw).strip()
            lookup = (
                industries
                if industries is not None
                else {
                    item.code: item
                    for item in Industry.objects.filter(
                        Q(code=key) | Q(name_zh=key) | Q(name_en__iexact=key)
                    )
                }
            )
            found = lookup.get(key) or next(
                (
                    item
                    for item in lookup.values()
                    if key in (item.name_zh, item.name_en) or key.lower() == item.name_en.lower()
                ),
                None,
            )
            if found is None:
                errors.append({"field": "industry", "message": _("Unknown industry.")})
            else:
                customer.industry = found
    if customer.kind and customer.kind not in ORGANISATION_KINDS and customer.credit_code:
        errors.append(
            {"field": "credit_code", "message": _("Only organisations have a credit code.")}
        )
    if customer.kind == CustomerKind.PERSON and customer.size_band:
        customer.size_band = ""
    if "custom_fields" in values or definitions:
        incoming = values.get("custom_fields") or {}
        if not isinstance(incoming, dict):
            errors.append({"field": "custom_fields", "message": _("Enter an object.")})
            incoming = {}
        definitions = definitions if definitions is not None else custom_field_definitions()
        known = {definition.key for definition in definitions}
        errors.extend(
            {"field": f"custom.{key}", "message": _("Unknown custom field.")}
            for key in incoming
            if key not in known
        )
        merged = dict(customer.custom_fields or {})
        for definition in definitions:
            if definition.key not in incoming and definition.key in merged:
                continue
            try:
                cleaned = clean_custom_value(definition, incoming.get(definition.key))
            except FieldError as error:
                errors.append({"field": error.field, "message": error.message})
                continue
            if cleaned is None:
                merged.pop(definition.key, None)
            else:
                merged[definition.key] = cleaned
        customer.custom_fields = merged
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    return customer


class _GenderChoices:
    values = ["", "female", "male"]
    choices = [
        ("", ""),
        ("female", "female"),
        ("male", "male"),
        ("female", "女"),
        ("male", "男"),
        ("female", "f"),
        ("male", "m"),
    ]


_GENDERS = _GenderChoices()


def exact_duplicates(customer: Customer) -> QuerySet[Customer]:
    """Other live customers sharing the phone, email, ID number or credit code."""
    condition = Q()
    if customer.phone_index:
        condition |= Q(phone_index=customer.phone_index)
        condition |= Q(
            pk__in=ContactMethod.objects.filter(value_index=customer.phone_index).values(
                "customer_id"
            )
        )
    if customer.email_index:
        condition |= Q(email_index=customer.email_index)
        condition |= Q(
            pk__in=ContactMethod.objects.filter(value_index=customer.email_index).values(
                "customer_id"
            )
        )
    if customer.id_number_index:
        condition |= Q(id_number_index=customer.id_number_index)
    if customer.credit_code:
        condition |= Q(credit_code=customer.credit_code)
    if not condition:
        return Customer.objects.none()
    return (
        Customer.objects.filter(condition)
        .exclude(pk=customer.pk)
        .exclude(status=CustomerStatus.MERGED)
        .order_by("pk")
    )


def search_tokens_refresh(customer_ids: Iterable[int]) -> None:
    """Rebuild the short-name search tokens of these customers (chunked for SQLite)."""
    ids = list(customer_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        SearchToken.objects.filter(customer_id__in=chunk).delete()
        names = Customer.objects.filter(pk__in=chunk).values_list("pk", "name")
        SearchToken.objects.bulk_create(
            [
                SearchToken(customer_id=pk, token=token)
                for pk, name in names
                for token in sorted(search_tokens(name))
            ],
            batch_size=2000,
        )


def customer_codes_assign(customer_ids: Iterable[int] | None = None) -> int:
    """Give customers without a code the code "C" + their id padded to 8 digits."""
    qs = Customer.objects.filter(code__isnull=True)
    if customer_ids is not None:
        qs = qs.filter(pk__in=list(customer_ids))
    return qs.update(code=Concat(Value(CODE_PREFIX), LPad(Cast("id", CharField()), 8, Value("0"))))


def _owner_and_team(
    actor: User, owner: User | None, team: Team | None
) -> tuple[User | None, Team | None]:
    if owner is None:
        return actor, team or actor.team
    if not owner.is_active:
        raise DomainError(_("The owner must be an active user."), field="owner")
    if owner.pk != actor.pk and not has_perm(actor, "customers.edit"):
        raise PermissionDenied("customers.edit")
    return owner, team or owner.team


@transaction.atomic
def customer_create(
    *,
    actor: User,
    values: dict[str, Any],
    owner: User | None = None,
    team: Team | None = None,
    allow_duplicate: bool = False,
) -> Customer:
    """Create a customer owned by `owner` (default: the actor) in their team.

    Refuses likely duplicates (same phone, email, ID number or credit code) unless
    `allow_duplicate`. Publishes customer.created after commit.
    """
    require_perm(actor, "customers.create")
    customer = Customer(source=SourceChannel.OTHER)
    customer_apply(customer, values, definitions=custom_field_definitions())
    customer.owner, customer.team = _owner_and_team(actor, owner, team)
    if customer.code and Customer.objects.filter(code=customer.code).exists():
        raise Conflict(_("This customer code is already used."), field="code")
    if not allow_duplicate:
        duplicates = list(exact_duplicates(customer)[:10])
        if duplicates:
            raise DuplicateCustomer(
                _("A customer with the same phone, email, ID number or credit code exists."),
                duplicates=duplicates,
            )
    customer._change_reason = "create"  # type: ignore[attr-defined]  # read by simple-history
    customer.save()
    if not customer.code:
        customer_codes_assign([customer.pk])
        customer.refresh_from_db(fields=["code"])
    search_tokens_refresh([customer.pk])
    events.publish_on_commit("customer.created", customer_id=customer.pk, actor_id=actor.pk)
    return customer


def _may_edit(actor: User, customer: Customer) -> None:
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied("customers.edit")
    if customer.owner_id == actor.pk and has_perm(actor, "customers.create"):
        return
    require_perm(actor, "customers.edit")


@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    values: dict[str, Any],
    version: int | None,
    reason: str = "",
) -> Customer:
    """Change a visible customer's fields; a stale `version` is refused (StaleEdit)."""
    _may_edit(actor, customer)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    check_version(customer.version, version)
    name_before = customer.name
    customer_apply(customer, values, definitions=custom_field_definitions())
    if (
        "code" in values
        and customer.code
        and Customer.objects.filter(code=customer.code).exclude(pk=customer.pk).exists()
    ):
        raise Conflict(_("This customer code is already used."), field="code")
    customer.version += 1
    customer._change_reason = reason or "edit"  # type: ignore[attr-defined]  # read by simple-history
    customer.save()
    if customer.name != name_before:
        search_tokens_refresh([customer.pk])
    events.publish_on_commit("customer.updated", customer_id=customer.pk, actor_id=actor.pk)
    return customer


@transaction.atomic
def customer_assign(
    *, actor: User | None, customers: QuerySet[Customer], owner: User | None, reason: str = ""
) -> int:
    """Give visible customers a new owner (and the owner's team), with history rows.

    actor None: a system move already authorised by its caller (the public pool's claim
    and return); owner None leaves the customers ownerless in their team (back in the pool).
    """
    if actor is not None:
        require_perm(actor, "customers.edit")
    if owner is not None and not owner.is_active:
        raise DomainError(_("The owner must be an active user."), field="owner")
    from simple_history.utils import bulk_update_with_history

    changed = list(customers.select_for_update())
    for customer in changed:
        customer.owner = owner
        if owner is not None:
            customer.team = owner.team
        customer.version += 1
        customer._change_reason = reason or "assign"  # type: ignore[attr-defined]
    bulk_update_with_history(
        changed,
        Customer,
        ["owner", "team", "version", "updated_at"],
        batch_size=500,
        default_user=actor,
        default_change_reason=reason or "assign",
    )
    events.publish_on_commit(
        "customer.owner_changed",
        customer_ids=[c.pk for c in changed],
        owner_id=owner.pk if owner is not None else None,
        actor_id=actor.pk if actor is not None else None,
    )
    return len(changed)


@transaction.atomic
def customer_delete(*, actor: User, customer: Customer) -> None:
    """Delete a visible customer and everything attached (customers.delete)."""
    require_perm(actor, "customers.delete")
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied("customers.delete")
    pk = customer.pk
    customer._change_reason = "delete"  # type: ignore[attr-defined]
    customer.delete()
    events.publish_on_commit("customer.deleted", customer_id=pk, actor_id=actor.pk)


def customer_reveal(*, actor: User, customer: Customer, field: str, request: Any = None) -> str:
    """The plain value of one personal-data field, written to the access log."""
    require_perm(actor, "customers.reveal")
    if field not in PERSONAL_FIELDS:
        raise DomainError(_("This field cannot be revealed."), field="field")
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied("customers.reveal")
    from guanxi.audit.services import access_log_write

    access_log_write(
        actor=actor,
        action="reveal",
        target_model="customers.customer",
        target_pk=str(customer.pk),
        field=field,
        request=request,
    )
    return str(getattr(customer, field) or "")


# --- contacts ----------------------------------------------------------------------------------


def _contact_methods(
    customer: Customer, contact: Contact, phones: list[str], emails: list[str]
) -> list[ContactMethod]:
    methods: list[ContactMethod] = []
    errors: list[dict[str, str]] = []
    for index, raw in enumerate(phones):
        if not str(raw).strip():
            continue
        try:
            number, index_hash, last4 = clean_phone(str(raw), f"phones.{index}")
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
            continue
        methods.append(
            ContactMethod(
                contact=contact,
                customer=customer,
                kind=ContactMethodKind.PHONE,
                value=number,
                value_index=index_hash,
                last4=last4,
            )
        )
    for index, raw in enumerate(emails):
        if not str(raw).strip():
            continue
        try:
            address, index_hash = clean_email(str(raw), f"emails.{index}")
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
            continue
        methods.append(
            ContactMethod(
                contact=contact,
                customer=customer,
                kind=ContactMethodKind.EMAIL,
                value=address,
                value_index=index_hash,
            )
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    return methods


CONTACT_FIELDS = ("name", "title", "buying_role", "wechat_id", "notes")


def _contact_apply(contact: Contact, values: dict[str, Any]) -> None:
    errors = []
    if "name" in values:
        contact.name = str(values["name"] or "").strip()[:120]
    if not contact.name:
        errors.append({"field": "name", "message": _("This field is required.")})
    for field in ("title", "wechat_id", "notes"):
        if field in values:
            setattr(
                contact,
                field,
                str(values[field] or "").strip()[: 2000 if field == "notes" else 120],
            )
    if "buying_role" in values:
        from guanxi.customers.models import BuyingRole

        try:
            contact.buying_role = _choice(
                values["buying_role"], BuyingRole, "buying_role", default="other"
            )
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
    if "custom_fields" in values:
        definitions = custom_field_definitions(CustomFieldTarget.CONTACT)
        incoming = values.get("custom_fields") or {}
        merged = dict(contact.custom_fields or {})
        known_keys = {d.key for d in definitions}
        errors.extend(
            {"field": f"custom.{key}", "message": _("Unknown custom field.")}
            for key in incoming
            if key not in known_keys
        )
        for definition in definitions:
            try:
                cleaned = clean_custom_value(definition, incoming.get(definition.key))
            except FieldError as error:
                errors.append({"field": error.field, "message": error.message})
                continue
            if cleaned is None:
                merged.pop(definition.key, None)
            else:
                merged[definition.key] = cleaned
        contact.custom_fields = merged
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)


@transaction.atomic
def contact_create(
    *,
    actor: User,
    customer: Customer,
    values: dict[str, Any],
    phones: list[str] | None = None,
    emails: list[str] | None = None,
) -> Contact:
    """Add a contact person (with phones and emails) to a visible customer."""
    _may_edit(actor, customer)
    contact = Contact(customer=customer)
    _contact_apply(contact, values)
    methods = _contact_methods(customer, contact, phones or [], emails or [])
    contact.is_primary = bool(values.get("is_primary")) or not customer.contacts.exists()
    if contact.is_primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    contact.save()
    ContactMethod.objects.bulk_create(methods)
    events.publish_on_commit(
        "customer.contact_added", customer_id=customer.pk, contact_id=contact.pk
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User,
    contact: Contact,
    values: dict[str, Any],
    version: int | None,
    phones: list[str] | None = None,
    emails: list[str] | None = None,
) -> Contact:
    """Change a contact; given phones/emails replace the old ones."""
    _may_edit(actor, contact.customer)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact.version, version)
    _contact_apply(contact, values)
    if phones is not None or emails is not None:
        current_phones = [m.value for m in contact.methods.filter(kind="phone")]
        current_emails = [m.value for m in contact.methods.filter(kind="email")]
        methods = _contact_methods(
            contact.customer,
            contact,
            phones if phones is not None else current_phones,
            emails if emails is not None else current_emails,
        )
        contact.methods.all().delete()
        ContactMethod.objects.bulk_create(methods)
    if values.get("is_primary"):
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
        contact.is_primary = True
    contact.version += 1
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    _may_edit(actor, contact.customer)
    was_primary, customer_id = contact.is_primary, contact.customer_id
    contact.delete()
    if was_primary:
        successor = Contact.objects.filter(customer_id=customer_id).order_by("pk").first()
        if successor is not None:
            Contact.objects.filter(pk=successor.pk).update(is_primary=True)


# --- addresses ---------------------------------------------------------------------------------


@transaction.atomic
def address_save(
    *, actor: User, customer: Customer, values: dict[str, Any], address: Address | None = None
) -> Address:
    """Add or change an address; the primary one also sets the customer's region and city."""
    _may_edit(actor, customer)
    address = address or Address(customer=customer)
    for field in ("kind", "country", "region", "city", "district", "street", "postal_code"):
        if field in values:
            setattr(address, field, str(values[field] or "").strip()[:500])
    if not (address.region or address.city or address.street):
        raise DomainError(_("Enter at least a region, a city or a street."), field="street")
    address.is_primary = (
        bool(values.get("is_primary", address.is_primary)) or not customer.addresses.exists()
    )
    if address.is_primary:
        customer.addresses.exclude(pk=address.pk).update(is_primary=False)
        Customer.objects.filter(pk=customer.pk).update(region=address.region, city=address.city)
    address.save()
    return address


# --- groups and tags ---------------------------------------------------------------------------


@transaction.atomic
def group_create(
    *, actor: User, name: str, parent: CustomerGroup | None = None, description: str = ""
) -> CustomerGroup:
    require_perm(actor, "customers.create")
    name = name.strip()
    if not name:
        raise DomainError(_("This field is required."), field="name")
    if CustomerGroup.objects.filter(parent=parent, name=name).exists():
        raise Conflict(_("A group with this name already exists here."), field="name")
    group = CustomerGroup.objects.create(
        name=name[:100], parent=parent, description=description[:255], created_by=actor
    )
    group.path = f"{parent.path if parent else '/'}{group.pk}/"
    group.save(update_fields=["path"])
    return group


def tag_get_or_create(*, actor: User, name: str) -> Tag:
    require_perm(actor, "customers.create")
    name = name.strip()[:50]
    if not name:
        raise DomainError(_("This field is required."), field="name")
    tag, _created = Tag.objects.get_or_create(name=name)
    return tag


def _bulk_customers(actor: User, customers: QuerySet[Customer]) -> list[int]:
    require_perm(actor, "customers.edit")
    return list(customers.values_list("pk", flat=True))


@transaction.atomic
def customers_tag(*, actor: User, customers: QuerySet[Customer], tag: Tag, add: bool = True) -> int:
    """Add or remove a tag on many visible customers in set-based statements."""
    ids = _bulk_customers(actor, customers)
    if not add:
        count = 0
        for start in range(0, len(ids), 500):
            count += CustomerTag.objects.filter(
                tag=tag, customer_id__in=ids[start : start + 500]
            ).delete()[0]
        events.publish_on_commit(
            "customer.tags_changed", customer_ids=ids, tag_id=tag.pk, added=False
        )
        return count
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer_id=pk, tag=tag) for pk in ids], batch_size=1000, ignore_conflicts=True
    )
    events.publish_on_commit("customer.tags_changed", customer_ids=ids, tag_id=tag.pk, added=True)
    return len(ids)


@transaction.atomic
def customers_group(
    *, actor: User, customers: QuerySet[Customer], group: CustomerGroup, add: bool = True
) -> int:
    """Add many visible customers to a group, or take them out."""
    ids = _bulk_customers(actor, customers)
    if not add:
        count = 0
        for start in range(0, len(ids), 500):
            count += GroupMembership.objects.filter(
                group=group, customer_id__in=ids[start : start + 500]
            ).delete()[0]
        return count
    GroupMembership.objects.bulk_create(
        [GroupMembership(customer_id=pk, group=group) for pk in ids],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return len(ids)


# --- custom fields -----------------------------------------------------------------------------


@transaction.atomic
def custom_field_save(
    *,
    actor: User,
    values: dict[str, Any],
    definition: CustomFieldDefinition | None = None,
    version: int | None = None,
) -> CustomFieldDefinition:
    """Create or change a custom-field definition (customers.admin)."""
    require_perm(actor, "customers.admin")
    from guanxi.customers.models import CustomFieldType

    creating = definition is None
    definition = definition or CustomFieldDefinition()
    if not creating:
        check_version(definition.version, version)
        definition.version += 1
    errors = []
    if creating:
        key = str(values.get("key") or "").strip().lower()
        import re

        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
            errors.append(
                {
                    "field": "key",
                    "message": _("Use lower-case letters, digits and _ (start with a letter)."),
                }
            )
        definition.key = key
        try:
            definition.target = _choice(
                values.get("target"), CustomFieldTarget, "target", default="customer"
            )
            definition.field_type = _choice(values.get("field_type"), CustomFieldType, "field_type")
        except FieldError as error:
            errors.append({"field": error.field, "message": error.message})
    for field in ("label_zh", "label_en"):
        if field in values:
            setattr(definition, field, str(values[field] or "").strip()[:80])
        if not getattr(definition, field):
            errors.append({"field": field, "message": _("This field is required.")})
    if "choices" in values:
        raw = values["choices"]
        choices = raw if isinstance(raw, list) else str(raw or "").replace("，", ",").split(",")
        definition.choices = [str(c).strip() for c in choices if str(c).strip()]
    if definition.field_type in ("choice", "multi_choice") and not definition.choices:
        errors.append({"field": "choices", "message": _("List at least one choice.")})
    for flag in ("is_required", "show_in_list", "is_active"):
        if flag in values:
            setattr(definition, flag, bool(values[flag]))
    if "position" in values:
        definition.position = int(values["position"] or 0)
    if (
        creating
        and not errors
        and CustomFieldDefinition.objects.filter(
            target=definition.target, key=definition.key
        ).exists()
    ):
        errors.append({"field": "key", "message": _("This key is already used.")})
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    definition.save()
    return definition


# --- consent -----------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: User | None,
    customer: Customer,
    purpose: str,
    granted: bool,
    channel: str,
    wording: str,
    recorded_at: Any = None,
) -> ConsentRecord:
    """Record that a customer granted or withdrew consent for a purpose (append-only)."""
    if actor is not None:
        _may_edit(actor, customer)
    if purpose not in ConsentPurpose.values:
        raise DomainError(_("Choose one of the allowed values."), field="purpose")
    if not wording.strip():
        raise DomainError(_("Record the wording the customer was shown."), field="wording")
    if not channel.strip():
        raise DomainError(_("This field is required."), field="channel")
    record = ConsentRecord.objects.create(
        customer=customer,
        purpose=purpose,
        status=ConsentStatus.GRANTED if granted else ConsentStatus.WITHDRAWN,
        channel=channel.strip()[:40],
        wording=wording.strip(),
        recorded_at=recorded_at or timezone.now(),
        recorded_by=actor,
    )
    events.publish_on_commit(
        "customer.consent_changed", customer_id=customer.pk, purpose=purpose, granted=granted
    )
    return record


# --- saved filters -----------------------------------------------------------------------------


def saved_filter_save(*, actor: User, name: str, query: str) -> SavedFilter:
    name = name.strip()[:80]
    if not name:
        raise DomainError(_("Give the filter a name."), field="name")
    saved, _created = SavedFilter.objects.update_or_create(
        user=actor, name=name, defaults={"query": query[:2000]}
    )
    return saved


def saved_filter_delete(*, actor: User, saved: SavedFilter) -> None:
    if saved.user_id != actor.pk:
        raise PermissionDenied("saved filter")
    saved.delete()


def customers_bulk(
    *,
    actor: User,
    customers: QuerySet[Customer],
    action: str,
    owner_id: int | None = None,
    tag: str | None = None,
    group_id: int | None = None,
) -> int:
    """One bulk action over visible customers: assign, tag, untag, group or ungroup."""
    if action == "assign":
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id else None
        if owner is None:
            raise DomainError(_("Choose an active user as the new owner."), field="owner_id")
        return customer_assign(actor=actor, customers=customers, owner=owner)
    if action in ("tag", "untag"):
        if not tag:
            raise DomainError(_("Name the tag."), field="tag")
        found = (
            tag_get_or_create(actor=actor, name=tag)
            if action == "tag"
            else Tag.objects.filter(name=tag.strip()).first()
        )
        if found is None:
            return 0
        return customers_tag(actor=actor, customers=customers, tag=found, add=action == "tag")
    if action in ("group", "ungroup"):
        group = CustomerGroup.objects.filter(pk=group_id).first() if group_id else None
        if group is None:
            raise DomainError(_("Choose a group."), field="group_id")
        return customers_group(actor=actor, customers=customers, group=group, add=action == "group")
    raise DomainError(_("Unknown bulk action."), field="action")
