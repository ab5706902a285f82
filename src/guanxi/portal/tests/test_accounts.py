"""Portal accounts: the emailed invitation, passwords, one-time sign-in links, the
rate-limited sign-in, and a portal session that never opens the staff side."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.core.errors import DomainError
from guanxi.portal import services
from guanxi.portal.models import PortalAccount, PortalLink
from guanxi.portal.tests.conftest import PORTAL_PASSWORD


def _path(message: Any) -> str:
    found = re.search(r"https?://[^/\s]+(/portal/l/\S+/)", message.get_content())
    assert found is not None
    return found.group(1)


def test_an_invited_contact_sets_a_password_through_the_one_time_link(
    agent: Any,
    org: tuple[Any, Any],
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.portal_invite(actor=agent, contact=org[1])
    mail = smtp_server.wait_for(1)[0]
    client = Client()

    shown = client.get(_path(mail))
    opened = client.post(_path(mail))
    saved = client.post(
        "/portal/password/", {"password": PORTAL_PASSWORD, "confirm": PORTAL_PASSWORD}
    )
    reused = Client().post(_path(mail))

    assert mail["To"] == "li.lei@huadong.example"
    assert shown.status_code == 200
    assert opened.status_code == 302
    assert opened["Location"] == "/portal/password/"
    assert saved.status_code == 302
    assert client.get("/portal/").status_code == 200
    assert reused.status_code == 410
    assert "This link has already been used." in reused.content.decode()
    account = PortalAccount.objects.get()
    assert (
        services.portal_authenticate(email="LI.LEI@huadong.example", password=PORTAL_PASSWORD)
        == account
    )


def test_a_weak_password_is_refused_and_not_stored(account: PortalAccount) -> None:
    with pytest.raises(DomainError):
        services.portal_password_set(account=account, password="12345678")

    assert (
        services.portal_authenticate(email="li.lei@huadong.example", password=PORTAL_PASSWORD)
        == account
    )


def test_the_invitation_needs_a_staff_member_who_sees_the_contact(
    make_user: Any, teams: dict[str, Any], org: tuple[Any, Any]
) -> None:
    stranger = make_user("service-agent", teams["other"], username="agent.other")

    with pytest.raises(DomainError):
        services.portal_invite(actor=stranger, contact=org[1])

    assert not PortalAccount.objects.exists()


def test_a_sign_in_link_is_mailed_only_to_a_known_address(
    account: PortalAccount, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post("/portal/login/link/", {"email": "nobody@example.com"})
        known = client.post("/portal/login/link/", {"email": "li.lei@huadong.example"})
    mails = smtp_server.wait_for(1)

    scanned = Client().get(_path(mails[0]))  # a mail scanner fetching the link
    signed_in = client.post(_path(mails[0]))

    assert unknown.status_code == known.status_code == 302
    assert [m["To"] for m in mails] == ["li.lei@huadong.example"]
    assert scanned.status_code == 200
    assert signed_in["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_a_forged_sign_in_link_is_refused(db: Any) -> None:
    page = Client().post("/portal/l/not-a-real-token/")

    assert page.status_code == 410
    assert "This link is not valid." in page.content.decode()


def test_sign_in_is_locked_after_five_failures_even_with_the_right_password(
    account: PortalAccount,
) -> None:
    client = Client()
    for _attempt in range(5):
        wrong = client.post(
            "/portal/login/", {"email": "li.lei@huadong.example", "password": "wrong-guess-1"}
        )
        assert wrong.status_code == 200
        assert "The email or password is not correct." in wrong.content.decode()

    locked = client.post(
        "/portal/login/", {"email": "li.lei@huadong.example", "password": PORTAL_PASSWORD}
    )

    assert locked.status_code == 429
    assert "Too many failed attempts." in locked.content.decode()
    assert client.get("/portal/").status_code == 302


def test_a_portal_session_never_opens_staff_pages_or_the_api(portal_client: Client) -> None:
    staff_page = portal_client.get("/customers/")
    staff_kb = portal_client.get("/portal/kb/")
    api = portal_client.get("/api/v1/customers")

    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith("/accounts/login/")
    assert staff_kb.status_code == 302
    assert api.status_code == 401


def test_portal_pages_send_visitors_without_a_portal_session_to_the_portal_sign_in(
    client: Client, agent: Any
) -> None:
    client.force_login(agent)  # a staff session is not a portal session

    page = client.get("/portal/")

    assert page.status_code == 302
    assert page["Location"] == "/portal/login/?next=/portal/"


def test_a_changed_password_ends_other_portal_sessions(
    portal_client: Client, account: PortalAccount
) -> None:
    services.portal_password_set(account=account, password="another-long-secret-9")

    assert portal_client.get("/portal/").status_code == 302


def test_the_api_invites_a_contact(
    client: Client, agent: Any, bearer: Any, org: tuple[Any, Any]
) -> None:
    answer = client.post(
        "/api/v1/portal-accounts",
        {"contact_id": org[1].pk},
        content_type="application/json",
        headers=bearer(agent),
    )

    assert answer.status_code == 201
    assert answer.json()["customer_id"] == org[0].pk
    assert PortalLink.objects.filter(account_id=answer.json()["id"], purpose="invite").exists()


def test_two_contacts_cannot_share_an_address(
    agent: Any, org: tuple[Any, Any], make_org: Callable[..., tuple[Any, Any]]
) -> None:
    services.portal_invite(actor=agent, contact=org[1])
    _customer, twin = make_org("另一家公司", "李雷二", "li.lei@huadong.example")

    with pytest.raises(DomainError):
        services.portal_invite(actor=agent, contact=twin)

    assert PortalAccount.objects.count() == 1


def test_the_portal_sign_in_page_speaks_chinese(db: Any) -> None:
    page = Client(headers={"Accept-Language": "zh-hans"}).get("/portal/login/")

    assert "登录客户门户" in page.content.decode()


def test_a_lock_from_one_address_does_not_lock_the_contact_out_elsewhere(
    account: PortalAccount,
) -> None:
    for _attempt in range(5):
        with pytest.raises(DomainError):
            services.portal_authenticate(
                email="li.lei@huadong.example", password="guess", address="203.0.113.9"
            )

    with pytest.raises(services.LoginLocked):
        services.portal_authenticate(
            email="li.lei@huadong.example", password=PORTAL_PASSWORD, address="203.0.113.9"
        )
    elsewhere = services.portal_authenticate(
        email="li.lei@huadong.example", password=PORTAL_PASSWORD, address="198.51.100.4"
    )

    assert elsewhere == account
