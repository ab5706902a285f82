"""Survey commands: create surveys, send invitations (CSAT after a resolved ticket, NPS on a
schedule, by hand), take one answer per link, raise follow-ups for unhappy customers."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.core.permissions import require_perm
from guanxi.customers.models import Contact, ContactMethod, ContactMethodKind, Customer
from guanxi.portal.models import (
    Answer,
    Question,
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from guanxi.portal.services.links import new_token, public_url, token_hash

logger = logging.getLogger(__name__)

LOW_CSAT = 2  # 1–2 of 5 is "dissatisfied": a follow-up task for the owner
DETRACTOR = 6  # 0–6 of 10


class LinkRefused(DomainError):
    status = 404
    code = "link-invalid"


class LinkExpired(LinkRefused):
    status = 410
    code = "link-expired"


class LinkUsed(LinkRefused):
    status = 409
    code = "link-used"


def _default_questions(kind: str) -> list[dict[str, Any]]:
    """The standard questions, each in Chinese and in English."""
    with translation.override("zh-hans"):
        chinese = _standard_questions(kind)
    with translation.override("en"):
        english = _standard_questions(kind)
    return [{**row, "text_en": other["text"]} for row, other in zip(chinese, english, strict=True)]


def _standard_questions(kind: str) -> list[dict[str, Any]]:
    if kind == SurveyKind.NPS:
        return [
            {
                "kind": QuestionKind.NPS,
                "text": _("How likely are you to recommend us to a friend or colleague?"),
                "is_overall": True,
            },
            {
                "kind": QuestionKind.TEXT,
                "text": _("What is the main reason for your score?"),
                "is_required": False,
            },
        ]
    return [
        {
            "kind": QuestionKind.RATING,
            "text": _("How satisfied are you with how we handled your request?"),
            "is_overall": True,
        },
        {
            "kind": QuestionKind.TEXT,
            "text": _("Anything we could do better?"),
            "is_required": False,
        },
    ]


@transaction.atomic
def survey_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    questions: list[dict[str, Any]] | None = None,
    intro: str = "",
    link_days: int = 14,
    interval_days: int | None = None,
    target_tier_id: int | None = None,
) -> Survey:
    """Create a survey and its questions (CSAT and NPS get standard ones when none given).

    Exactly one rating/NPS question is the overall score; without a mark the first is.
    """
    if actor is not None:
        require_perm(actor, "service.create")
    if kind not in SurveyKind.values:
        raise DomainError(_("Choose one of the allowed values."), field="kind")
    if not name.strip():
        raise DomainError(_("This field is required."), field="name")
    if not 1 <= link_days <= 365:
        raise DomainError(_("A link lasts between 1 and 365 days."), field="link_days")
    rows = questions or _default_questions(kind)
    built: list[Question] = []
    errors = []
    for index, row in enumerate(rows):
        question_kind = str(row.get("kind", ""))
        text = str(row.get("text", "")).strip()
        text_en = str(row.get("text_en", "") or "").strip()
        choices = [
            str(choice).strip() for choice in row.get("choices") or [] if str(choice).strip()
        ]
        if question_kind not in QuestionKind.values:
            errors.append(
                {
                    "field": f"questions.{index}.kind",
                    "message": _("Choose one of the allowed values."),
                }
            )
        if not text:
            errors.append(
                {"field": f"questions.{index}.text", "message": _("This field is required.")}
            )
        if question_kind == QuestionKind.CHOICE and len(choices) < 2:
            errors.append(
                {
                    "field": f"questions.{index}.choices",
                    "message": _("A choice question needs at least two choices."),
                }
            )
        built.append(
            Question(
                position=index,
                kind=question_kind,
                text=text[:300],
                text_en=text_en[:300],
                choices=choices,
                is_required=bool(row.get("is_required", True)),
                is_overall=bool(row.get("is_overall", False)),
            )
        )
    scored = [q for q in built if q.kind in {QuestionKind.RATING, QuestionKind.NPS}]
    if not errors and sum(q.is_overall for q in built) > 1:
        errors.append({"field": "questions", "message": _("Mark one overall question only.")})
    if not errors and any(q.is_overall and q not in scored for q in built):
        errors.append(
            {"field": "questions", "message": _("The overall question must be a rating.")}
        )
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    if scored and not any(q.is_overall for q in built):
        scored[0].is_overall = True
    survey = Survey.objects.create(
        name=name.strip()[:120],
        kind=kind,
        intro=intro.strip(),
        link_days=link_days,
        interval_days=interval_days,
        target_tier_id=target_tier_id,
    )
    for question in built:
        question.survey = survey
    Question.objects.bulk_create(built)
    return survey


def survey_set_active(*, actor: User, survey: Survey, active: bool) -> Survey:
    require_perm(actor, "service.edit")
    survey.is_active = active
    survey.save(update_fields=["is_active", "updated_at"])
    return survey


# --- invitations ------------------------------------------------------------------------------


def contact_emails(contact_ids: Iterable[int]) -> dict[int, str]:
    """Each contact's first email address (decrypted), in one query."""
    found: dict[int, str] = {}
    ids = list(contact_ids)
    for start in range(0, len(ids), 500):
        rows = ContactMethod.objects.filter(
            contact_id__in=ids[start : start + 500], kind=ContactMethodKind.EMAIL
        ).order_by("contact_id", "pk")
        for method in rows:
            found.setdefault(method.contact_id, method.value)
    return found


