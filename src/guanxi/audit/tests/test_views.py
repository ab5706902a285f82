from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse

from guanxi.audit.models import AccessLog

URL = "/audit/access-log/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_access_log_page_lives_at_audit_access_log() -> None:
    assert reverse("audit:access-log") == URL


def test_an_auditor_sees_the_entries(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    entry = log_entry(rep, field="phone", target_pk=42)

    response = _client(auditor).get(URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-access-row="{entry.pk}"' in body
    assert "customers.customer #42" in body
    assert "Revealed personal data" in body


def test_without_audit_view_the_page_is_forbidden(rep: Any) -> None:
    response = _client(rep).get(URL)

    assert response.status_code == 403


def test_a_visitor_is_sent_to_sign_in(db: Any) -> None:
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_empty_log_shows_the_empty_state(auditor: Any) -> None:
    body = _client(auditor).get(URL).content.decode()

    assert "No access matches these filters." in body


def test_the_filters_narrow_the_rows(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    exported = log_entry(rep, action="export")
    revealed = log_entry(auditor)

    body = _client(auditor).get(URL, {"action": "export", "actor": rep.pk}).content.decode()

    assert f'data-access-row="{exported.pk}"' in body
    assert f'data-access-row="{revealed.pk}"' not in body


def test_a_bad_filter_value_is_ignored(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    entry = log_entry(rep)

    response = _client(auditor).get(URL, {"date_from": "soon", "actor": "x", "cursor": "%%"})

    assert response.status_code == 200
    assert f'data-access-row="{entry.pk}"' in response.content.decode()


def test_load_more_links_to_the_next_page_with_the_filters(
    auditor: Any, rep: Any, log_entry: Callable[..., AccessLog]
) -> None:
    entries = [log_entry(rep, action="export", target_pk=n) for n in range(51)]
    client = _client(auditor)

    first = client.get(URL, {"action": "export"}).content.decode()
    cursor = first.split("cursor=")[1].split('"')[0]
    second = client.get(URL, {"action": "export", "cursor": cursor}, headers={"HX-Request": "true"})

    assert "action=export&amp;cursor=" in first
    assert f'data-access-row="{entries[1].pk}"' in first
    assert f'data-access-row="{entries[0].pk}"' not in first
    assert f'data-access-row="{entries[0].pk}"' in second.content.decode()
    assert "<html" not in second.content.decode()
    assert "Load more" not in second.content.decode()


def test_the_administration_menu_offers_the_access_log_to_auditors_only(
    auditor: Any, rep: Any
) -> None:
    auditor_page = _client(auditor).get(reverse("core:dashboard")).content.decode()
    rep_page = _client(rep).get(reverse("core:dashboard")).content.decode()

    assert 'data-nav="access-log"' in auditor_page
    assert 'data-nav="access-log"' not in rep_page


def test_the_page_runs_a_fixed_number_of_queries(
    auditor: Any,
    rep: Any,
    log_entry: Callable[..., AccessLog],
    django_assert_num_queries: Any,
) -> None:
    for n in range(10):
        log_entry(rep, target_pk=n)
    client = _client(auditor)

    # session, user, role, team (the menu), the users to filter by, the page
    with django_assert_num_queries(6):
        response = client.get(URL)

    assert response.content.decode().count("data-access-row=") == 10
