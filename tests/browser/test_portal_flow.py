"""The customer portal in a real browser: a contact opens a ticket with a photo, an agent
replies and resolves it, the contact reads the reply, downloads the photo again and answers
the emailed CSAT survey."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PageProblems

pytestmark = pytest.mark.browser

CONTACT_PASSWORD = "blue-harbour-lantern-7"


@pytest.fixture
def portal_world(make_user: Any, teams: dict[str, Any]) -> dict[str, Any]:
    from guanxi.customers.services import contact_create, customer_create
    from guanxi.portal import services

    rep = make_user("sales-rep", teams["east"], username="rep.east")
    agent = make_user("service-agent", teams["east"], username="agent.east")
    customer = customer_create(actor=rep, values={"kind": "enterprise", "name": "上海华东机械"})
    contact = contact_create(
        actor=rep, customer=customer, values={"name": "Li Lei"}, emails=["li.lei@example.com"]
    )
    account = services.portal_invite(actor=agent, contact=contact)
    services.portal_password_set(account=account, password=CONTACT_PASSWORD)
    survey = services.survey_create(actor=None, name="Service CSAT", kind="csat")
    return {"agent": agent, "customer": customer, "survey": survey}


def test_a_contact_opens_a_ticket_reads_the_reply_and_answers_the_csat_survey(
    tab: Page,
    problems: PageProblems,
    live_server: Any,
    settings: Any,
    smtp_server: Any,
    portal_world: dict[str, Any],
    tmp_path: Any,
) -> None:
    from guanxi.portal.models import SurveyResponse
    from guanxi.service.models import Ticket
    from guanxi.service.services import ticket_reply, ticket_transition

    settings.PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = tmp_path / "pump.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    tab.goto(f"{live_server.url}/portal/login/")
    tab.get_by_label("Email").first.fill("li.lei@example.com")
    tab.get_by_label("Password").fill(CONTACT_PASSWORD)
    tab.locator("#portal-login button[type=submit]").click()
    expect(tab.locator("#portal-user")).to_contain_text("Li Lei")

    tab.locator("#new-ticket").click()
    tab.get_by_label("Subject").fill("The pump makes a grinding noise")
    tab.get_by_label("Describe the problem").fill("Since Monday, at full load.")
    tab.get_by_label("Attachments").set_input_files(str(photo))
    tab.locator("#portal-ticket-form button[type=submit]").click()
    expect(tab.locator("h1")).to_contain_text("The pump makes a grinding noise")

    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.customer_id) == ("portal", portal_world["customer"].pk)
    agent = portal_world["agent"]
    ticket_reply(actor=agent, ticket=ticket, body="Please check the bearing; a part is on its way.")
    ticket_reply(actor=agent, ticket=ticket, body="Internal: warranty expired", internal=True)
    ticket_transition(actor=agent, ticket=Ticket.objects.get(), status="resolved")

    tab.reload()
    expect(tab.locator("#conversation")).to_contain_text("a part is on its way")
    expect(tab.locator("#conversation")).not_to_contain_text("warranty expired")
    with tab.expect_download() as download:
        tab.get_by_role("link", name="pump.png").click()
    assert Path(download.value.path()).read_bytes() == photo.read_bytes()

    link = None
    for _attempt in range(3):
        for message in smtp_server.wait_for(2):
            found = re.search(r"https?://\S+/portal/s/\S+/", message.get_content())
            link = link or (found.group(0) if found else None)
        if link:
            break
    assert link is not None
    tab.goto(link)
    tab.locator("label[for$='-5']").first.click()
    tab.locator("#survey-submit").click()
    expect(tab.locator("#survey-thanks")).to_be_visible()

    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [5]
    assert problems.console_errors == []
    assert problems.page_errors == []
    assert problems.csp_violations == []
    tab.goto(link)  # the same link again: refused with a page that says why
    expect(tab.locator("#link-refused")).to_contain_text("already been answered")