def _message(survey: Survey, email: str, token: str, expires_at: dt.datetime) -> EmailMessage:
    link = public_url("portal:survey-answer", token)
    subject = _("Tell us how we did: %(survey)s") % {"survey": survey.name}
    lines = [
        survey.intro or _("Thank you for being our customer. It takes a minute."),
        "",
        link,
        "",
        _("The link works once and expires on %(date)s.")
        % {"date": timezone.localtime(expires_at).date().isoformat()},
    ]
    return EmailMessage(subject=subject, body="\n".join(lines), to=[email])


def invitations_send(
    survey: Survey,
    recipients: list[tuple[Customer, Contact | None, str, int | None]],
    *,
    now: dt.datetime | None = None,
) -> list[SurveyInvitation]:
    """Create one invitation per (customer, contact, email, ticket_id) and mail its link.

    The invitations are written in one statement and the mails go out over one connection
    after commit; a recipient without an address is skipped.
    """
    now = now or timezone.now()
    expires_at = now + dt.timedelta(days=survey.link_days)
    invitations, messages = [], []
    with translation.override(translation.get_language() or "en"):
        for customer, contact, email, ticket_id in recipients:
            if not email:
                continue
            token, hashed = new_token()
            invitations.append(
                SurveyInvitation(
                    survey=survey,
                    customer=customer,
                    contact=contact,
                    email=email,
                    ticket_id=ticket_id,
                    token_hash=hashed,
                    sent_at=now,
                    expires_at=expires_at,
                )
            )
            messages.append(_message(survey, email, token, expires_at))
    with transaction.atomic():
        SurveyInvitation.objects.bulk_create(invitations, batch_size=500)
        transaction.on_commit(lambda: _deliver(messages))
    return invitations


def _deliver(messages: list[EmailMessage]) -> None:
    if not messages:
        return
    try:
        get_connection().send_messages(messages)
    except OSError:  # the invitations stand; a resend is a new invitation
        logger.exception("survey invitations could not be mailed")


def survey_send(
    *, actor: User, survey: Survey, contact: Contact, email: str = ""
) -> SurveyInvitation:
    """Send one invitation by hand to a contact the actor can see (needs service.create)."""
    require_perm(actor, "service.create")
    if not Contact.objects.visible_to(actor).filter(pk=contact.pk).exists():
        raise DomainError(_("No such record."), field="contact_id")
    address = email.strip() or contact_emails([contact.pk]).get(contact.pk, "")
    if not address:
        raise DomainError(_("The contact has no email address."), field="contact_id")
    return invitations_send(survey, [(contact.customer, contact, address, None)])[0]


