"""Fixtures of the portal tests: an agent and a rep, two organisations with contacts that
have email addresses, portal accounts with passwords, and survey helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers.services import contact_create, customer_create
from guanxi.portal import services
from guanxi.portal.models import PortalAccount, Survey, SurveyInvitation
from guanxi.portal.services.links import new_token

PORTAL_PASSWORD = "blue-harbour-lantern-7"


@pytest.fixture(autouse=True)
def _cache_cleared() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def agent(make_user: Any, teams: dict[str, Any]) -> Any:
    """A service agent in East: works the team's tickets, writes articles."""
    return make_user("service-agent", teams["east"], username="agent.east")


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    """A sales rep in East: owns the customers, may only view service."""
    return make_user("sales-rep", teams["east"], username="rep.east")


@pytest.fixture
def make_org(rep: Any) -> Callable[..., tuple[Any, Any]]:
    def make(name: str, contact_name: str, email: str) -> tuple[Any, Any]:
        customer = customer_create(actor=rep, values={"kind": "enterprise", "name": name})
        contact = contact_create(
            actor=rep, customer=customer, values={"name": contact_name}, emails=[email]
        )
        return customer, contact

    return make


@pytest.fixture
def org(make_org: Callable[..., tuple[Any, Any]]) -> tuple[Any, Any]:
    return make_org("上海华东机械有限公司", "李雷", "li.lei@huadong.example")


@pytest.fixture
def other_org(make_org: Callable[..., tuple[Any, Any]]) -> tuple[Any, Any]:
    return make_org("北方物流集团", "韩梅梅", "han.meimei@north.example")


@pytest.fixture
def make_account(agent: Any) -> Callable[[Any], PortalAccount]:
    def make(contact: Any) -> PortalAccount:
        account = services.portal_invite(actor=agent, contact=contact)
        return services.portal_password_set(account=account, password=PORTAL_PASSWORD)

    return make


@pytest.fixture
def account(org: tuple[Any, Any], make_account: Callable[[Any], PortalAccount]) -> PortalAccount:
    return make_account(org[1])


@pytest.fixture
def portal_client(account: PortalAccount) -> Client:
    client = Client()
    response = client.post(
        "/portal/login/", {"email": "li.lei@huadong.example", "password": PORTAL_PASSWORD}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def csat_survey(db: Any) -> Survey:
    return services.survey_create(actor=None, name="服务满意度 CSAT", kind="csat")


@pytest.fixture
def invite() -> Callable[..., tuple[SurveyInvitation, str]]:
    """An invitation written directly, returning its raw token (as the email would)."""

    def make(
        survey: Survey,
        customer: Any,
        contact: Any = None,
        *,
        sent_at: dt.datetime | None = None,
        days: int = 14,
    ) -> tuple[SurveyInvitation, str]:
        token, hashed = new_token()
        sent = sent_at or timezone.now()
        invitation = SurveyInvitation.objects.create(
            survey=survey,
            customer=customer,
            contact=contact,
            email="x@example.com",
            token_hash=hashed,
            sent_at=sent,
            expires_at=sent + dt.timedelta(days=days),
        )
        return invitation, token

    return make
