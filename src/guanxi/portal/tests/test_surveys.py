"""Surveys: NPS and CSAT arithmetic, results, key drivers, one-use expiring links, the
emailed invitation, follow-ups for unhappy customers, the NPS schedule and the API."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.portal import selectors, services
from guanxi.portal.models import Survey, SurveyInvitation, SurveyResponse

Invite = Callable[..., tuple[SurveyInvitation, str]]


def _overall(survey: Survey) -> str:
    return f"q{survey.questions.get(is_overall=True).pk}"


# --- arithmetic -------------------------------------------------------------------------------


def test_nps_counts_promoters_passives_and_detractors_and_subtracts_percentages() -> None:
    breakdown = selectors.nps_of([10, 9, 9, 8, 7, 6, 0, 3, 10, 5])

    assert (breakdown.promoters, breakdown.passives, breakdown.detractors) == (4, 2, 4)
    assert breakdown.score == 0.0
    assert selectors.nps_of([10, 10, 9, 6]).score == 50.0
    assert selectors.nps_of([0, 7, 8]).score == -33.3
    assert selectors.nps_of([]).score is None


def test_csat_is_the_share_of_fours_and_fives() -> None:
    assert selectors.csat_of([5, 4, 3, 2, 1, 5]) == 50.0
    assert selectors.csat_of([4, 4, 3]) == 66.7
    assert selectors.csat_of([]) is None


def test_key_drivers_rank_the_question_that_moves_the_overall_score_first() -> None:
    rng = np.random.default_rng(7)
    speed = rng.integers(1, 6, 200).astype(float)
    courtesy = rng.integers(1, 6, 200).astype(float)
    noise = rng.integers(1, 6, 200).astype(float)
    overall = np.clip(np.round(0.8 * speed + 0.25 * courtesy + rng.normal(0, 0.3, 200)), 1, 5)

    ranked = selectors.key_drivers(
        np.column_stack([noise, courtesy, speed]).tolist(), overall.tolist()
    )

    assert [column for column, _r, _beta in ranked] == [2, 1, 0]
    assert ranked[0][1] > 0.8
    assert abs(ranked[2][1]) < 0.15


def test_key_drivers_need_three_answers_and_a_varying_overall_score() -> None:
    assert selectors.key_drivers([[1.0], [2.0]], [3.0, 4.0]) == []
    assert selectors.key_drivers([[1.0], [2.0], [3.0]], [4.0, 4.0, 4.0]) == []


# --- results from stored answers --------------------------------------------------------------


def _answer(survey: Survey, customer: Any, invite: Invite, **scores: int) -> SurveyResponse:
    invitation, _token = invite(survey, customer)
    questions = {q.text: q.pk for q in survey.questions.all()}
    data = {f"q{questions[text]}": str(value) for text, value in scores.items()}
    return services.survey_answer(invitation=invitation, data=data)


def test_results_give_response_rate_csat_and_a_monthly_trend(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    customer = org[0]
    overall = _overall(csat_survey)
    with time_machine.travel(dt.datetime(2026, 9, 15, 10, tzinfo=dt.UTC)):
        for score in (5, 4, 2):
            services.survey_answer(
                invitation=invite(csat_survey, customer)[0], data={overall: score}
            )
    with time_machine.travel(dt.datetime(2026, 10, 15, 10, tzinfo=dt.UTC)):
        services.survey_answer(invitation=invite(csat_survey, customer)[0], data={overall: 5})
        invite(csat_survey, customer)  # sent, never answered

    results = selectors.survey_results(actor=_admin(), survey=csat_survey)

    assert (results.invited, results.responses, results.response_rate) == (5, 4, 80.0)
    assert results.csat == 75.0
    assert results.nps is None
    assert results.trend == [
        {"month": "2026-09", "responses": 3, "value": 66.7},
        {"month": "2026-10", "responses": 1, "value": 100.0},
    ]


def _admin() -> Any:
    from guanxi.accounts.models import User

    return User(is_superuser=True, is_active=True)


def test_nps_results_split_the_answers_in_the_database(
    db: Any, org: tuple[Any, Any], invite: Invite
) -> None:
    survey = services.survey_create(actor=None, name="NPS 2026", kind="nps")
    overall = _overall(survey)
    for score in (10, 9, 8, 6, 0):
        services.survey_answer(invitation=invite(survey, org[0])[0], data={overall: score})

    nps = selectors.survey_results(actor=_admin(), survey=survey).nps

    assert nps is not None
    assert (nps.promoters, nps.passives, nps.detractors, nps.score) == (2, 1, 2, 0.0)


def test_stored_answers_rank_key_drivers(db: Any, org: tuple[Any, Any], invite: Invite) -> None:
    survey = services.survey_create(
        actor=None,
        name="Onsite repair",
        kind="custom",
        questions=[
            {"kind": "rating", "text": "Overall", "is_overall": True},
            {"kind": "rating", "text": "Engineer arrived on time"},
            {"kind": "rating", "text": "Invoice was clear"},
        ],
    )
    rows = [(5, 5, 3), (4, 4, 5), (2, 2, 4), (1, 1, 2), (3, 3, 1), (5, 5, 1), (2, 1, 5)]
    for overall, on_time, invoice in rows:
        _answer(
            survey,
            org[0],
            invite,
            Overall=overall,
            **{"Engineer arrived on time": on_time, "Invoice was clear": invoice},
        )

    drivers = selectors.survey_drivers(survey)

    assert [d.text for d in drivers] == ["Engineer arrived on time", "Invoice was clear"]
    assert drivers[0].correlation > 0.9
    assert drivers[0].responses == 7


# --- links ------------------------------------------------------------------------------------


def test_the_emailed_link_opens_the_survey_and_records_one_answer(
    csat_survey: Survey,
    org: tuple[Any, Any],
    agent: Any,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    customer, contact = org
    events_seen: list[dict[str, Any]] = []
    handler = events.subscribe("survey.answered", lambda **kw: events_seen.append(kw))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.survey_send(actor=agent, survey=csat_survey, contact=contact)
        mail = smtp_server.wait_for(1)[0]
        link = re.search(r"https?://\S+/portal/s/\S+/", mail.get_content())
        assert link is not None
        path = "/portal/s/" + link.group(0).split("/portal/s/")[1]
        client = Client()

        form = client.get(path)
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(path, {_overall(csat_survey): "5", "comment": ""})
    finally:
        events.unsubscribe("survey.answered", handler)

    assert mail["To"] == "li.lei@huadong.example"
    assert form.status_code == 200
    assert done.status_code == 200
    assert "Thank you for your answers." in done.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.customer, response.score) == (customer, 5)
    assert events_seen == [
        {
            "survey_id": csat_survey.pk,
            "response_id": response.pk,
            "customer_id": customer.pk,
            "ticket_id": None,
            "score": 5,
        }
    ]


def test_a_second_answer_on_the_same_link_is_refused_with_a_clear_page(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    _invitation, token = invite(csat_survey, org[0])
    client = Client()
    client.post(f"/portal/s/{token}/", {_overall(csat_survey): "4"})

    again = client.post(f"/portal/s/{token}/", {_overall(csat_survey): "1"})
    reopened = client.get(f"/portal/s/{token}/")

    assert again.status_code == 409
    assert "This survey has already been answered." in again.content.decode()
    assert reopened.status_code == 409
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [4]


def test_a_forged_link_is_refused_with_a_clear_page(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    _invitation, token = invite(csat_survey, org[0])

    forged = Client().post(f"/portal/s/{token[:-2]}xx/", {_overall(csat_survey): "5"})

    assert forged.status_code == 404
    assert "This survey link is not valid." in forged.content.decode()
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_is_refused_with_a_clear_page(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    _invitation, token = invite(
        csat_survey, org[0], sent_at=timezone.now() - dt.timedelta(days=15), days=14
    )

    expired = Client().get(f"/portal/s/{token}/")

    assert expired.status_code == 410
    assert "This survey link has expired." in expired.content.decode()


def test_a_missing_required_answer_is_named_and_nothing_is_recorded(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    _invitation, token = invite(csat_survey, org[0])

    page = Client().post(f"/portal/s/{token}/", {})

    assert page.status_code == 422
    assert f'data-field-error="{_overall(csat_survey)}"' in page.content.decode()
    assert not SurveyResponse.objects.exists()
    assert SurveyInvitation.objects.get().answered_at is None


def test_an_out_of_scale_score_is_refused(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    invitation, _token = invite(csat_survey, org[0])

    with pytest.raises(DomainError) as caught:
        services.survey_answer(invitation=invitation, data={_overall(csat_survey): "9"})

    assert caught.value.errors[0]["field"] == _overall(csat_survey)
    assert not SurveyResponse.objects.exists()


def test_the_api_answers_by_token_without_an_account_and_only_once(
    csat_survey: Survey, org: tuple[Any, Any], invite: Invite
) -> None:
    _invitation, token = invite(csat_survey, org[0])
    body = {"answers": {_overall(csat_survey): 3}}
    client = Client()

    first = client.post(f"/api/v1/surveys/answer/{token}", body, content_type="application/json")
    second = client.post(f"/api/v1/surveys/answer/{token}", body, content_type="application/json")
    forged = client.post("/api/v1/surveys/answer/nope", body, content_type="application/json")

    assert first.status_code == 201
    assert first.json()["score"] == 3
    assert (second.status_code, second.json()["type"]) == (409, "/problems/link-used")
    assert (forged.status_code, forged.json()["type"]) == (404, "/problems/link-invalid")


# --- follow-ups -------------------------------------------------------------------------------


def test_a_low_csat_gives_the_customers_owner_a_follow_up_task(
    csat_survey: Survey,
    org: tuple[Any, Any],
    invite: Invite,
    django_capture_on_commit_callbacks: Any,
    rep: Any,
) -> None:
    from guanxi.activities.models import Task

    invitation, _token = invite(csat_survey, org[0])

    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(invitation=invitation, data={_overall(csat_survey): "2"})

    task = Task.objects.get()
    assert task.owner == rep
    assert task.priority == "high"
    assert "上海华东机械有限公司" in task.title


def test_a_satisfied_answer_creates_no_task(
    csat_survey: Survey,
    org: tuple[Any, Any],
    invite: Invite,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from guanxi.activities.models import Task

    invitation, _token = invite(csat_survey, org[0])

    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(invitation=invitation, data={_overall(csat_survey): "4"})

    assert not Task.objects.exists()


def test_an_nps_detractor_gives_the_owner_a_task_and_a_passive_does_not(
    db: Any, org: tuple[Any, Any], invite: Invite, rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.activities.models import Task

    survey = services.survey_create(actor=None, name="NPS", kind="nps")
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(invitation=invite(survey, org[0])[0], data={_overall(survey): "7"})
        services.survey_answer(invitation=invite(survey, org[0])[0], data={_overall(survey): "6"})

    assert list(Task.objects.values_list("owner", flat=True)) == [rep.pk]


# --- the NPS schedule -------------------------------------------------------------------------


def test_the_nps_sweep_asks_each_customer_once_per_interval(
    db: Any,
    org: tuple[Any, Any],
    other_org: tuple[Any, Any],
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    survey = services.survey_create(actor=None, name="季度 NPS", kind="nps", interval_days=90)
    start = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.nps_send_due(now=start)
        again = services.nps_send_due(now=start + dt.timedelta(days=30))
        later = services.nps_send_due(now=start + dt.timedelta(days=91))

    assert (first, again, later) == (2, 0, 2)
    assert SurveyInvitation.objects.filter(survey=survey).count() == 4
    recipients = sorted(m["To"] for m in smtp_server.wait_for(4))
    assert recipients == [
        "han.meimei@north.example",
        "han.meimei@north.example",
        "li.lei@huadong.example",
        "li.lei@huadong.example",
    ]


def test_the_nps_sweep_only_asks_customers_of_the_target_tier(
    db: Any, org: tuple[Any, Any], other_org: tuple[Any, Any]
) -> None:
    from guanxi.grading.models import CustomerGrade, Scheme, Tier

    scheme = Scheme.objects.create(name_zh="价值分级", name_en="Value", method="thresholds")
    gold = Tier.objects.create(scheme=scheme, code="A", name_zh="A", name_en="A", rank=1)
    CustomerGrade.objects.create(customer=org[0], scheme=scheme, tier=gold)
    survey = services.survey_create(
        actor=None, name="A 级 NPS", kind="nps", interval_days=30, target_tier_id=gold.pk
    )

    services.nps_send_due(now=timezone.now())

    assert list(
        SurveyInvitation.objects.filter(survey=survey).values_list("customer", flat=True)
    ) == [org[0].pk]


def test_the_survey_results_page_explains_the_key_driver_method(
    client: Client, agent: Any, csat_survey: Survey
) -> None:
    client.force_login(agent)

    page = client.get(f"/portal/surveys/{csat_survey.pk}/")

    assert page.status_code == 200
    assert "Pearson correlation" in page.content.decode()


def test_the_standard_questions_are_written_in_both_languages(db: Any) -> None:
    from django.utils import translation

    survey = services.survey_create(actor=None, name="NPS", kind="nps")

    overall = survey.questions.get(is_overall=True)
    with translation.override("zh-hans"):
        chinese = _("How likely are you to recommend us to a friend or colleague?")
    assert overall.text_en == "How likely are you to recommend us to a friend or colleague?"
    assert (overall.text, overall.text != overall.text_en) == (chinese, True)


def test_the_survey_page_asks_each_reader_in_their_language(
    org: tuple[Any, Any], invite: Invite
) -> None:
    survey = services.survey_create(
        actor=None,
        name="上门服务",
        kind="custom",
        questions=[
            {"kind": "rating", "text": "工程师准时到达", "text_en": "Engineer on time"},
            {"kind": "text", "text": "建议", "is_required": False},
        ],
    )
    _invitation, token = invite(survey, org[0])

    english = Client(headers={"accept-language": "en"}).get(f"/portal/s/{token}/")
    chinese = Client(headers={"accept-language": "zh-hans"}).get(f"/portal/s/{token}/")

    assert "Engineer on time" in english.content.decode()
    assert "工程师准时到达" not in english.content.decode()
    assert "工程师准时到达" in chinese.content.decode()
    assert "建议" in english.content.decode()  # no English text: shown as written
