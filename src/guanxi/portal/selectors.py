"""Portal queries: knowledge-base lists and search, the article snippet for a reply,
survey results (response rate, CSAT %, NPS, monthly trend, key drivers) and the portal's
own-organisation views of tickets and surveys.

Knowledge-base search is a scoped LIKE over the four text columns: a knowledge base holds
hundreds to a few thousand articles, where a scan takes well under the page's budget on both
databases, and LIKE finds 1- and 2-character Chinese terms that trigram indexes cannot (see
docs/architecture-notes.md, "Search"). Every whitespace-separated term must match (AND), in
either language (OR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core.permissions import require_perm
from guanxi.core.scoping import scope_q
from guanxi.portal.models import (
    Answer,
    Article,
    ArticleCategory,
    PortalAccount,
    Question,
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyResponse,
    Visibility,
)

SEARCH_COLUMNS = ("title_zh", "title_en", "body_zh", "body_en")
MAX_TERMS = 5

# --- knowledge base ---------------------------------------------------------------------------


def search_condition(q: str) -> Q:
    """Every term (up to five) in any of the four text columns."""
    condition = Q()
    for term in q.split()[:MAX_TERMS]:
        term_q = Q()
        for column in SEARCH_COLUMNS:
            term_q |= Q(**{f"{column}__icontains": term[:50]})
        condition &= term_q
    return condition


def category_list() -> QuerySet[ArticleCategory]:
    return ArticleCategory.objects.order_by("position", "pk")


def article_list(
    *, actor: User, q: str = "", category_id: int | None = None, published_only: bool = False
) -> QuerySet[Article]:
    """Every article (internal and public, drafts too unless `published_only`) for staff
    with service.view."""
    require_perm(actor, "service.view")
    articles = Article.objects.select_related("category")
    if published_only:
        articles = articles.filter(is_published=True)
    if q.strip():
        articles = articles.filter(search_condition(q))
    if category_id:
        articles = articles.filter(category_id=category_id)
    return articles.order_by("-pk")


def article_get(*, actor: User, pk: int) -> Article:
    require_perm(actor, "service.view")
    return get_object_or_404(Article.objects.select_related("category"), pk=pk)


def public_article_list(*, q: str = "", category_id: int | None = None) -> QuerySet[Article]:
    """Published public articles: what the portal (and anyone) may read."""
    articles = Article.objects.select_related("category").filter(
        visibility=Visibility.PUBLIC, is_published=True
    )
    if q.strip():
        articles = articles.filter(search_condition(q))
    if category_id:
        articles = articles.filter(category_id=category_id)
    return articles.order_by("-helpful_yes", "-pk")


def public_article_get(*, pk: int) -> Article:
    """A published public article; an internal or unpublished one is a 404."""
    return get_object_or_404(public_article_list(), pk=pk)


def article_snippet(actor: User, article_id: int, language: str) -> str:
    """The article as plain text for an agent's reply box, in the language asked for (the
    other one when that is empty): the title, a blank line, the body."""
    article = article_get(actor=actor, pk=article_id)
    return f"{article.title_in(language)}\n\n{article.body_in(language)}".strip()


# --- survey results ---------------------------------------------------------------------------


@dataclass
class NpsBreakdown:
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> float | None:
        """%promoters − %detractors, −100…100, one decimal; None without responses."""
        if not self.responses:
            return None
        return round(100.0 * (self.promoters - self.detractors) / self.responses, 1)


def nps_of(scores: list[int]) -> NpsBreakdown:
    """NPS arithmetic on 0–10 scores: promoters 9–10, passives 7–8, detractors 0–6."""
    return NpsBreakdown(
        responses=len(scores),
        promoters=sum(1 for s in scores if s >= 9),
        passives=sum(1 for s in scores if 7 <= s <= 8),
        detractors=sum(1 for s in scores if s <= 6),
    )


def csat_of(scores: list[int]) -> float | None:
    """Share of 4–5 answers among 1–5 scores, in percent with one decimal."""
    if not scores:
        return None
    return round(100.0 * sum(1 for s in scores if s >= 4) / len(scores), 1)


@dataclass
class Driver:
    question_id: int
    text: str
    correlation: float
    beta: float | None
    responses: int


def key_drivers(rows: list[list[float]], overall: list[float]) -> list[tuple[int, float, float]]:
    """Rank drivers (columns of `rows`) by how strongly they move the overall score.

    Returns (column, Pearson r, standardised regression beta) sorted by r, strongest first.
    Pearson r says how closely each driver moves with the overall score on its own; the
    beta (least squares on z-scores of all drivers together) says what each adds with the
    others held fixed. Columns that never vary get r = 0.
    """
    x = np.asarray(rows, dtype=float)
    y = np.asarray(overall, dtype=float)
    if x.ndim != 2 or x.shape[0] < 3 or x.shape[1] == 0 or float(np.std(y)) == 0.0:
        return []
    std = x.std(axis=0)
    varying = std > 0
    z = np.zeros_like(x)
    z[:, varying] = (x[:, varying] - x[:, varying].mean(axis=0)) / std[varying]
    zy = (y - y.mean()) / y.std()
    correlations = (z * zy[:, None]).mean(axis=0)
    betas, *_ = np.linalg.lstsq(z[:, varying], zy, rcond=None)
    beta_of = np.zeros(x.shape[1])
    beta_of[varying] = betas
    ranked = [
        (column, round(float(correlations[column]), 3), round(float(beta_of[column]), 3))
        for column in range(x.shape[1])
    ]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def survey_list(*, actor: User) -> QuerySet[Survey]:
    require_perm(actor, "service.view")
    return Survey.objects.annotate(
        invited=Count("invitations", distinct=True), answered=Count("responses", distinct=True)
    ).order_by("-pk")


def survey_get(*, actor: User, pk: int) -> Survey:
    require_perm(actor, "service.view")
    return get_object_or_404(Survey, pk=pk)


@dataclass
class SurveyResults:
    survey: Survey
    invited: int
    responses: int
    overall_kind: str | None
    csat: float | None = None
    nps: NpsBreakdown | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return round(100.0 * self.responses / self.invited, 1) if self.invited else None


def _bucket_counts(responses: QuerySet[SurveyResponse], nps: bool) -> dict[str, Any]:
    if nps:
        return {
            "n": Count("pk", filter=Q(score__isnull=False)),
            "high": Count("pk", filter=Q(score__gte=9)),
            "mid": Count("pk", filter=Q(score__gte=7, score__lte=8)),
            "low": Count("pk", filter=Q(score__lte=6)),
        }
    return {
        "n": Count("pk", filter=Q(score__isnull=False)),
        "high": Count("pk", filter=Q(score__gte=4)),
        "mid": Count("pk", filter=Q(score=3)),
        "low": Count("pk", filter=Q(score__lte=2)),
    }


def _measure(counts: dict[str, Any], nps: bool) -> tuple[float | None, NpsBreakdown | None]:
    n = int(counts["n"] or 0)
    if nps:
        return None, NpsBreakdown(n, int(counts["high"]), int(counts["mid"]), int(counts["low"]))
    return (round(100.0 * int(counts["high"]) / n, 1) if n else None), None


def survey_results(*, actor: User, survey: Survey) -> SurveyResults:
    """Response rate, CSAT % or NPS, the monthly trend and the key drivers over the
    customers in the actor's data scope, all counted in the database (one aggregate each);
    only the drivers' answer matrix is read into numpy."""
    require_perm(actor, "service.view")
    scope = scope_q(actor, owner_field="customer__owner", team_field="customer__team")
    if scope is None:
        scope = Q(pk__in=[])
    overall_kind = survey.questions.filter(is_overall=True).values_list("kind", flat=True).first()
    is_nps = overall_kind == QuestionKind.NPS
    responses = SurveyResponse.objects.filter(scope, survey=survey)
    results = SurveyResults(
        survey=survey,
        invited=SurveyInvitation.objects.filter(scope, survey=survey).count(),
        responses=responses.count(),
        overall_kind=overall_kind,
    )
    buckets = _bucket_counts(responses, is_nps)
    results.csat, results.nps = _measure(responses.aggregate(**buckets), is_nps)
    monthly = (
        responses.annotate(month=TruncMonth("submitted_at", tzinfo=timezone.get_current_timezone()))
        .values("month")
        .annotate(**buckets)
        .order_by("month")
    )
    for row in monthly:
        csat, nps = _measure(row, is_nps)
        results.trend.append(
            {
                "month": row["month"].strftime("%Y-%m") if row["month"] else "",
                "responses": row["n"],
                "value": nps.score if nps is not None else csat,
            }
        )
    results.drivers = survey_drivers(survey, scope=scope)
    return results


