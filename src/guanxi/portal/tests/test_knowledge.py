"""Knowledge base: bilingual search, public versus internal, helpful votes, the reply
snippet, permissions, pages and API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from guanxi.core.errors import DomainError
from guanxi.portal import selectors, services
from guanxi.portal.models import Article


@pytest.fixture
def articles(agent: Any) -> dict[str, Article]:
    def make(**values: Any) -> Article:
        return services.article_create(actor=agent, values=values)

    return {
        "reset": make(
            title_zh="如何重置密码",
            title_en="How to reset your password",
            body_zh="在登录页点击忘记密码，按邮件中的链接设置新密码。",
            body_en="Click 'forgot password' on the sign-in page and follow the emailed link.",
            visibility="public",
        ),
        "invoice": make(
            title_zh="发票开具说明",
            title_en="Issuing invoices",
            body_zh="增值税专用发票在付款后三个工作日内开具。",
            body_en="VAT invoices are issued within three working days of payment.",
            visibility="public",
        ),
        "escalation": make(
            title_zh="投诉升级流程",
            title_en="Complaint escalation",
            body_zh="内部：重大投诉两小时内上报主管。",
            body_en="Internal: report major complaints to the manager within two hours.",
            visibility="internal",
        ),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("密码", ["reset"]),  # two Chinese characters
        ("发票", ["invoice"]),
        ("PASSWORD", ["reset"]),  # English, any case
        ("invoices payment", ["invoice"]),  # every term must match
        ("投诉", ["escalation"]),
        ("工作日 VAT", ["invoice"]),  # mixed languages
        ("快递", []),
    ],
)
def test_search_finds_articles_by_chinese_or_english_terms(
    agent: Any, articles: dict[str, Article], term: str, expected: list[str]
) -> None:
    found = list(selectors.article_list(actor=agent, q=term))

    assert found == [articles[key] for key in expected]


def test_public_search_never_returns_internal_or_unpublished_articles(
    agent: Any, articles: dict[str, Article]
) -> None:
    services.article_update(
        actor=agent, article=articles["invoice"], values={"is_published": False}
    )

    assert list(selectors.public_article_list(q="")) == [articles["reset"]]
    assert list(selectors.public_article_list(q="投诉")) == []
    with pytest.raises(Http404):
        selectors.public_article_get(pk=articles["escalation"].pk)


def test_a_helpful_vote_counts_once_per_voter(articles: dict[str, Article]) -> None:
    article = articles["reset"]

    first = services.article_vote(article=article, voter="session:abc", helpful=True)
    again = services.article_vote(article=article, voter="session:abc", helpful=False)
    other = services.article_vote(article=article, voter="session:def", helpful=False)

    article.refresh_from_db()
    assert (first, again, other) == (True, False, True)
    assert (article.helpful_yes, article.helpful_no) == (1, 1)


def test_the_portal_page_counts_one_vote_per_visitor_session(
    db: Any, articles: dict[str, Article]
) -> None:
    article = articles["reset"]
    visitor, another = Client(), Client()

    visitor.post(f"/portal/help/{article.pk}/vote/", {"helpful": "yes"})
    repeat = visitor.post(f"/portal/help/{article.pk}/vote/", {"helpful": "yes"}, follow=True)
    another.post(f"/portal/help/{article.pk}/vote/", {"helpful": "no"})

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert "You have already rated this article." in repeat.content.decode()


def test_the_snippet_gives_the_asked_language_and_falls_back_to_the_other(
    agent: Any, articles: dict[str, Article]
) -> None:
    english_only = services.article_create(
        actor=agent, values={"title_en": "Opening hours", "body_en": "Mon–Fri 9:00–18:00."}
    )

    chinese = selectors.article_snippet(agent, articles["reset"].pk, "zh-hans")
    english = selectors.article_snippet(agent, articles["reset"].pk, "en")
    fallback = selectors.article_snippet(agent, english_only.pk, "zh-hans")

    assert chinese.startswith("如何重置密码\n\n在登录页点击忘记密码")
    assert english.startswith("How to reset your password\n\nClick")
    assert fallback == "Opening hours\n\nMon–Fri 9:00–18:00."


def test_a_rep_without_the_create_permission_cannot_write_articles(
    rep: Any, articles: dict[str, Article]
) -> None:
    with pytest.raises(PermissionDenied):
        services.article_create(actor=rep, values={"title_en": "x", "body_en": "y"})

    assert Article.objects.count() == 3


def test_an_article_needs_a_title_and_a_text_in_some_language(agent: Any) -> None:
    with pytest.raises(DomainError) as caught:
        services.article_create(actor=agent, values={"title_zh": "", "body_en": ""})

    assert {e["field"] for e in caught.value.errors} == {"title_en", "body_en"}
    assert Article.objects.count() == 0


def test_the_staff_page_lists_and_searches_articles(
    client: Client, agent: Any, articles: dict[str, Article]
) -> None:
    client.force_login(agent)

    page = client.get("/portal/kb/", {"q": "发票"})

    assert page.status_code == 200
    body = page.content.decode()
    assert "Issuing invoices" in body
    assert "How to reset your password" not in body


def test_the_portal_help_page_shows_public_articles_without_any_login(
    db: Any, articles: dict[str, Article]
) -> None:
    page = Client().get("/portal/help/", {"q": "complaint"})
    internal = Client().get(f"/portal/help/{articles['escalation'].pk}/")

    assert page.status_code == 200
    assert "Complaint escalation" not in page.content.decode()
    assert internal.status_code == 404


def test_the_api_writes_searches_and_returns_a_snippet(
    client: Client, agent: Any, bearer: Any
) -> None:
    headers = bearer(agent)

    created = client.post(
        "/api/v1/kb/articles",
        {"title_zh": "退货政策", "body_zh": "七天无理由退货。", "visibility": "public"},
        content_type="application/json",
        headers=headers,
    )
    found = client.get("/api/v1/kb/articles", {"q": "退货"}, headers=headers)
    snippet = client.get(
        f"/api/v1/kb/articles/{created.json()['id']}/snippet",
        {"language": "zh-hans"},
        headers=headers,
    )

    assert created.status_code == 201
    assert [a["title_zh"] for a in found.json()] == ["退货政策"]
    assert snippet.json()["text"] == "退货政策\n\n七天无理由退货。"


def test_a_stale_article_edit_through_the_api_is_refused(
    client: Client, agent: Any, bearer: Any, articles: dict[str, Article]
) -> None:
    article = articles["reset"]
    services.article_update(actor=agent, article=article, values={"title_en": "Newer"})

    answer = client.patch(
        f"/api/v1/kb/articles/{article.pk}",
        {"title_en": "Older", "version": 1},
        content_type="application/json",
        headers=bearer(agent),
    )

    article.refresh_from_db()
    assert answer.status_code == 409
    assert article.title_en == "Newer"


def test_the_reply_box_picker_offers_published_articles_with_their_snippet_links(
    client: Client, agent: Any, articles: dict[str, Article]
) -> None:
    services.article_update(
        actor=agent, article=articles["invoice"], values={"is_published": False}
    )
    client.force_login(agent)

    fragment = client.get(
        "/portal/kb/picker/", {"q": "", "target": "reply-body", "lang": "zh-hans"}
    )
    snippet = client.get(f"/portal/kb/{articles['reset'].pk}/snippet/", {"lang": "zh-hans"})

    body = fragment.content.decode()
    assert f'data-kb-insert="/portal/kb/{articles["reset"].pk}/snippet/?lang=zh-hans"' in body
    assert 'data-kb-target="reply-body"' in body
    assert f'data-picker-article="{articles["invoice"].pk}"' not in body
    assert snippet["Content-Type"] == "text/plain; charset=utf-8"
    assert snippet.content.decode().startswith("如何重置密码")


def test_the_staff_knowledge_base_is_closed_to_visitors_without_a_staff_login(
    db: Any, articles: dict[str, Article]
) -> None:
    visitor = Client()

    listing = visitor.get("/portal/kb/")
    snippet = visitor.get(f"/portal/kb/{articles['escalation'].pk}/snippet/")

    assert listing.status_code == snippet.status_code == 302
    assert listing["Location"].startswith("/accounts/login/")


def test_the_navigation_shows_knowledge_base_and_surveys_to_service_staff(
    client: Client, agent: Any
) -> None:
    client.force_login(agent)

    page = client.get("/portal/kb/").content.decode()

    assert 'data-nav="knowledge"' in page
    assert 'data-nav="surveys"' in page
