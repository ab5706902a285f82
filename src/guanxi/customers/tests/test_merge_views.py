from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from guanxi.customers.merge import movable_relations
from guanxi.customers.models import Contact, Customer, CustomerStatus
from guanxi.customers.services import contact_create, customer_create, customer_update


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def other_rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


def make(actor: Any, name: str, kind: str = "person", **values: Any) -> Customer:
    return customer_create(
        actor=actor, values={"kind": kind, "name": name, **values}, allow_duplicate=True
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state() -> list[tuple[Any, ...]]:
    return list(
        Customer.objects.order_by("pk").values_list(
            "pk", "status", "version", "merged_into_id", "name"
        )
    )


def merge_url(*customers: Customer, survivor: Customer | None = None) -> str:
    url = reverse("customers:merge") + "?ids=" + ",".join(str(c.pk) for c in customers)
    return url + (f"&survivor={survivor.pk}" if survivor else "")


def test_the_pages_live_under_customers() -> None:
    assert (
        reverse("customers:duplicates", args=[7]),
        reverse("customers:merge"),
        reverse("customers:duplicate-groups"),
    ) == ("/customers/7/duplicates/", "/customers/merge/", "/customers/duplicates/")


# --- a customer's duplicates --------------------------------------------------------------------


def test_the_duplicates_page_lists_candidates_with_score_reasons_and_a_merge_link(
    manager: Any,
) -> None:
    subject = make(manager, "王小明", phone="13812345678")
    twin = make(manager, "王小明", phone="13812345678")
    make(manager, "李四")

    response = client_for(manager).get(reverse("customers:duplicates", args=[subject.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("data-candidate=") == 1
    assert f'data-candidate="{twin.pk}"' in body
    assert 'data-score="95"' in body
    assert "Same phone" in body
    assert "Same name" in body
    assert "13812345678" not in body
    assert "138****5678" in body
    assert f'href="/customers/merge/?ids={subject.pk},{twin.pk}"' in body


def test_the_duplicates_page_of_a_foreign_customer_is_not_found(rep: Any, other_rep: Any) -> None:
    foreign = make(other_rep, "王小明")

    response = client_for(rep).get(reverse("customers:duplicates", args=[foreign.pk]))

    assert response.status_code == 404


def test_the_duplicates_page_runs_a_fixed_number_of_queries(
    manager: Any, django_assert_num_queries: Any
) -> None:
    subject = make(manager, "王小明", phone="13812345678")
    for n in range(5):
        make(manager, f"王小明{n}", phone="13812345678")
    client = client_for(manager)
    client.get(reverse("customers:duplicates", args=[subject.pk]))

    # session, user, role, team (the menu), the team's subtree (the data scope), the customer;
    # its contact persons' keys, other contact persons sharing them, the names after and
    # before its own, the keys of the matches, the best ones loaded
    with django_assert_num_queries(12):
        response = client.get(reverse("customers:duplicates", args=[subject.pk]))

    assert response.content.decode().count("data-candidate=") == 5


# --- the scan -----------------------------------------------------------------------------------


def test_the_scan_page_scans_only_when_asked(manager: Any) -> None:
    first = make(manager, "甲", phone="13812345678")
    second = make(manager, "乙", phone="13812345678")
    client = client_for(manager)

    idle = client.get(reverse("customers:duplicate-groups")).content.decode()
    scanned = client.get(reverse("customers:duplicate-groups") + "?scan=1").content.decode()

    assert "data-group=" not in idle
    assert scanned.count('data-group="phone"') == 1
    assert f'href="/customers/merge/?ids={first.pk},{second.pk}"' in scanned


def test_the_scan_page_runs_a_bounded_number_of_queries(
    manager: Any, django_assert_num_queries: Any
) -> None:
    for n in range(6):
        make(manager, "甲", phone="13812345678", email=f"x{n % 3}@example.com")
    client = client_for(manager)
    client.get(reverse("customers:duplicate-groups"))

    # session, user, role, team, the team's subtree; id number and credit code: one GROUP BY
    # each; phone, email and name: the GROUP BY and the members
    with django_assert_num_queries(5 + 2 + 6):
        response = client.get(reverse("customers:duplicate-groups") + "?scan=1")

    assert response.content.decode().count("data-group=") == 5


# --- the merge screen ---------------------------------------------------------------------------


def test_the_merge_screen_shows_one_column_per_customer_with_masked_values(
    manager: Any,
) -> None:
    first = make(manager, "王小明", phone="13812345678")
    second = make(manager, "王晓明", email="wang@example.com")

    response = client_for(manager).get(merge_url(first, second))

    body = response.content.decode()
    assert response.status_code == 200
    assert (f'data-column="{first.pk}"' in body, f'data-column="{second.pk}"' in body) == (
        True,
        True,
    )
    assert "13812345678" not in body
    assert "wang@example.com" not in body
    assert "138****5678" in body
    assert "w***@example.com" in body
    assert f'name="choice_email" id="choice-email-{second.pk}" value="{second.pk}" checked' in body
    assert f'name="choice_name" id="choice-name-{first.pk}" value="{first.pk}" checked' in body


def test_the_survivor_picker_puts_the_chosen_customer_first(manager: Any) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")

    body = client_for(manager).get(merge_url(first, second, survivor=second)).content.decode()

    assert f'<input type="hidden" name="survivor" value="{second.pk}">' in body
    assert body.index(f'data-column="{second.pk}"') < body.index(f'data-column="{first.pk}"')


def test_the_merge_screen_summarises_what_will_move(manager: Any) -> None:
    first = make(manager, "甲公司", "enterprise")
    second = make(manager, "甲公司分部", "enterprise")
    contact_create(actor=manager, customer=second, values={"name": "张"})
    contact_create(actor=manager, customer=second, values={"name": "李"})

    body = client_for(manager).get(merge_url(first, second)).content.decode()

    assert (
        '<tr data-relation="contacts"><td>Contacts</td><td class="text-end">0</td>'
        '<td class="text-end">2</td><td class="text-end fw-semibold">2</td></tr>'
    ) in body


def test_the_merge_screen_runs_one_query_per_kind_of_attached_row(
    manager: Any, django_assert_num_queries: Any
) -> None:
    customers = [make(manager, f"王小明{n}", phone="13812345678") for n in range(4)]
    client = client_for(manager)
    client.get(merge_url(*customers))

    # session, user, role, team (the menu), the team's subtree, the customers, the
    # custom-field definitions, and one count per relation
    with django_assert_num_queries(7 + len(movable_relations())):
        response = client.get(merge_url(*customers))

    assert response.status_code == 200


def test_confirming_merges_and_opens_the_survivor(manager: Any) -> None:
    first = make(manager, "王小明", phone="13812345678")
    second = make(manager, "王晓明", phone="13900001111")
    contact = contact_create(actor=manager, customer=second, values={"name": "张"})

    response = client_for(manager).post(
        reverse("customers:merge"),
        {
            "ids": f"{first.pk},{second.pk}",
            "survivor": str(first.pk),
            f"version_{first.pk}": "1",
            f"version_{second.pk}": "1",
            "choice_name": str(first.pk),
            "choice_phone": str(second.pk),
            "reason": "同一人",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[first.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "1 customer merged into 王小明."
    ]
    survivor = Customer.objects.get(pk=first.pk)
    assert (survivor.phone, Contact.objects.get(pk=contact.pk).customer_id) == (
        "+8613900001111",
        first.pk,
    )
    assert Customer.objects.get(pk=second.pk).status == CustomerStatus.MERGED


def test_a_stale_screen_is_refused_and_changes_nothing(manager: Any) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")
    customer_update(actor=manager, customer=second, values={"city": "上海"}, version=1)
    before = state()

    response = client_for(manager).post(
        reverse("customers:merge"),
        {"ids": f"{first.pk},{second.pk}", f"version_{first.pk}": "1", f"version_{second.pk}": "1"},
    )

    body = response.content.decode()
    assert response.status_code == 409
    assert 'id="merge-error"' in body
    assert "Someone else changed these customers after you opened them." in body
    assert state() == before


def test_an_already_merged_customer_is_shown_and_refused(manager: Any) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")
    third = make(manager, "王小名")
    client = client_for(manager)
    client.post(reverse("customers:merge"), {"ids": f"{first.pk},{second.pk}"})
    before = state()

    screen = client.get(merge_url(third, second)).content.decode()
    response = client.post(reverse("customers:merge"), {"ids": f"{third.pk},{second.pk}"})

    assert "data-problem" in screen
    assert 'id="confirm-merge" disabled' in screen
    assert response.status_code == 409
    assert "has already been merged" in response.content.decode()
    assert state() == before


def test_a_foreign_customer_on_the_merge_screen_is_not_found(rep: Any, other_rep: Any) -> None:
    mine = make(rep, "王小明")
    foreign = make(other_rep, "王晓明")
    before = state()
    client = client_for(rep)

    shown = client.get(merge_url(mine, foreign))
    posted = client.post(reverse("customers:merge"), {"ids": f"{mine.pk},{foreign.pk}"})

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert state() == before


def test_the_merge_screen_needs_the_edit_permission(make_user: Any, manager: Any) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")

    response = client_for(make_user("analyst")).get(merge_url(first, second))

    assert response.status_code == 403


def test_the_merge_screen_needs_two_customers(manager: Any) -> None:
    only = make(manager, "王小明")

    response = client_for(manager).get(merge_url(only))

    assert response.status_code == 400
    assert "Choose two or more different customers." in response.content.decode()


# --- API ----------------------------------------------------------------------------------------


def test_the_api_lists_a_customers_duplicates(
    manager: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    subject = make(manager, "王小明", phone="13812345678")
    twin = make(manager, "王晓明", phone="13812345678")

    response = Client().get(f"/api/v1/customers/{subject.pk}/duplicates", headers=bearer(manager))

    assert response.status_code == 200
    assert [
        (item["customer"]["id"], item["customer"]["phone"], item["score"], item["reasons"])
        for item in response.json()
    ] == [(twin.pk, "138****5678", 90, ["phone"])]


def test_the_api_answers_404_for_a_foreign_customers_duplicates(
    rep: Any, other_rep: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    foreign = make(other_rep, "王小明")

    response = Client().get(f"/api/v1/customers/{foreign.pk}/duplicates", headers=bearer(rep))

    assert response.status_code == 404


def test_the_api_scans_for_duplicate_groups(
    manager: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    first = make(manager, "甲", email="x@example.com")
    second = make(manager, "乙", email="X@example.com")

    response = Client().get("/api/v1/customers/duplicate-groups", headers=bearer(manager))

    assert response.status_code == 200
    assert response.json() == [
        {
            "reason": "email",
            "size": 2,
            "customers": [
                {"id": first.pk, "code": first.code, "name": "甲"},
                {"id": second.pk, "code": second.code, "name": "乙"},
            ],
        }
    ]


def _post_merge(client: Client, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/customers/merge",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_the_api_merges_and_returns_the_survivor(
    manager: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明", email="wang@example.com")

    response = _post_merge(
        Client(),
        bearer(manager),
        {"survivor_id": first.pk, "other_ids": [second.pk], "choices": {"name": second.pk}},
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["id"], body["name"], body["email"], body["version"]) == (
        first.pk,
        "王晓明",
        "w***@example.com",
        2,
    )
    assert Customer.objects.get(pk=second.pk).merged_into_id == first.pk


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("itself", 400, "/problems/invalid"),
        ("stale", 409, "/problems/stale-edit"),
        ("merged", 409, "/problems/conflict"),
    ],
)
def test_the_api_refuses_a_bad_merge_and_changes_nothing(
    manager: Any, bearer: Callable[[Any], dict[str, str]], case: str, status: int, code: str
) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")
    third = make(manager, "王小名")
    Customer.objects.filter(pk=third.pk).update(
        status=CustomerStatus.MERGED, merged_into_id=first.pk
    )
    bodies = {
        "itself": {"survivor_id": first.pk, "other_ids": [first.pk]},
        "stale": {"survivor_id": first.pk, "other_ids": [second.pk], "versions": {second.pk: 9}},
        "merged": {"survivor_id": first.pk, "other_ids": [third.pk]},
    }
    before = state()

    response = _post_merge(Client(), bearer(manager), bodies[case])

    assert (response.status_code, response.json()["type"]) == (status, code)
    assert state() == before


def test_the_api_answers_404_for_a_foreign_customer_in_a_merge(
    rep: Any, other_rep: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    mine = make(rep, "王小明")
    foreign = make(other_rep, "王晓明")
    before = state()

    response = _post_merge(
        Client(), bearer(rep), {"survivor_id": mine.pk, "other_ids": [foreign.pk]}
    )

    assert response.status_code == 404
    assert state() == before


def test_the_api_refuses_a_merge_without_the_edit_permission(
    make_user: Any, manager: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    first = make(manager, "王小明")
    second = make(manager, "王晓明")
    before = state()

    response = _post_merge(
        Client(), bearer(make_user("analyst")), {"survivor_id": first.pk, "other_ids": [second.pk]}
    )

    assert response.status_code == 403
    assert state() == before