def csat_for_ticket(*, ticket_id: int) -> SurveyInvitation | None:
    """Invite the resolved ticket's contact to the active CSAT survey (once per ticket)."""
    from guanxi.service.models import Ticket  # the service domain: read only

    survey = Survey.objects.filter(kind=SurveyKind.CSAT, is_active=True).order_by("pk").first()
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=ticket_id).first()
    if survey is None or ticket is None or ticket.contact is None:
        return None
    if SurveyInvitation.objects.filter(survey=survey, ticket_id=ticket_id).exists():
        return None
    email = contact_emails([ticket.contact.pk]).get(ticket.contact.pk, "")
    sent = invitations_send(survey, [(ticket.customer, ticket.contact, email, ticket_id)])
    return sent[0] if sent else None


def nps_send_due(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Send every due NPS survey to the customers of its tier not asked within its interval.

    Customers are chosen in one query (tier membership and "asked lately" as EXISTS
    conditions); each gets its primary (else first) contact with an email address.
    """
    from guanxi.grading.models import CustomerGrade

    now = now or timezone.now()
    sent = 0
    due = Survey.objects.filter(kind=SurveyKind.NPS, is_active=True, interval_days__gt=0)
    for survey in due:
        interval = dt.timedelta(days=survey.interval_days or 0)
        if survey.last_run_at is not None and survey.last_run_at + interval > now:
            continue
        recent = SurveyInvitation.objects.filter(
            survey=survey, customer=OuterRef("customer_id"), sent_at__gt=now - interval
        )
        contacts = Contact.objects.filter(
            Exists(
                ContactMethod.objects.filter(contact=OuterRef("pk"), kind=ContactMethodKind.EMAIL)
            ),
            ~Exists(recent),
            customer__merged_into__isnull=True,
        )
        if survey.target_tier_id is not None:
            contacts = contacts.filter(
                Exists(
                    CustomerGrade.objects.filter(
                        customer=OuterRef("customer_id"), tier_id=survey.target_tier_id
                    )
                )
            )
        chosen: dict[int, Contact] = {}
        for contact in contacts.select_related("customer").order_by(
            "customer_id", "-is_primary", "pk"
        )[: limit * 3]:
            chosen.setdefault(contact.customer_id, contact)
        picked = list(chosen.values())[:limit]
        emails = contact_emails(c.pk for c in picked)
        invitations = invitations_send(
            survey, [(c.customer, c, emails.get(c.pk, ""), None) for c in picked], now=now
        )
        Survey.objects.filter(pk=survey.pk).update(last_run_at=now)
        sent += len(invitations)
    return sent


# --- answering --------------------------------------------------------------------------------


def invitation_resolve(token: str, *, now: dt.datetime | None = None) -> SurveyInvitation:
    """The invitation behind a link; refused when forged, expired or already answered."""
    invitation = (
        SurveyInvitation.objects.select_related("survey", "customer")
        .filter(token_hash=token_hash(token))
        .first()
    )
    return invitation_check(invitation, now=now)


def invitation_check(
    invitation: SurveyInvitation | None, *, now: dt.datetime | None = None
) -> SurveyInvitation:
    if invitation is None:
        raise LinkRefused(_("This survey link is not valid."))
    if invitation.answered_at is not None:
        raise LinkUsed(_("This survey has already been answered. Thank you!"))
    if invitation.expires_at <= (now or timezone.now()):
        raise LinkExpired(_("This survey link has expired."))
    return invitation


def _clean_answers(
    questions: list[Question], data: dict[str, Any]
) -> tuple[list[Answer], int | None]:
    answers, errors, score = [], [], None
    for question in questions:
        key = f"q{question.pk}"
        raw = data.get(key)
        value = "" if raw is None else str(raw).strip()
        if not value:
            if question.is_required:
                errors.append({"field": key, "message": _("Please answer this question.")})
            continue
        answer = Answer(question=question)
        if question.kind in {QuestionKind.RATING, QuestionKind.NPS}:
            if not value.lstrip("-").isdigit() or int(value) not in question.scale:
                errors.append({"field": key, "message": _("Choose a score on the scale.")})
                continue
            answer.rating = int(value)
            if question.is_overall:
                score = answer.rating
        elif question.kind == QuestionKind.CHOICE:
            if value not in question.choices:
                errors.append({"field": key, "message": _("Choose one of the allowed values.")})
                continue
            answer.choice = value
        else:
            answer.text = value[:4000]
        answers.append(answer)
    if errors:
        raise DomainError(errors[0]["message"], errors=errors)
    return answers, score


def survey_answer(
    *, invitation: SurveyInvitation, data: dict[str, Any], now: dt.datetime | None = None
) -> SurveyResponse:
    """Record the one answer to an invitation; publishes survey.answered.

    The invitation row is locked and re-checked, so two submissions of the same link cannot
    both count. A detractor (NPS 0–6) or a low CSAT (1–2) gives the customer's owner a
    follow-up task.
    """
    now = now or timezone.now()
    questions = list(invitation.survey.questions.all())
    answers, score = _clean_answers(questions, data)
    with transaction.atomic():
        locked = (
            SurveyInvitation.objects.select_for_update()
            .select_related("survey", "customer")
            .filter(pk=invitation.pk)
            .first()
        )
        locked = invitation_check(locked, now=now)
        claimed = SurveyInvitation.objects.filter(pk=locked.pk, answered_at__isnull=True).update(
            answered_at=now
        )
        if not claimed:
            raise LinkUsed(_("This survey has already been answered. Thank you!"))
        response = SurveyResponse.objects.create(
            invitation=locked,
            survey=locked.survey,
            customer=locked.customer,
            score=score,
            submitted_at=now,
        )
        for answer in answers:
            answer.response = response
        Answer.objects.bulk_create(answers)
        if _is_unhappy(locked.survey, score):
            transaction.on_commit(lambda: _follow_up(response.pk), robust=True)
        events.publish_on_commit(
            "survey.answered",
            survey_id=locked.survey_id,
            response_id=response.pk,
            customer_id=locked.customer_id,
            ticket_id=locked.ticket_id,
            score=score,
        )
    return response


def _is_unhappy(survey: Survey, score: int | None) -> bool:
    if score is None:
        return False
    overall = survey.questions.filter(is_overall=True).values_list("kind", flat=True).first()
    if overall == QuestionKind.NPS:
        return score <= DETRACTOR
    return score <= LOW_CSAT


def _follow_up(response_id: int) -> None:
    """A task for the customer's owner to call back an unhappy customer."""
    response = (
        SurveyResponse.objects.select_related("customer__owner", "survey", "invitation")
        .filter(pk=response_id)
        .first()
    )
    if response is None or response.customer.owner is None:
        return
    try:
        from guanxi.activities.services import task_create
    except ImportError:  # the activities domain is not built in this installation
        logger.warning("no activities domain: survey follow-up for %s not created", response_id)
        return
    task_create(
        actor=None,
        owner=response.customer.owner,
        title=_("Follow up an unhappy customer: %(customer)s scored %(score)s in %(survey)s")
        % {
            "customer": response.customer.name,
            "score": response.score,
            "survey": response.survey.name,
        },
        priority="high",
        customer=response.customer,
        related=response,
        description=_("Call the customer, listen, and log what was agreed."),
        source="ticket" if response.invitation.ticket_id else "other",
        due_at=timezone.now() + dt.timedelta(days=1),
    )


def pending_for_customer(customer_id: int) -> Q:
    """Open (unanswered, unexpired) invitations of one customer, as a filter."""
    return Q(customer_id=customer_id, answered_at__isnull=True, expires_at__gt=timezone.now())