def survey_drivers(survey: Survey, *, scope: Q | None = None) -> list[Driver]:
    """The key-driver ranking over responses that answered the overall and every driver
    (limited by `scope`, a condition on the response's customer, when given)."""
    questions = list(
        survey.questions.filter(kind__in=[QuestionKind.RATING, QuestionKind.NPS]).order_by(
            "position", "pk"
        )
    )
    overall = next((q for q in questions if q.is_overall), None)
    drivers = [q for q in questions if not q.is_overall]
    if overall is None or not drivers:
        return []
    column = {q.pk: index for index, q in enumerate(drivers)}
    matrix: dict[int, list[float]] = {}
    scores: dict[int, float] = {}
    responses = SurveyResponse.objects.filter(scope or Q(), survey=survey).values("pk")
    answers = Answer.objects.filter(
        response__in=responses, question__in=questions, rating__isnull=False
    ).values_list("response_id", "question_id", "rating")
    for response_id, question_id, rating in answers.iterator(chunk_size=5000):
        if question_id == overall.pk:
            scores[response_id] = float(rating or 0)
        else:
            row = matrix.setdefault(response_id, [math.nan] * len(drivers))
            row[column[question_id]] = float(rating or 0)
    complete = [
        rid for rid, row in matrix.items() if rid in scores and not any(map(math.isnan, row))
    ]
    ranked = key_drivers([matrix[rid] for rid in complete], [scores[rid] for rid in complete])
    return [
        Driver(drivers[index].pk, drivers[index].shown, r, beta, len(complete))
        for index, r, beta in ranked
    ]


