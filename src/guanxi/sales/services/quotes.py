"""Quotes: built from a deal's product lines, discount-checked against the customer's tier
policy (grading) and the author's role, approved by a manager when over the limit, accepted
into a commerce order with a payment plan whose instalments get reminder tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, LPad
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import DomainError, check_version
from guanxi.core.permissions import has_perm, require_perm
from guanxi.sales.models import (
    ZERO,
    Instalment,
    Opportunity,
    OpportunityStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
)

CENT = Decimal("0.01")
# A manager (sales.delete) may give this many points more than the tier allows without asking;
# an administrator (sales.admin) is not limited.
MANAGER_EXTRA_DISCOUNT = Decimal(10)
REMIND_DAYS_BEFORE = 3
DEFAULT_VALID_DAYS = 30
# The role whose holders approve quotes in their team and the teams below it.
SALES_MANAGER_ROLE = "sales-manager"


def discount_limit(*, actor: User, customer_id: int) -> Decimal:
    """The largest line discount (%) the actor may give this customer without approval."""
    from guanxi.grading.selectors import service_policy

    if has_perm(actor, "sales.admin"):
        return Decimal(100)
    tier = service_policy(customer_id=customer_id)
    limit = Decimal(tier.max_discount_percent) if tier is not None else ZERO
    if has_perm(actor, "sales.delete"):
        limit += MANAGER_EXTRA_DISCOUNT
    return min(limit, Decimal(100))


def _visible_quote(actor: User, pk: int) -> Quote:
    found = (
        Quote.objects.visible_to(actor)
        .select_for_update()
        .select_related("opportunity")
        .filter(pk=pk)
        .first()
    )
    if found is None or not has_perm(actor, "sales.view"):
        raise Http404
    return found


@transaction.atomic
def quote_create(
    *,
    actor: User,
    opportunity: Opportunity,
    valid_until: dt.date | None = None,
    notes: str = "",
) -> Quote:
    """A draft quote with the deal's current product lines and totals (sales.create)."""
    require_perm(actor, "sales.create")
    deal = Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk).first()
    if deal is None:
        raise Http404
    if deal.status != OpportunityStatus.OPEN:
        raise DomainError(_("Quote only an open deal."), field="opportunity")
    lines = list(deal.lines.select_related("product").order_by("pk"))
    if not lines:
        raise DomainError(_("Add products to the deal before quoting it."), field="lines")
    today = timezone.localdate()
    valid_until = valid_until or today + dt.timedelta(days=DEFAULT_VALID_DAYS)
    if valid_until < today:
        raise DomainError(_("A quote cannot expire in the past."), field="valid_until")
    subtotal = sum((line.quantity * line.unit_price for line in lines), ZERO)
    total = sum((line.amount for line in lines), ZERO)
    quote = Quote.objects.create(
        opportunity=deal,
        valid_until=valid_until,
        notes=notes.strip()[:5000],
        author=actor,
        subtotal=subtotal.quantize(CENT, ROUND_HALF_UP),
        total=total,
        discount_total=(subtotal - total).quantize(CENT, ROUND_HALF_UP),
        max_discount=max(line.discount for line in lines),
        discount_limit=discount_limit(actor=actor, customer_id=deal.customer_id),
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            product=line.product,
            description=str(line.product.name)[:200],
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            amount=line.amount,
        )
        for line in lines
    )
    Quote.objects.filter(pk=quote.pk).update(
        number=Concat(
            Value("QT"), LPad(Cast(F("pk"), CharField()), 8, Value("0")), output_field=CharField()
        )
    )
    quote.refresh_from_db(fields=["number"])
    events.publish_on_commit("quote.created", quote_id=quote.pk, opportunity_id=deal.pk)
    return quote


def _approvers_of(quote: Quote, author: User) -> list[User]:
    """Active users who may approve the quote: sales administrators and sales managers in
    the team of the quote's deal (the author's when the deal has none) or a team above it."""
    team = quote.opportunity.team or author.team
    if team is None:
        return []
    ancestors = [int(pk) for pk in team.path.strip("/").split("/") if pk] or [team.pk]
    candidates = (
        User.objects.filter(is_active=True, team_id__in=ancestors)
        .exclude(pk=author.pk)
        .select_related("role")
        .order_by("pk")
    )
    return [
        user
        for user in candidates
        if (user.role is not None and user.role.code == SALES_MANAGER_ROLE)
        or has_perm(user, "sales.admin")
    ]


