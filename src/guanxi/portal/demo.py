"""Demo knowledge base and surveys: bilingual articles in three categories, a CSAT, an NPS
and an on-site-service questionnaire with six months of answers, so that the results pages
show rates, trends and a key-driver ranking."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import Customer, CustomerStatus
from guanxi.portal.models import (
    Answer,
    Article,
    ArticleCategory,
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from guanxi.portal.services import survey_create
from guanxi.portal.services.links import new_token

SEED = 20261127
CATEGORIES = [
    ("账户与登录", "Account and sign-in"),
    ("订单与发票", "Orders and invoices"),
    ("售后服务", "After-sales service"),
]
# (category index, zh title, en title, zh body, en body, visibility)
ARTICLES = [
    (
        0,
        "如何重置门户密码",
        "How to reset your portal password",
        "在登录页选择“通过邮件获取登录链接”，打开邮件中的链接后即可设置新密码。",
        "On the sign-in page choose 'Email me a link', open the link and set a new password.",
        "public",
    ),
    (
        1,
        "增值税发票开具时间",
        "When VAT invoices are issued",
        "付款到账后三个工作日内开具增值税专用发票，并通过邮件发送电子版。",
        "VAT invoices are issued within three working days of payment and emailed as PDF.",
        "public",
    ),
    (
        1,
        "修改发票抬头",
        "Changing the invoice title",
        "开票前可在工单中提供新的抬头和税号；已开具的发票需先红冲再重开。",
        "Send the new title and tax number in a ticket before issue; issued invoices are "
        "reversed and re-issued.",
        "public",
    ),
    (
        2,
        "设备保修范围",
        "What the warranty covers",
        "整机保修一年，核心部件保修三年；人为损坏不在保修范围内。",
        "One year on the whole unit and three years on core parts; accidental damage is "
        "not covered.",
        "public",
    ),
    (
        2,
        "投诉升级流程（内部）",
        "Complaint escalation (internal)",
        "重大投诉两小时内上报服务主管，并在二十四小时内回访客户。",
        "Report major complaints to the service manager within two hours and call the "
        "customer back within 24 hours.",
        "internal",
    ),
    (
        2,
        "上门服务预约话术（内部）",
        "Booking an on-site visit (internal)",
        "先确认设备型号和故障现象，再提供两个可选时间段。",
        "Confirm the model and the symptom first, then offer two time slots.",
        "internal",
    ),
]


def _answers(
    rng: random.Random, survey: Survey, customers: list[Customer], now: dt.datetime, count: int
) -> int:
    questions = list(survey.questions.all())
    invitations, responses, answers = [], [], []
    for index in range(count):
        sent = now - dt.timedelta(days=rng.randint(1, 180))
        invitations.append(
            SurveyInvitation(
                survey=survey,
                customer=customers[index % len(customers)],
                email="demo@example.com",
                token_hash=new_token()[1],
                sent_at=sent,
                expires_at=sent + dt.timedelta(days=survey.link_days),
            )
        )
    SurveyInvitation.objects.bulk_create(invitations, batch_size=500)
    for invitation in invitations:
        if rng.random() < 0.35:
            continue
        quality = rng.random()
        scores: dict[int, int] = {}
        overall = next((q for q in questions if q.is_overall), None)
        drivers = [q for q in questions if q.kind == QuestionKind.RATING and not q.is_overall]
        for question in drivers:
            scores[question.pk] = min(5, max(1, round(1 + rng.random() * 4)))
        if drivers:  # the first driver weighs most, so the ranking has a story to tell
            weights = [0.6, 0.3, 0.1][: len(drivers)]
            mixed = sum(w * scores[q.pk] for w, q in zip(weights, drivers, strict=False))
            quality = (mixed / sum(weights) - 1) / 4
        if overall is not None and overall.kind == QuestionKind.NPS:
            scores[overall.pk] = min(10, max(0, round(quality * 10 + rng.gauss(0, 1.2))))
        elif overall is not None:
            scores[overall.pk] = min(5, max(1, round(1 + quality * 4 + rng.gauss(0, 0.5))))
        invitation.answered_at = invitation.sent_at + dt.timedelta(hours=rng.randint(1, 72))
        response = SurveyResponse(
            invitation=invitation,
            survey=survey,
            customer=invitation.customer,
            score=scores.get(overall.pk) if overall else None,
            submitted_at=invitation.answered_at,
        )
        responses.append(response)
        answers.append((response, scores))
    SurveyInvitation.objects.bulk_update(
        [r.invitation for r in responses], ["answered_at"], batch_size=500
    )
    SurveyResponse.objects.bulk_create(responses, batch_size=500)
    Answer.objects.bulk_create(
        [
            Answer(response=response, question_id=question_id, rating=rating)
            for response, scores in answers
            for question_id, rating in scores.items()
        ],
        batch_size=1000,
    )
    return len(responses)


@transaction.atomic
def load(*, force: bool = False) -> list[str]:
    """Add the demo knowledge base and surveys once; idempotent."""
    if Article.objects.exists() or Survey.objects.exists():
        return ["Demo knowledge base and surveys: already there."]
    categories = [
        ArticleCategory.objects.create(name_zh=zh, name_en=en, position=i)
        for i, (zh, en) in enumerate(CATEGORIES)
    ]
    Article.objects.bulk_create(
        [
            Article(
                category=categories[c],
                title_zh=tz,
                title_en=te,
                body_zh=bz,
                body_en=be,
                visibility=visibility,
            )
            for c, tz, te, bz, be, visibility in ARTICLES
        ]
    )
    csat = survey_create(actor=None, name="服务满意度 Service CSAT", kind="csat")
    nps = survey_create(actor=None, name="季度 NPS Quarterly NPS", kind="nps", interval_days=90)
    onsite = survey_create(
        actor=None,
        name="上门服务评价 On-site service",
        kind="custom",
        questions=[
            {
                "kind": "rating",
                "text": "总体满意度",
                "text_en": "Overall satisfaction",
                "is_overall": True,
            },
            {"kind": "rating", "text": "工程师准时到达", "text_en": "Engineer on time"},
            {"kind": "rating", "text": "一次修复", "text_en": "Fixed first time"},
            {"kind": "rating", "text": "服务态度", "text_en": "Courtesy"},
            {
                "kind": "choice",
                "text": "预约方式",
                "text_en": "How you booked",
                "choices": ["电话 Phone", "门户 Portal", "微信 WeChat"],
                "is_required": False,
            },
            {"kind": "text", "text": "建议", "text_en": "Suggestions", "is_required": False},
        ],
    )
    customers = list(Customer.objects.exclude(status=CustomerStatus.MERGED).order_by("pk")[:200])
    if not customers:
        return [f"Demo knowledge base: {len(ARTICLES)} articles; no customers for surveys."]
    rng = random.Random(SEED)  # noqa: S311  # demo data, not a secret
    now = timezone.now()
    answered = sum(
        _answers(rng, survey, customers, now, count)
        for survey, count in ((csat, 120), (nps, 150), (onsite, 80))
    )
    return [f"Demo knowledge base: {len(ARTICLES)} articles; surveys: 3 with {answered} answers."]
