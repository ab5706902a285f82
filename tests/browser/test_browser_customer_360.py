"""The customer list's search box and the 360 page's forms, which load when opened."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from guanxi.customers.models import Contact
from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser


def test_adding_a_contact_from_the_360_page_loads_the_form_when_opened(
    signed_in: Page, administrator: Any, live_server: Any, problems: PageProblems
) -> None:
    from guanxi.customers.services import customer_create

    company = customer_create(
        actor=administrator, values={"kind": "enterprise", "name": "华星科技"}
    )
    signed_in.goto(f"{live_server.url}/customers/{company.pk}/")
    expect(signed_in.locator('[data-form="contact"] input[name="name"]')).to_have_count(0)

    signed_in.get_by_text("Add a contact").click()
    form = signed_in.locator('[data-form="contact"]')
    form.locator('input[name="name"]').fill("Zhao Min")
    form.locator('input[name="phones"]').fill("13566667777")
    form.get_by_role("button", name="Add contact").click()

    expect(signed_in.locator('tr[data-contact="Zhao Min"]')).to_contain_text("135****7777")
    assert list(Contact.objects.filter(customer=company).values_list("name", flat=True)) == [
        "Zhao Min"
    ]
    assert (problems.page_errors, problems.csp_violations) == ([], [])


def test_typing_in_the_search_box_narrows_the_list_to_the_matches(
    signed_in: Page, administrator: Any, live_server: Any
) -> None:
    from guanxi.customers.services import customer_create

    acme = customer_create(
        actor=administrator, values={"kind": "enterprise", "name": "Acme Trading"}
    )
    customer_create(actor=administrator, values={"kind": "enterprise", "name": "Globex Harbor"})
    signed_in.goto(f"{live_server.url}/customers/")
    expect(signed_in.locator("#customer-rows tr[data-customer]")).to_have_count(2)

    signed_in.locator("#search-box").press_sequentially("trading")

    expect(signed_in.locator("#customer-rows tr[data-customer]")).to_have_count(1)
    expect(signed_in.locator(f'tr[data-customer="{acme.pk}"]')).to_contain_text("Acme Trading")
