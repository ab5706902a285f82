"""API shapes of the knowledge base, surveys and portal invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema


class CategoryIn(InputSchema):
    name_zh: str = Field("", max_length=80)
    name_en: str = Field("", max_length=80)
    position: int = Field(0, ge=0, le=32767)


class CategoryOut(Schema):
    id: int
    name_zh: str
    name_en: str
    position: int


class ArticleIn(InputSchema):
    title_zh: str = Field("", max_length=200)
    title_en: str = Field("", max_length=200)
    body_zh: str = Field("", max_length=100_000)
    body_en: str = Field("", max_length=100_000)
    category_id: int | None = None
    visibility: str = "internal"
    is_published: bool = True


class ArticlePatch(InputSchema):
    title_zh: str | None = Field(None, max_length=200)
    title_en: str | None = Field(None, max_length=200)
    body_zh: str | None = Field(None, max_length=100_000)
    body_en: str | None = Field(None, max_length=100_000)
    category_id: int | None = None
    visibility: str | None = None
    is_published: bool | None = None
    version: int


class ArticleOut(Schema):
    id: int
    category_id: int | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    visibility: str
    is_published: bool
    helpful_yes: int
    helpful_no: int
    version: int
    created_at: datetime
    updated_at: datetime


class SnippetOut(Schema):
    article_id: int
    language: str
    text: str


class VoteIn(InputSchema):
    helpful: bool


class VoteOut(Schema):
    counted: bool
    helpful_yes: int
    helpful_no: int


class QuestionIn(InputSchema):
    kind: str
    text: str = Field(max_length=300)
    text_en: str = Field("", max_length=300, description="The question for English readers.")
    choices: list[str] = Field(default_factory=list, max_length=20)
    is_required: bool = True
    is_overall: bool = False


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    text: str
    text_en: str
    choices: list[str]
    is_required: bool
    is_overall: bool


class SurveyIn(InputSchema):
    name: str = Field(max_length=120)
    kind: str
    intro: str = Field("", max_length=4000)
    link_days: int = Field(14, ge=1, le=365)
    interval_days: int | None = Field(None, ge=1, le=3650)
    target_tier_id: int | None = None
    questions: list[QuestionIn] | None = Field(None, max_length=50)


class SurveyOut(Schema):
    id: int
    name: str
    kind: str
    intro: str
    is_active: bool
    link_days: int
    interval_days: int | None
    target_tier_id: int | None
    questions: list[QuestionOut]


class InvitationIn(InputSchema):
    contact_id: int
    email: str = Field("", max_length=254)


class InvitationOut(Schema):
    id: int
    survey_id: int
    customer_id: int
    contact_id: int | None
    ticket_id: int | None
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None


class NpsOut(Schema):
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


class DriverOut(Schema):
    question_id: int
    text: str
    correlation: float
    beta: float | None
    responses: int


class ResultsOut(Schema):
    survey_id: int
    invited: int
    responses: int
    response_rate: float | None
    csat_percent: float | None
    nps: NpsOut | None
    trend: list[dict[str, Any]]
    drivers: list[DriverOut]
    method: str


class AnswerIn(InputSchema):
    answers: dict[str, str | int]


class AnswerOut(Schema):
    response_id: int
    score: int | None


class PortalInviteIn(InputSchema):
    contact_id: int
    email: str = Field("", max_length=254)


class PortalAccountOut(Schema):
    id: int
    contact_id: int
    customer_id: int
    is_active: bool
    last_login_at: datetime | None
