"""Portal, surveys and knowledge base API: articles and categories, the reply snippet and
helpful votes; surveys, invitations, results; answering a survey by its link (no account);
portal invitations for contacts."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status

from guanxi.accounts.auth import api_actor
from guanxi.customers import selectors as customer_selectors
from guanxi.portal import selectors, services
from guanxi.portal.models import Article, Survey
from guanxi.portal.schemas import (
    AnswerIn,
    AnswerOut,
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    CategoryIn,
    CategoryOut,
    DriverOut,
    InvitationIn,
    InvitationOut,
    NpsOut,
    PortalAccountOut,
    PortalInviteIn,
    QuestionOut,
    ResultsOut,
    SnippetOut,
    SurveyIn,
    SurveyOut,
    VoteIn,
    VoteOut,
)

router = Router(tags=["portal"])
LIST_LIMIT = 200


class ArticleQuery(Schema):
    q: str = ""
    category_id: int | None = None


class SnippetQuery(Schema):
    language: str = "en"


def _article(article: Article) -> ArticleOut:
    return ArticleOut.model_validate(article, from_attributes=True)


def _survey(survey: Survey) -> SurveyOut:
    return SurveyOut(
        id=survey.pk,
        name=survey.name,
        kind=survey.kind,
        intro=survey.intro,
        is_active=survey.is_active,
        link_days=survey.link_days,
        interval_days=survey.interval_days,
        target_tier_id=survey.target_tier_id,
        questions=[
            QuestionOut.model_validate(q, from_attributes=True)
            for q in selectors.survey_questions(survey)
        ],
    )


# --- knowledge base ---------------------------------------------------------------------------


@router.get("/kb/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest) -> list[CategoryOut]:
    api_actor(request)
    return [CategoryOut.model_validate(c, from_attributes=True) for c in selectors.category_list()]


@router.post("/kb/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[CategoryOut]:
    category = services.category_save(actor=api_actor(request), **payload.model_dump())
    return Status(201, CategoryOut.model_validate(category, from_attributes=True))


@router.get(
    "/kb/articles", response=list[ArticleOut], summary="Articles, searched in both languages"
)
def list_articles(request: HttpRequest, query: Query[ArticleQuery]) -> list[ArticleOut]:
    articles = selectors.article_list(
        actor=api_actor(request), q=query.q[:100], category_id=query.category_id
    )
    return [_article(a) for a in articles[:LIST_LIMIT]]


@router.post("/kb/articles", response={201: ArticleOut})
def create_article(request: HttpRequest, payload: ArticleIn) -> Status[ArticleOut]:
    article = services.article_create(actor=api_actor(request), values=payload.model_dump())
    return Status(201, _article(article))


@router.get("/kb/articles/{int:article_id}", response=ArticleOut)
def get_article(request: HttpRequest, article_id: int) -> ArticleOut:
    return _article(selectors.article_get(actor=api_actor(request), pk=article_id))


@router.patch("/kb/articles/{int:article_id}", response=ArticleOut)
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch) -> ArticleOut:
    actor = api_actor(request)
    article = selectors.article_get(actor=actor, pk=article_id)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    return _article(
        services.article_update(actor=actor, article=article, values=values, version=version)
    )


@router.delete("/kb/articles/{int:article_id}", response={204: None})
def delete_article(request: HttpRequest, article_id: int) -> Status[None]:
    actor = api_actor(request)
    services.article_delete(actor=actor, article=selectors.article_get(actor=actor, pk=article_id))
    return Status(204, None)


@router.get(
    "/kb/articles/{int:article_id}/snippet",
    response=SnippetOut,
    summary="The article as text to insert into a ticket reply",
)
def get_article_snippet(
    request: HttpRequest, article_id: int, query: Query[SnippetQuery]
) -> SnippetOut:
    text = selectors.article_snippet(api_actor(request), article_id, query.language)
    return SnippetOut(article_id=article_id, language=query.language, text=text)


@router.post("/kb/articles/{int:article_id}/votes", response=VoteOut)
def vote_article(request: HttpRequest, article_id: int, payload: VoteIn) -> VoteOut:
    actor = api_actor(request)
    article = selectors.article_get(actor=actor, pk=article_id)
    counted = services.article_vote(
        article=article, voter=f"user:{actor.pk}", helpful=payload.helpful
    )
    article = selectors.article_get(actor=actor, pk=article_id)
    return VoteOut(counted=counted, helpful_yes=article.helpful_yes, helpful_no=article.helpful_no)


# --- surveys ----------------------------------------------------------------------------------


@router.get("/surveys", response=list[SurveyOut])
def list_surveys(request: HttpRequest) -> list[SurveyOut]:
    return [_survey(s) for s in selectors.survey_list(actor=api_actor(request))[:LIST_LIMIT]]


@router.post("/surveys", response={201: SurveyOut})
def create_survey(request: HttpRequest, payload: SurveyIn) -> Status[SurveyOut]:
    data = payload.model_dump()
    questions = data.pop("questions")
    survey = services.survey_create(actor=api_actor(request), questions=questions, **data)
    return Status(201, _survey(survey))


@router.get("/surveys/{int:survey_id}", response=SurveyOut)
def get_survey(request: HttpRequest, survey_id: int) -> SurveyOut:
    return _survey(selectors.survey_get(actor=api_actor(request), pk=survey_id))


@router.get("/surveys/{int:survey_id}/results", response=ResultsOut)
def get_survey_results(request: HttpRequest, survey_id: int) -> ResultsOut:
    actor = api_actor(request)
    results = selectors.survey_results(
        actor=actor, survey=selectors.survey_get(actor=actor, pk=survey_id)
    )
    nps = results.nps
    return ResultsOut(
        survey_id=survey_id,
        invited=results.invited,
        responses=results.responses,
        response_rate=results.response_rate,
        csat_percent=results.csat,
        nps=NpsOut(
            responses=nps.responses,
            promoters=nps.promoters,
            passives=nps.passives,
            detractors=nps.detractors,
            score=nps.score,
        )
        if nps is not None
        else None,
        trend=results.trend,
        drivers=[DriverOut(**vars(d)) for d in results.drivers],
        method=_(
            "Drivers are ranked by the Pearson correlation of each rated question with the "
            "overall score; beta is the standardised least-squares weight of all questions "
            "together."
        ),
    )


@router.post("/surveys/{int:survey_id}/invitations", response={201: InvitationOut})
def send_survey(
    request: HttpRequest, survey_id: int, payload: InvitationIn
) -> Status[InvitationOut]:
    actor = api_actor(request)
    survey = selectors.survey_get(actor=actor, pk=survey_id)
    contact = customer_selectors.contact_get(actor=actor, pk=payload.contact_id)
    invitation = services.survey_send(
        actor=actor, survey=survey, contact=contact, email=payload.email
    )
    return Status(201, InvitationOut.model_validate(invitation, from_attributes=True))


@router.post(
    "/surveys/answer/{str:token}",
    auth=None,
    response={201: AnswerOut},
    summary="Answer a survey by its emailed link's token (no account; once; before it expires)",
)
def answer_survey(request: HttpRequest, token: str, payload: AnswerIn) -> Status[AnswerOut]:
    invitation = services.invitation_resolve(token)
    response = services.survey_answer(
        invitation=invitation, data={key: str(value) for key, value in payload.answers.items()}
    )
    return Status(201, AnswerOut(response_id=response.pk, score=response.score))


# --- portal accounts --------------------------------------------------------------------------


@router.post("/portal-accounts", response={201: PortalAccountOut}, summary="Invite a contact")
def invite_contact(request: HttpRequest, payload: PortalInviteIn) -> Status[PortalAccountOut]:
    actor = api_actor(request)
    contact = customer_selectors.contact_get(actor=actor, pk=payload.contact_id)
    account = services.portal_invite(actor=actor, contact=contact, email=payload.email)
    return Status(201, PortalAccountOut.model_validate(account, from_attributes=True))