def survey_questions(survey: Survey) -> list[Question]:
    return list(survey.questions.order_by("position", "pk"))


# --- the portal: one organisation's records ----------------------------------------------------


def portal_tickets(account: PortalAccount) -> QuerySet[Any]:
    """The tickets of the account's own organisation, newest first."""
    from guanxi.service.models import Ticket

    return Ticket.objects.filter(customer_id=account.customer_id).order_by("-pk")


def portal_ticket_get(account: PortalAccount, pk: int) -> Any:
    """One of the organisation's tickets; any other id is a 404."""
    ticket = portal_tickets(account).filter(pk=pk).first()
    if ticket is None:
        raise Http404(_("No such record."))
    return ticket


def portal_ticket_messages(ticket: Any) -> list[Any]:
    """The public conversation of a ticket: internal notes never leave the staff side."""
    from guanxi.service.models import TicketMessage

    return list(
        TicketMessage.objects.filter(ticket=ticket, internal=False)
        .select_related("author_user", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def _portal_files() -> Q:
    """The files a contact sees on their ticket: those on public messages, and those on the
    ticket itself that no agent added (sent by the contact, on the portal or by mail)."""
    return Q(message__internal=False) | Q(message__isnull=True, uploaded_by__isnull=True)


def portal_ticket_files(ticket: Any) -> list[Any]:
    """The files the contact sent with the ticket itself (not with a message)."""
    return list(ticket.attachments.filter(_portal_files(), message__isnull=True))


def portal_attachment_get(account: PortalAccount, ticket_pk: int, pk: int) -> Any:
    """A file the contact may see on one of the organisation's tickets; else a 404."""
    ticket = portal_ticket_get(account, ticket_pk)
    found = ticket.attachments.filter(_portal_files(), pk=pk).first()
    if found is None:
        raise Http404(_("No such record."))
    return found


def portal_surveys(account: PortalAccount) -> QuerySet[SurveyInvitation]:
    """The organisation's survey invitations still open for an answer."""
    return (
        SurveyInvitation.objects.select_related("survey")
        .filter(
            customer_id=account.customer_id,
            answered_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-sent_at")
    )


def portal_survey_get(account: PortalAccount, pk: int) -> SurveyInvitation:
    invitation = (
        SurveyInvitation.objects.select_related("survey", "customer")
        .filter(pk=pk, customer_id=account.customer_id)
        .first()
    )
    if invitation is None:
        raise Http404(_("No such record."))
    return invitation


# --- the customer 360 panel -------------------------------------------------------------------


@dataclass
class CustomerSatisfaction:
    customer: Any
    responses: list[SurveyResponse]
    contacts: list[Any]
    accounts: dict[int, PortalAccount]


def customer_satisfaction(
    *, actor: User, customer_id: int, limit: int = 10
) -> CustomerSatisfaction:
    """A visible customer's latest survey answers and its contacts' portal accounts (a
    foreign customer is a 404)."""
    from guanxi.customers.selectors import customer_contacts, customer_get

    require_perm(actor, "service.view")
    customer = customer_get(actor=actor, pk=customer_id)
    responses = list(
        SurveyResponse.objects.filter(customer=customer)
        .select_related("survey")
        .order_by("-submitted_at", "-pk")[:limit]
    )
    accounts = {a.contact_id: a for a in PortalAccount.objects.filter(customer=customer)}
    return CustomerSatisfaction(customer, responses, customer_contacts(customer=customer), accounts)
