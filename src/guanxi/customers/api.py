"""Customers API: CRUD, search, contacts, addresses, consent, reveal, bulk actions, tags,
groups, custom fields and industries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.accounts.models import User
from guanxi.accounts.selectors import user_get
from guanxi.core.history import history_rows
from guanxi.core.idempotency import idempotent
from guanxi.core.pagination import keyset_page
from guanxi.core.schemas import PageOut
from guanxi.customers import selectors, services
from guanxi.customers.schemas import (
    AddressIn,
    AddressOut,
    BulkIn,
    BulkOut,
    ConsentIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    CustomerDetailOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    CustomerQuery,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    GroupIn,
    GroupOut,
    HistoryChangeOut,
    HistoryOut,
    IndustryOut,
    Ref,
    RevealIn,
    RevealOut,
    TagIn,
    TagOut,
)

router = Router(tags=["customers"])
CUSTOM_PREFIX = "cf_"


def filters_from(query: CustomerQuery, params: Any) -> selectors.CustomerFilters:
    return selectors.CustomerFilters(
        q=query.q,
        kind=query.kind,
        industry_id=query.industry_id,
        region=query.region,
        city=query.city,
        owner_id=query.owner_id,
        team_id=query.team_id,
        group_id=query.group_id,
        tag_id=query.tag_id,
        source=query.source,
        status=query.status,
        lifecycle_stage=query.lifecycle_stage,
        sort=query.sort,
        custom={
            key[len(CUSTOM_PREFIX) :]: value
            for key, value in params.items()
            if key.startswith(CUSTOM_PREFIX)
        },
    )


def detail(actor: User, customer_id: int) -> CustomerDetailOut:
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    base = CustomerOut.from_customer(customer).model_dump()
    from guanxi.core import crypto

    return CustomerDetailOut(
        **base,
        legal_name=customer.legal_name,
        credit_code=customer.credit_code,
        industry=customer.industry.code if customer.industry else None,
        size_band=customer.size_band,
        website=customer.website,
        gender=customer.gender,
        birthday=customer.birthday,
        id_number=crypto.mask("id_number", customer.id_number),
        bank_account=crypto.mask("bank_account", customer.bank_account),
        occupation=customer.occupation,
        notes=customer.notes,
        contacts=[
            ContactOut.from_contact(c) for c in selectors.customer_contacts(customer=customer)
        ],
        addresses=[AddressOut.from_address(a) for a in customer.addresses.all()],
        groups=[Ref(id=g.pk, name=g.name) for g in customer.groups.all()],
        tags=[Ref(id=t.pk, name=t.name) for t in customer.tags.all()],
        consents=[
            ConsentOut(
                purpose=row["purpose"],
                granted=row["granted"],
                channel=row["record"].channel if row["record"] else None,
                wording=row["record"].wording if row["record"] else None,
                recorded_at=row["record"].recorded_at if row["record"] else None,
            )
            for row in selectors.consent_state(customer=customer)
        ],
    )


@router.get(
    "/customers",
    response=PageOut[CustomerOut],
    summary="Customers (filters, search box `q`, custom fields as cf_<key>)",
)
def list_customers(request: HttpRequest, query: Query[CustomerQuery]) -> PageOut[CustomerOut]:
    filters = filters_from(query, request.GET)
    page = keyset_page(
        selectors.customer_list(actor=api_actor(request), filters=filters),
        cursor=query.cursor,
        limit=query.limit,
        ordering=filters.ordering,
    )
    return PageOut[CustomerOut](
        items=[CustomerOut.from_customer(c) for c in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.post(
    "/customers",
    response={201: CustomerDetailOut},
    summary="Create a customer (send Idempotency-Key to make retries safe)",
)
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[Any]:
    actor = api_actor(request)

    def run() -> tuple[int, Any]:
        values = payload.model_dump(exclude_unset=True, exclude={"owner_id", "allow_duplicate"})
        owner = user_get(actor=actor, pk=payload.owner_id) if payload.owner_id else None
        customer = services.customer_create(
            actor=actor, values=values, owner=owner, allow_duplicate=payload.allow_duplicate
        )
        return 201, detail(actor, customer.pk).model_dump(mode="json")

    status, body = idempotent(request, run)
    return Status(status, body)


@router.get("/customers/{int:customer_id}", response=CustomerDetailOut)
def get_customer(request: HttpRequest, customer_id: int) -> CustomerDetailOut:
    return detail(api_actor(request), customer_id)


@router.patch("/customers/{int:customer_id}", response=CustomerDetailOut)
def update_customer(
    request: HttpRequest, customer_id: int, payload: CustomerPatch
) -> CustomerDetailOut:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    values = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.customer_update(actor=actor, customer=customer, values=values, version=payload.version)
    return detail(actor, customer_id)


@router.delete("/customers/{int:customer_id}", response={204: None})
def delete_customer(request: HttpRequest, customer_id: int) -> Status[None]:
    actor = api_actor(request)
    services.customer_delete(
        actor=actor, customer=selectors.customer_get(actor=actor, pk=customer_id)
    )
    return Status(204, None)


@router.post(
    "/customers/{int:customer_id}/reveal",
    response=RevealOut,
    summary="Show one personal-data field in full (written to the access log)",
)
def reveal_field(request: HttpRequest, customer_id: int, payload: RevealIn) -> RevealOut:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    value = services.customer_reveal(
        actor=actor, customer=customer, field=payload.field, request=request
    )
    return RevealOut(field=payload.field, value=value)


@router.get("/customers/{int:customer_id}/history", response=list[HistoryOut])
def customer_history(request: HttpRequest, customer_id: int) -> list[HistoryOut]:
    customer = selectors.customer_get(actor=api_actor(request), pk=customer_id)
    return [
        HistoryOut(
            when=row["when"],
            who=str(row["who"]) if row["who"] else None,
            kind=str(row["kind"]),
            reason=row["reason"],
            changes=[
                HistoryChangeOut(field=c["name"], old=_plain(c["old"]), new=_plain(c["new"]))
                for c in row["changes"]
            ],
        )
        for row in history_rows(customer, masked=services.MASKED_HISTORY_FIELDS)
    ]


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


@router.get("/customers/{int:customer_id}/contacts", response=list[ContactOut])
def list_contacts(request: HttpRequest, customer_id: int) -> list[ContactOut]:
    customer = selectors.customer_get(actor=api_actor(request), pk=customer_id)
    return [ContactOut.from_contact(c) for c in selectors.customer_contacts(customer=customer)]


@router.post("/customers/{int:customer_id}/contacts", response={201: ContactOut})
def create_contact(
    request: HttpRequest, customer_id: int, payload: ContactIn
) -> Status[ContactOut]:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    values = payload.model_dump(exclude={"phones", "emails"}, exclude_unset=False)
    contact = services.contact_create(
        actor=actor, customer=customer, values=values, phones=payload.phones, emails=payload.emails
    )
    return Status(201, ContactOut.from_contact(selectors.contact_get(actor=actor, pk=contact.pk)))


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> ContactOut:
    actor = api_actor(request)
    contact = selectors.contact_get(actor=actor, pk=contact_id)
    values = payload.model_dump(exclude_unset=True, exclude={"version", "phones", "emails"})
    services.contact_update(
        actor=actor,
        contact=contact,
        values=values,
        version=payload.version,
        phones=payload.phones,
        emails=payload.emails,
    )
    return ContactOut.from_contact(selectors.contact_get(actor=actor, pk=contact_id))


@router.delete("/contacts/{int:contact_id}", response={204: None})
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    actor = api_actor(request)
    services.contact_delete(actor=actor, contact=selectors.contact_get(actor=actor, pk=contact_id))
    return Status(204, None)


@router.post("/customers/{int:customer_id}/addresses", response={201: AddressOut})
def create_address(
    request: HttpRequest, customer_id: int, payload: AddressIn
) -> Status[AddressOut]:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    address = services.address_save(actor=actor, customer=customer, values=payload.model_dump())
    return Status(201, AddressOut.from_address(address))


@router.get("/customers/{int:customer_id}/consents", response=list[ConsentOut])
def list_consents(request: HttpRequest, customer_id: int) -> list[ConsentOut]:
    return detail(api_actor(request), customer_id).consents


@router.post(
    "/customers/{int:customer_id}/consents",
    response={201: list[ConsentOut]},
    summary="Record a grant or withdrawal of consent for one purpose",
)
def record_consent(
    request: HttpRequest, customer_id: int, payload: ConsentIn
) -> Status[list[ConsentOut]]:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    services.consent_record(
        actor=actor,
        customer=customer,
        purpose=payload.purpose,
        granted=payload.granted,
        channel=payload.channel,
        wording=payload.wording,
    )
    return Status(201, detail(actor, customer_id).consents)


@router.post(
    "/customers/bulk",
    response=BulkOut,
    summary="Assign owner, add/remove a tag or group on many customers",
)
def bulk_action(request: HttpRequest, payload: BulkIn) -> BulkOut:
    actor = api_actor(request)
    customers = selectors.customer_base(actor=actor).filter(pk__in=payload.ids)
    affected = services.customers_bulk(
        actor=actor,
        customers=customers,
        action=payload.action,
        owner_id=payload.owner_id,
        tag=payload.tag,
        group_id=payload.group_id,
    )
    return BulkOut(action=payload.action, affected=affected)


@router.get("/tags", response=list[TagOut])
def list_tags(request: HttpRequest) -> list[Any]:
    return list(selectors.tag_list(actor=api_actor(request))[:1000])


@router.post("/tags", response={201: TagOut})
def create_tag(request: HttpRequest, payload: TagIn) -> Status[Any]:
    return Status(201, services.tag_get_or_create(actor=api_actor(request), name=payload.name))


@router.get("/groups", response=list[GroupOut])
def list_groups(request: HttpRequest) -> list[Any]:
    return list(selectors.group_list(actor=api_actor(request))[:1000])


@router.post("/groups", response={201: GroupOut})
def create_group(request: HttpRequest, payload: GroupIn) -> Status[Any]:
    actor = api_actor(request)
    parent = selectors.group_get(actor=actor, pk=payload.parent_id) if payload.parent_id else None
    return Status(
        201,
        services.group_create(
            actor=actor, name=payload.name, parent=parent, description=payload.description
        ),
    )


@router.get("/industries", response=list[IndustryOut])
def list_industries(request: HttpRequest) -> list[Any]:
    return list(selectors.industry_list())


@router.get("/custom-fields", response=list[CustomFieldOut])
def list_custom_fields(request: HttpRequest) -> list[Any]:
    api_actor(request)
    return list(selectors.custom_field_list(active_only=False))


@router.post("/custom-fields", response={201: CustomFieldOut})
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Status[Any]:
    return Status(
        201, services.custom_field_save(actor=api_actor(request), values=payload.model_dump())
    )


@router.patch("/custom-fields/{int:field_id}", response=CustomFieldOut)
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch) -> Any:
    actor = api_actor(request)
    definition = selectors.custom_field_get(pk=field_id)
    return services.custom_field_save(
        actor=actor,
        definition=definition,
        version=payload.version,
        values=payload.model_dump(exclude_unset=True, exclude={"version"}),
    )