@transaction.atomic
def quote_submit(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    """Within the discount limit a quote is approved at once; over it, it waits for a
    manager, who is notified. Publishes quote.submitted."""
    require_perm(actor, "sales.edit")
    quote = _visible_quote(actor, quote.pk)
    check_version(quote.version, version)
    if quote.status not in {QuoteStatus.DRAFT, QuoteStatus.REJECTED}:
        raise DomainError(_("Only a draft quote can be submitted."), field="status")
    quote.discount_limit = discount_limit(actor=actor, customer_id=quote.opportunity.customer_id)
    if quote.max_discount <= quote.discount_limit:
        quote.status = QuoteStatus.APPROVED
    else:
        quote.status = QuoteStatus.PENDING
        _notify_approvers(quote, actor)
    quote.bump_version()
    quote.save()
    events.publish_on_commit("quote.submitted", quote_id=quote.pk, status=quote.status)
    return quote


def _notify_approvers(quote: Quote, author: User) -> None:
    """An in-app notification and an email for each approver of a quote over the limit."""
    from guanxi.activities.services import notify

    deal = quote.opportunity
    for manager in _approvers_of(quote, author):
        notify(
            user=manager,
            title=_("Quote %(number)s needs your approval") % {"number": quote.number},
            body=_(
                "%(author)s quoted %(deal)s at %(total)s with a discount of %(discount)s %%, "
                "over the limit of %(limit)s %%."
            )
            % {
                "author": author.get_full_name() or author.username,
                "deal": deal.name,
                "total": quote.total,
                "discount": quote.max_discount,
                "limit": quote.discount_limit,
            },
            url=reverse("sales:quote", args=[quote.pk]),
            email=True,
        )


def _notify_author(quote: Quote, actor: User, approve: bool) -> None:
    """Tell the quote's author that a manager approved or rejected it (and why)."""
    from guanxi.activities.services import notify

    author = quote.author
    if author is None or author.pk == actor.pk or not author.is_active:
        return
    values = {"number": quote.number, "manager": actor.get_full_name() or actor.username}
    title = (
        _("Quote %(number)s was approved by %(manager)s")
        if approve
        else _("Quote %(number)s was rejected by %(manager)s")
    ) % values
    notify(
        user=author,
        title=title,
        body=quote.decision_comment,
        url=reverse("sales:quote", args=[quote.pk]),
        email=True,
    )


@transaction.atomic
def quote_decide(
    *, actor: User, quote: Quote, approve: bool, comment: str = "", version: int | None = None
) -> Quote:
    """A manager approves or rejects a quote awaiting approval, with a comment (required
    when rejecting). The author may not decide their own quote."""
    require_perm(actor, "sales.delete")
    quote = _visible_quote(actor, quote.pk)
    check_version(quote.version, version)
    if quote.status != QuoteStatus.PENDING:
        raise DomainError(_("This quote is not awaiting approval."), field="status")
    if quote.author_id == actor.pk and not has_perm(actor, "sales.admin"):
        raise PermissionDenied("approve own quote")
    comment = comment.strip()
    if not approve and not comment:
        raise DomainError(_("Say why the quote is rejected."), field="comment")
    if approve and quote.max_discount > discount_limit(
        actor=actor, customer_id=quote.opportunity.customer_id
    ):
        raise DomainError(_("The discount is over your own approval limit too."), field="comment")
    quote.status = QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED
    quote.decided_by = actor
    quote.decided_at = timezone.now()
    quote.decision_comment = comment[:500]
    quote.bump_version()
    quote.save()
    _notify_author(quote, actor, approve)
    events.publish_on_commit(
        "quote.approved" if approve else "quote.rejected", quote_id=quote.pk, actor_id=actor.pk
    )
    return quote


def _plan(
    quote: Quote, instalments: Iterable[dict[str, Any]]
) -> list[tuple[int, dt.date, Decimal]]:
    rows = []
    errors: list[dict[str, str]] = []
    for index, item in enumerate(instalments, start=1):
        try:
            due_on = item["due_on"]
            if not isinstance(due_on, dt.date):
                due_on = dt.date.fromisoformat(str(due_on))
            amount = Decimal(str(item["amount"])).quantize(CENT, ROUND_HALF_UP)
        except (KeyError, ValueError, ArithmeticError):
            errors.append(
                {"field": f"instalments[{index}]", "message": _("Give a due date and amount.")}
            )
            continue
        if amount <= 0:
            errors.append(
                {"field": f"instalments[{index}]", "message": _("An instalment is positive.")}
            )
        rows.append((index, due_on, amount))
    if rows and not errors and sum(r[2] for r in rows) != quote.total:
        errors.append(
            {
                "field": "instalments",
                "message": _("The instalments must add up to the quote total %(total)s.")
                % {"total": quote.total},
            }
        )
    if errors:
        raise DomainError(errors[0]["message"], field=errors[0]["field"], errors=errors)
    return rows


@transaction.atomic
def quote_accept(
    *,
    actor: User,
    quote: Quote,
    instalments: Iterable[dict[str, Any]] = (),
    version: int | None = None,
) -> Quote:
    """The customer accepted an approved quote: it becomes a commerce order; each instalment
    of the payment plan becomes an invoice for the order (due on its date, for its amount:
    payments recorded against it in commerce are the instalment's paid state and feed credit
    grading) and gets a reminder task for the deal's owner a few days before it is due.
    Publishes quote.accepted.

    Authorised by sales alone: whoever may edit the deal (sales.edit, the deal in their scope)
    may accept its quote, without commerce.create; the order and invoices are made by a
    trusted call to commerce (the customer must still be in the actor's scope)."""
    from guanxi.commerce.services import order_create
    from guanxi.sales.services.opportunities import editable_opportunity

    require_perm(actor, "sales.edit")
    quote = _visible_quote(actor, quote.pk)
    editable_opportunity(actor=actor, pk=quote.opportunity_id)
    check_version(quote.version, version)
    if quote.status != QuoteStatus.APPROVED:
        raise DomainError(_("Only an approved quote can be accepted."), field="status")
    if quote.valid_until < timezone.localdate():
        raise DomainError(_("This quote has expired."), field="valid_until")
    plan = _plan(quote, instalments)
    deal = quote.opportunity
    order = order_create(
        actor=actor,
        trusted=True,
        customer=deal.customer,
        values={"notes": f"{quote.number} · {deal.name}"[:500]},
        lines=[
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": (line.quantity * line.unit_price - line.amount).quantize(CENT),
            }
            for line in quote.lines.all()
        ],
    )
    rows = Instalment.objects.bulk_create(
        Instalment(quote=quote, sequence=sequence, due_on=due_on, amount=amount)
        for sequence, due_on, amount in plan
    )
    _invoice(actor, quote, order, rows)
    _remind(quote, deal, rows)
    quote.status = QuoteStatus.ACCEPTED
    quote.order = order
    quote.bump_version()
    quote.save()
    events.publish_on_commit(
        "quote.accepted", quote_id=quote.pk, order_id=order.pk, opportunity_id=deal.pk
    )
    return quote


