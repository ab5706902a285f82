"""The report charts in Chromium: each report page draws its charts (ECharts, as SVG) from the
page's data, with no script error and nothing the Content-Security-Policy blocks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser


def _drawn(tab: Page, chart: str) -> None:
    element = tab.locator(f'[data-chart="{chart}"]')
    expect(element).to_have_attribute("data-drawn", "1")
    expect(element.locator("svg")).to_have_count(1)
    box = element.bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 200


def test_the_report_pages_draw_their_charts(
    signed_in: Page, administrator: Any, live_server: Any, problems: PageProblems
) -> None:
    from guanxi.customers.services import customer_create
    from guanxi.grading.models import EvaluationRun
    from guanxi.grading.services import evaluation_run, preset_install
    from guanxi.portal import services as portal
    from guanxi.portal.models import SurveyInvitation
    from guanxi.portal.services.links import new_token
    from guanxi.sales.services import defaults_ensure, opportunity_create

    customer = customer_create(
        actor=administrator, values={"kind": "enterprise", "name": "华星科技"}
    )
    scheme = preset_install(actor=None, code="value-tier")
    evaluation_run(run_id=EvaluationRun.objects.create(scheme=scheme).pk)
    defaults_ensure()
    opportunity_create(
        actor=administrator,
        customer=customer,
        name="云平台采购",
        amount=Decimal("120000"),
        expected_close=timezone.localdate() + dt.timedelta(days=30),
    )
    survey = portal.survey_create(actor=None, name="服务满意度", kind="csat")
    overall = f"q{survey.questions.get(is_overall=True).pk}"
    for score in (5, 2):
        sent = timezone.now()
        invitation = SurveyInvitation.objects.create(
            survey=survey,
            customer=customer,
            email="chen.jing@huaxing.example",
            token_hash=new_token()[1],
            sent_at=sent,
            expires_at=sent + dt.timedelta(days=14),
        )
        portal.survey_answer(invitation=invitation, data={overall: str(score)})
    tab = signed_in

    tab.goto(f"{live_server.url}/grading/schemes/{scheme.pk}/reports/")
    _drawn(tab, "stacked")
    _drawn(tab, "grouped")

    tab.goto(f"{live_server.url}/sales/reports/")
    _drawn(tab, "funnel")
    _drawn(tab, "forecast")

    tab.goto(f"{live_server.url}/portal/surveys/{survey.pk}/")
    _drawn(tab, "survey-trend")
    expect(tab.locator("#trend tbody tr")).to_have_count(1)
    expect(tab.locator('[data-chart="survey-trend"]')).to_contain_text("CSAT %")

    assert (problems.page_errors, problems.csp_violations, problems.console_errors) == ([], [], [])
