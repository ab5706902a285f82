"""The demo loader: articles and surveys with answers, once."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from guanxi.customers.services import customer_create
from guanxi.portal import demo, selectors
from guanxi.portal.models import Article, Survey


def test_the_demo_gives_bilingual_articles_and_surveys_with_a_driver_ranking(
    make_user: Any, teams: dict[str, Any]
) -> None:
    rep = make_user("sales-rep", teams["east"])
    for index in range(5):
        customer_create(actor=rep, values={"kind": "enterprise", "name": f"演示客户 {index}"})

    demo.load()
    again = demo.load()

    assert Article.objects.count() == len(demo.ARTICLES)
    assert again == ["Demo knowledge base and surveys: already there."]
    onsite = Survey.objects.get(kind="custom")
    with translation.override("zh-hans"):
        assert selectors.survey_drivers(onsite)[0].text == "工程师准时到达"
    with translation.override("en"):
        assert selectors.survey_drivers(onsite)[0].text == "Engineer on time"
