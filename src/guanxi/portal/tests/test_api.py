"""The surveys API and the staff pages' scope and query counts."""

from __future__ import annotations

from typing import Any

from django.test import Client

from guanxi.portal import selectors, services
from guanxi.portal.models import Survey, SurveyInvitation


def test_the_api_creates_a_questionnaire_and_reports_its_results(
    client: Client, agent: Any, bearer: Any, org: tuple[Any, Any], invite: Any
) -> None:
    headers = bearer(agent)
    created = client.post(
        "/api/v1/surveys",
        {
            "name": "安装回访",
            "kind": "custom",
            "questions": [
                {"kind": "rating", "text": "总体", "text_en": "Overall", "is_overall": True},
                {"kind": "choice", "text": "渠道", "choices": ["电话", "门户"]},
            ],
        },
        content_type="application/json",
        headers=headers,
    )
    survey = Survey.objects.get(pk=created.json()["id"])
    overall, channel = survey.questions.order_by("position")
    services.survey_answer(
        invitation=invite(survey, org[0])[0], data={f"q{overall.pk}": "5", f"q{channel.pk}": "门户"}
    )
    invite(survey, org[0])

    results = client.get(f"/api/v1/surveys/{survey.pk}/results", headers=headers)

    assert created.status_code == 201
    assert [q["kind"] for q in created.json()["questions"]] == ["rating", "choice"]
    assert [(q["text"], q["text_en"]) for q in created.json()["questions"]] == [
        ("总体", "Overall"),
        ("渠道", ""),
    ]
    assert results.json()["response_rate"] == 50.0
    assert results.json()["csat_percent"] == 100.0
    assert results.json()["nps"] is None


def test_a_choice_question_without_two_choices_is_refused_by_name(
    client: Client, agent: Any, bearer: Any
) -> None:
    answer = client.post(
        "/api/v1/surveys",
        {"name": "x", "kind": "custom", "questions": [{"kind": "choice", "text": "渠道"}]},
        content_type="application/json",
        headers=bearer(agent),
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "questions.0.choices"
    assert not Survey.objects.exists()


def test_the_api_sends_an_invitation_to_a_visible_contact_only(
    client: Client,
    agent: Any,
    bearer: Any,
    make_user: Any,
    teams: dict[str, Any],
    org: tuple[Any, Any],
    csat_survey: Survey,
) -> None:
    stranger = make_user("service-agent", teams["other"], username="agent.other")

    sent = client.post(
        f"/api/v1/surveys/{csat_survey.pk}/invitations",
        {"contact_id": org[1].pk},
        content_type="application/json",
        headers=bearer(agent),
    )
    foreign = client.post(
        f"/api/v1/surveys/{csat_survey.pk}/invitations",
        {"contact_id": org[1].pk},
        content_type="application/json",
        headers=bearer(stranger),
    )

    assert sent.status_code == 201
    assert sent.json()["contact_id"] == org[1].pk
    assert foreign.status_code == 404
    assert SurveyInvitation.objects.count() == 1


def test_results_count_only_customers_in_the_actors_scope(
    make_user: Any, teams: dict[str, Any], agent: Any, csat_survey: Survey, org: Any, invite: Any
) -> None:
    outsider = make_user("service-agent", teams["other"], username="agent.other")
    overall = csat_survey.questions.get(is_overall=True)
    services.survey_answer(invitation=invite(csat_survey, org[0])[0], data={f"q{overall.pk}": "5"})

    ours = selectors.survey_results(actor=agent, survey=csat_survey)
    theirs = selectors.survey_results(actor=outsider, survey=csat_survey)

    assert (ours.invited, ours.responses, ours.csat) == (1, 1, 100.0)
    assert (theirs.invited, theirs.responses, theirs.csat) == (0, 0, None)


def test_the_article_list_page_runs_a_fixed_number_of_queries(
    client: Client, agent: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(20):
        services.article_create(
            actor=agent, values={"title_en": f"Article {index}", "body_en": "Text."}
        )
    client.force_login(agent)

    with django_assert_max_num_queries(8):
        page = client.get("/portal/kb/")

    assert page.content.decode().count("data-article=") == 20


def test_the_survey_list_page_runs_a_fixed_number_of_queries(
    client: Client, agent: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(10):
        services.survey_create(actor=None, name=f"Survey {index}", kind="csat")
    client.force_login(agent)

    with django_assert_max_num_queries(8):
        page = client.get("/portal/surveys/")

    assert page.content.decode().count("data-survey=") == 10


def test_a_staff_member_creates_a_survey_from_the_page(client: Client, agent: Any) -> None:
    client.force_login(agent)

    page = client.post(
        "/portal/surveys/",
        {
            "name": "Onsite",
            "kind": "custom",
            "link_days": "10",
            "questions": "*rating | Overall\nrating | On time\nchoice | Booked by | Phone, Portal",
        },
    )

    survey = Survey.objects.get()
    assert page.status_code == 302
    assert [(q.kind, q.is_overall) for q in survey.questions.all()] == [
        ("rating", True),
        ("rating", False),
        ("choice", False),
    ]
    assert survey.questions.get(kind="choice").choices == ["Phone", "Portal"]


def test_the_customer_panel_shows_answers_and_invites_a_contact_back_to_the_customer(
    client: Client, agent: Any, org: tuple[Any, Any], csat_survey: Survey, invite: Any
) -> None:
    from guanxi.portal.models import PortalAccount

    customer, contact = org
    overall = csat_survey.questions.get(is_overall=True)
    services.survey_answer(
        invitation=invite(csat_survey, customer)[0], data={f"q{overall.pk}": "4"}
    )
    client.force_login(agent)

    panel = client.get(f"/portal/customers/{customer.pk}/panel/")
    invited = client.post(
        "/portal/accounts/invite/",
        {"contact_id": contact.pk, "next": f"/customers/{customer.pk}/"},
    )

    body = panel.content.decode()
    assert "服务满意度 CSAT" in body
    assert "no portal account" in body
    assert invited["Location"] == f"/customers/{customer.pk}/"
    assert PortalAccount.objects.get().contact == contact


def test_the_customer_panel_of_a_foreign_customer_is_a_404(
    client: Client, make_user: Any, teams: dict[str, Any], org: tuple[Any, Any]
) -> None:
    client.force_login(make_user("service-agent", teams["other"], username="agent.other"))

    panel = client.get(f"/portal/customers/{org[0].pk}/panel/")

    assert panel.status_code == 404


def test_a_question_line_may_give_the_question_in_english(client: Client, agent: Any) -> None:
    client.force_login(agent)

    client.post(
        "/portal/surveys/",
        {
            "name": "上门服务",
            "kind": "custom",
            "link_days": "10",
            "questions": "*rating | 总体满意度 | | Overall satisfaction\n"
            "choice | 预约方式 | 电话, 门户 | How you booked\ntext | 建议",
        },
    )

    questions = Survey.objects.get().questions.order_by("position")
    assert [(q.text, q.text_en, q.choices) for q in questions] == [
        ("总体满意度", "Overall satisfaction", []),
        ("预约方式", "How you booked", ["电话", "门户"]),
        ("建议", "", []),
    ]
