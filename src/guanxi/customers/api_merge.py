"""Duplicates and merge API: a customer's likely twins, the group scan, the merge command.

Registered before the customers router, so that `/customers/duplicate-groups` and
`/customers/merge` can never be taken for a `/customers/{customer_id}` path.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from guanxi.accounts.auth import api_actor
from guanxi.core.schemas import InputSchema
from guanxi.customers import selectors
from guanxi.customers.api import detail
from guanxi.customers.duplicates import duplicate_candidates, duplicate_groups
from guanxi.customers.merge import MAX_OTHERS, customer_merge, merge_customers_get
from guanxi.customers.schemas import CustomerDetailOut, CustomerOut

router = Router(tags=["customers"])


class CandidateOut(Schema):
    customer: CustomerOut
    score: int = Field(description="0–100: how sure the match is")
    reasons: list[str] = Field(
        description="id_number, credit_code, phone, email, same_name, similar_name"
    )
    similarity: float | None = Field(None, description="name similarity for similar_name")


class GroupMemberOut(Schema):
    id: int
    code: str | None
    name: str


class DuplicateGroupOut(Schema):
    reason: str
    size: int = Field(description="how many visible live customers share the key")
    customers: list[GroupMemberOut] = Field(description="the first 11 by id")


class MergeIn(InputSchema):
    survivor_id: int
    other_ids: list[int] = Field(min_length=1, max_length=MAX_OTHERS)
    choices: dict[str, int] = Field(
        default_factory=dict,
        description='field (or "custom.<key>") → id of the customer whose value survives',
    )
    reason: str = Field("", max_length=500)
    versions: dict[int, int] | None = Field(
        None, description="customer id → the version you read; a changed customer is refused"
    )


@router.get(
    "/customers/duplicate-groups",
    response=list[DuplicateGroupOut],
    summary="Scan the visible customers for groups sharing an ID number, credit code, "
    "phone, email or name",
)
def list_duplicate_groups(request: HttpRequest, limit: int = 100) -> list[DuplicateGroupOut]:
    groups = duplicate_groups(actor=api_actor(request), limit=max(1, min(limit, 500)))
    return [
        DuplicateGroupOut(
            reason=group.reason,
            size=group.size,
            customers=[
                GroupMemberOut(id=customer.pk, code=customer.code, name=customer.name)
                for customer in group.customers
            ],
        )
        for group in groups
    ]


@router.get(
    "/customers/{int:customer_id}/duplicates",
    response=list[CandidateOut],
    summary="Likely duplicates of one customer, surest first",
)
def list_duplicates(request: HttpRequest, customer_id: int, limit: int = 20) -> list[CandidateOut]:
    actor = api_actor(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    return [
        CandidateOut(
            customer=CustomerOut.from_customer(candidate.customer),
            score=candidate.score,
            reasons=candidate.reasons,
            similarity=candidate.similarity,
        )
        for candidate in duplicate_candidates(
            actor=actor, customer=customer, limit=max(1, min(limit, 100))
        )
    ]


@router.post(
    "/customers/merge",
    response=CustomerDetailOut,
    summary="Merge up to ten customers into a survivor; their records move to it",
)
def merge_customers(request: HttpRequest, payload: MergeIn) -> CustomerDetailOut:
    actor = api_actor(request)
    survivor, *others = merge_customers_get(
        actor=actor, ids=[payload.survivor_id, *payload.other_ids]
    )
    merged = customer_merge(
        actor=actor,
        survivor=survivor,
        others=others,
        choices=payload.choices,
        reason=payload.reason,
        versions=payload.versions,
    )
    return detail(actor, merged.pk)