def _invoice(actor: User, quote: Quote, order: Any, rows: list[Instalment]) -> None:
    """Each instalment becomes a commerce invoice for the order, due on the instalment's
    date for its amount (issued today, or on its due date when that is already past)."""
    from guanxi.commerce.services import invoice_create

    if not rows:
        return
    today = timezone.localdate()
    customer = quote.opportunity.customer
    for row in rows:
        row.invoice = invoice_create(
            actor=actor,
            trusted=True,
            customer=customer,
            order=order,
            values={
                "issued_on": min(today, row.due_on),
                "due_on": row.due_on,
                "amount": row.amount,
                "notes": _("Instalment %(n)s of %(count)s of quote %(number)s")
                % {"n": row.sequence, "count": len(rows), "number": quote.number},
            },
        )
    Instalment.objects.bulk_update(rows, ["invoice"])


def _remind(quote: Quote, deal: Opportunity, rows: list[Instalment]) -> None:
    """One reminder task per instalment for the deal's owner (activities domain)."""
    if not rows or deal.owner is None:
        return
    from guanxi.activities.services import task_create

    zone = timezone.get_current_timezone()
    for row in rows:
        due_at = dt.datetime.combine(row.due_on, dt.time(9, 0), tzinfo=zone)
        remind_at = due_at - dt.timedelta(days=REMIND_DAYS_BEFORE)
        task = task_create(
            actor=None,
            owner=deal.owner,
            title=_("Payment %(n)s of %(number)s due: %(amount)s")
            % {"n": row.sequence, "number": quote.number, "amount": row.amount},
            due_at=due_at,
            remind_at=remind_at if remind_at > timezone.now() else None,
            priority="high",
            customer=deal.customer,
            related=quote,
            source="opportunity",
        )
        row.reminder_task_id = task.pk
    Instalment.objects.bulk_update(rows, ["reminder_task_id"])


@transaction.atomic
def quote_decline(*, actor: User, quote: Quote, version: int | None = None) -> Quote:
    require_perm(actor, "sales.edit")
    quote = _visible_quote(actor, quote.pk)
    check_version(quote.version, version)
    if quote.status in {QuoteStatus.ACCEPTED, QuoteStatus.DECLINED}:
        raise DomainError(_("This quote is already settled."), field="status")
    quote.status = QuoteStatus.DECLINED
    quote.bump_version()
    quote.save()
    return quote
