"""API schemas of the customers domain; personal data always leaves masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from ninja import Field, Schema

from guanxi.core import crypto
from guanxi.core.schemas import InputSchema
from guanxi.customers.models import Address, Contact, Customer


class Ref(Schema):
    id: int
    name: str


class CustomerIn(InputSchema):
    kind: str
    name: str = Field(min_length=1, max_length=200)
    code: str | None = Field(None, max_length=32)
    source: str | None = Field(None, max_length=20)
    status: str | None = Field(None, max_length=10)
    notes: str | None = Field(None, max_length=5000)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    region: str | None = Field(None, max_length=50)
    city: str | None = Field(None, max_length=50)
    gender: str | None = Field(None, max_length=10)
    birthday: dt.date | None = None
    id_number: str | None = Field(None, max_length=30)
    occupation: str | None = Field(None, max_length=100)
    bank_account: str | None = Field(None, max_length=40)
    legal_name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=30)
    industry: str | None = Field(None, max_length=120)
    size_band: str | None = Field(None, max_length=10)
    website: str | None = Field(None, max_length=200)
    custom_fields: dict[str, Any] | None = None
    owner_id: int | None = None
    allow_duplicate: bool = False


class CustomerPatch(InputSchema):
    version: int
    kind: str | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    code: str | None = Field(None, max_length=32)
    source: str | None = Field(None, max_length=20)
    status: str | None = Field(None, max_length=10)
    lifecycle_stage: str | None = Field(None, max_length=15)
    notes: str | None = Field(None, max_length=5000)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    region: str | None = Field(None, max_length=50)
    city: str | None = Field(None, max_length=50)
    gender: str | None = Field(None, max_length=10)
    birthday: dt.date | None = None
    id_number: str | None = Field(None, max_length=30)
    occupation: str | None = Field(None, max_length=100)
    bank_account: str | None = Field(None, max_length=40)
    legal_name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=30)
    industry: str | None = Field(None, max_length=120)
    size_band: str | None = Field(None, max_length=10)
    website: str | None = Field(None, max_length=200)
    custom_fields: dict[str, Any] | None = None


class CustomerOut(Schema):
    id: int
    code: str | None
    kind: str
    name: str
    status: str
    source: str
    lifecycle_stage: str
    region: str
    city: str
    phone: str
    email: str
    owner: Ref | None
    team: Ref | None
    custom_fields: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def from_customer(customer: Customer) -> CustomerOut:
        return CustomerOut(
            id=customer.pk,
            code=customer.code,
            kind=customer.kind,
            name=customer.name,
            status=customer.status,
            source=customer.source,
            lifecycle_stage=customer.lifecycle_stage,
            region=customer.region,
            city=customer.city,
            phone=crypto.mask("phone", customer.phone),
            email=crypto.mask("email", customer.email),
            owner=Ref(id=customer.owner.pk, name=str(customer.owner)) if customer.owner else None,
            team=Ref(id=customer.team.pk, name=customer.team.name) if customer.team else None,
            custom_fields=customer.custom_fields or {},
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            version=customer.version,
        )


class ContactMethodOut(Schema):
    kind: str
    label: str
    value: str


class ContactOut(Schema):
    id: int
    name: str
    title: str
    buying_role: str
    wechat_id: str
    is_primary: bool
    notes: str
    methods: list[ContactMethodOut]
    custom_fields: dict[str, Any]
    version: int

    @staticmethod
    def from_contact(contact: Contact) -> ContactOut:
        return ContactOut(
            id=contact.pk,
            name=contact.name,
            title=contact.title,
            buying_role=contact.buying_role,
            wechat_id=contact.wechat_id,
            is_primary=contact.is_primary,
            notes=contact.notes,
            methods=[
                ContactMethodOut(kind=m.kind, label=m.label, value=crypto.mask(m.kind, m.value))
                for m in contact.methods.all()
            ],
            custom_fields=contact.custom_fields or {},
            version=contact.version,
        )


class AddressOut(Schema):
    id: int
    kind: str
    country: str
    region: str
    city: str
    district: str
    street: str
    postal_code: str
    is_primary: bool

    @staticmethod
    def from_address(address: Address) -> AddressOut:
        return AddressOut(
            id=address.pk,
            kind=address.kind,
            country=address.country,
            region=address.region,
            city=address.city,
            district=address.district,
            street=crypto.mask("address", address.street),
            postal_code=address.postal_code,
            is_primary=address.is_primary,
        )


class ConsentOut(Schema):
    purpose: str
    granted: bool
    channel: str | None
    wording: str | None
    recorded_at: dt.datetime | None


class CustomerDetailOut(CustomerOut):
    legal_name: str
    credit_code: str
    industry: str | None
    size_band: str
    website: str
    gender: str
    birthday: dt.date | None
    id_number: str
    bank_account: str
    occupation: str
    notes: str
    contacts: list[ContactOut]
    addresses: list[AddressOut]
    groups: list[Ref]
    tags: list[Ref]
    consents: list[ConsentOut]


class ContactIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    title: str = Field("", max_length=120)
    buying_role: str = Field("other", max_length=16)
    wechat_id: str = Field("", max_length=64)
    is_primary: bool = False
    notes: str = Field("", max_length=2000)
    phones: list[str] = Field(default_factory=list, max_length=10)
    emails: list[str] = Field(default_factory=list, max_length=10)
    custom_fields: dict[str, Any] | None = None


class ContactPatch(InputSchema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=120)
    title: str | None = Field(None, max_length=120)
    buying_role: str | None = Field(None, max_length=16)
    wechat_id: str | None = Field(None, max_length=64)
    is_primary: bool | None = None
    notes: str | None = Field(None, max_length=2000)
    phones: list[str] | None = Field(None, max_length=10)
    emails: list[str] | None = Field(None, max_length=10)
    custom_fields: dict[str, Any] | None = None


class AddressIn(InputSchema):
    kind: str = Field("office", max_length=10)
    country: str = Field("CN", max_length=2)
    region: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    district: str = Field("", max_length=50)
    street: str = Field("", max_length=300)
    postal_code: str = Field("", max_length=12)
    is_primary: bool = False


class ConsentIn(InputSchema):
    purpose: str
    granted: bool
    channel: str = Field(min_length=1, max_length=40)
    wording: str = Field(min_length=1, max_length=5000)


class RevealIn(InputSchema):
    field: str


class RevealOut(Schema):
    field: str
    value: str


class BulkIn(InputSchema):
    action: str = Field(pattern="^(assign|tag|untag|group|ungroup)$")
    ids: list[int] = Field(min_length=1, max_length=5000)
    owner_id: int | None = None
    tag: str | None = Field(None, max_length=50)
    group_id: int | None = None


class BulkOut(Schema):
    action: str
    affected: int


class TagOut(Schema):
    id: int
    name: str
    color: str


class TagIn(InputSchema):
    name: str = Field(min_length=1, max_length=50)


class GroupOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    description: str


class GroupIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    description: str = Field("", max_length=255)


class IndustryOut(Schema):
    code: str
    name_zh: str
    name_en: str


class CustomFieldOut(Schema):
    id: int
    target: str
    key: str
    label_zh: str
    label_en: str
    field_type: str
    choices: list[str]
    is_required: bool
    show_in_list: bool
    is_active: bool
    position: int
    version: int


class CustomFieldIn(InputSchema):
    target: str = "customer"
    key: str = Field(min_length=1, max_length=40)
    label_zh: str = Field(min_length=1, max_length=80)
    label_en: str = Field(min_length=1, max_length=80)
    field_type: str
    choices: list[str] = Field(default_factory=list, max_length=200)
    is_required: bool = False
    show_in_list: bool = False
    position: int = Field(0, ge=0, le=1000)


class CustomFieldPatch(InputSchema):
    version: int
    label_zh: str | None = Field(None, min_length=1, max_length=80)
    label_en: str | None = Field(None, min_length=1, max_length=80)
    choices: list[str] | None = Field(None, max_length=200)
    is_required: bool | None = None
    show_in_list: bool | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=1000)


class HistoryChangeOut(Schema):
    field: str
    old: Any
    new: Any


class HistoryOut(Schema):
    when: dt.datetime
    who: str | None
    kind: str
    reason: str
    changes: list[HistoryChangeOut]


class CustomerQuery(Schema):
    q: str = Field("", max_length=100)
    kind: str = Field("", max_length=12)
    industry_id: int | None = None
    region: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    owner_id: int | None = None
    team_id: int | None = None
    group_id: int | None = None
    tag_id: int | None = None
    source: str = Field("", max_length=20)
    status: str = Field("", max_length=10)
    lifecycle_stage: str = Field("", max_length=15)
    sort: str = Field("-pk", pattern="^-?(pk|name|updated_at|created_at)$")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(settings.API_PAGE_SIZE, ge=1, le=settings.API_MAX_PAGE_SIZE)
