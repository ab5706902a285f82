"""The leads pages: list, entry, lead page, pool, form designer, settings and the demo."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from guanxi.core.navigation import items_for
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_assign
from guanxi.leads import demo
from guanxi.leads.models import Lead, LeadForm, LeadModel, PoolMove, ScoringRule
from guanxi.leads.scoring import scoring_rules_seed

ClientFor = Callable[[Any], Any]
LIST_QUERIES = 5  # session, user, role, leads with owner and industry, the menu's team


def shown(html: str, kind: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'data-{kind}="(\d+)"', html)]


def test_the_lead_list_shows_the_reps_own_leads_only(
    rep: Any, teammate: Any, make_lead: Any, client_for: ClientFor
) -> None:
    mine = make_lead(rep, "Ann")
    make_lead(teammate, "Bob")

    response = client_for(rep).get(reverse("leads:list"))

    assert response.status_code == 200
    assert shown(response.content.decode(), "lead") == [mine.pk]


def test_the_lead_list_filters_by_intent_and_sorts_by_score(
    rep: Any, make_lead: Any, client_for: ClientFor
) -> None:
    scoring_rules_seed()
    low = make_lead(rep, "Low")
    high = make_lead(rep, "High", title="IT Director", size_band="huge", company="X")
    make_lead(rep, "Other")

    html = client_for(rep).get(reverse("leads:list") + "?sort=-score").content.decode()
    filtered = client_for(rep).get(reverse("leads:list") + "?intent=B").content.decode()

    assert shown(html, "lead")[0] == high.pk
    assert shown(filtered, "lead") == [high.pk]
    assert low.pk in shown(html, "lead")


def test_the_list_loads_more_rows_through_a_keyset_cursor(
    rep: Any, make_lead: Any, client_for: ClientFor, monkeypatch: Any
) -> None:
    from guanxi.leads import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    leads = [make_lead(rep, f"L{i}") for i in range(3)]
    client = client_for(rep)

    first = client.get(reverse("leads:list")).content.decode()
    cursor = re.search(r"cursor=([\w-]+)", first)
    assert cursor is not None
    second = client.get(
        reverse("leads:list") + f"?cursor={cursor.group(1)}", headers={"HX-Request": "true"}
    ).content.decode()

    assert shown(first, "lead") == [leads[2].pk, leads[1].pk]
    assert shown(second, "lead") == [leads[0].pk]


def test_a_lead_entered_on_the_page_opens_its_page(rep: Any, client_for: ClientFor) -> None:
    response = client_for(rep).post(
        reverse("leads:create"),
        {"name": "周杰", "company": "星河科技", "phone": "13812345678", "source": "manual"},
    )

    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("leads:detail", args=[lead.pk])
    assert lead.owner == rep


def test_a_bad_phone_on_the_entry_page_is_shown_on_the_field(
    rep: Any, client_for: ClientFor
) -> None:
    response = client_for(rep).post(
        reverse("leads:create"), {"name": "A", "phone": "12", "source": "manual"}
    )

    assert response.status_code == 200
    assert 'data-field-error="phone"' in response.content.decode()
    assert not Lead.objects.exists()


def test_the_lead_page_shows_the_score_breakdown_and_the_timeline(
    rep: Any, make_lead: Any, client_for: ClientFor
) -> None:
    scoring_rules_seed()
    lead = make_lead(rep, "Ann", title="IT Director")

    html = client_for(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert 'id="score-breakdown"' in html
    assert "director" in html
    assert 'data-event="created"' in html


def test_a_foreign_lead_page_is_not_found(
    rep: Any, teammate: Any, make_lead: Any, client_for: ClientFor
) -> None:
    lead = make_lead(teammate)

    response = client_for(rep).get(reverse("leads:detail", args=[lead.pk]))

    assert response.status_code == 404


def test_recording_a_reply_on_the_page_raises_the_score(
    rep: Any, make_lead: Any, client_for: ClientFor
) -> None:
    scoring_rules_seed()
    lead = make_lead(rep)

    client_for(rep).post(reverse("leads:event", args=[lead.pk]), {"kind": "replied"})

    assert Lead.objects.get(pk=lead.pk).score == 15


def test_converting_on_the_page_opens_the_new_customer(
    rep: Any, make_lead: Any, client_for: ClientFor
) -> None:
    lead = make_lead(rep, "周杰", company="星河科技")

    response = client_for(rep).post(
        reverse("leads:convert", args=[lead.pk]),
        {"version": lead.version, "opportunity_name": "First deal"},
    )

    customer = Customer.objects.get(name="星河科技")
    assert response.url == reverse("customers:detail", args=[customer.pk])


def test_the_pool_page_masks_phones_and_claims_on_a_click(
    rep: Any, make_customer: Any, client_for: ClientFor
) -> None:
    customer = make_customer(rep, "王芳", phone="13812345678")
    customer_assign(actor=None, customers=Customer.objects.filter(pk=customer.pk), owner=None)
    client = client_for(rep)

    html = client.get(reverse("leads:pool")).content.decode()
    response = client.post(reverse("leads:pool-claim", args=["customers", customer.pk]))

    assert "138****5678" in html
    assert "13812345678" not in html
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner == rep
    assert PoolMove.objects.count() == 1


def test_the_form_designer_saves_a_form_and_shows_its_embed_snippet(
    admin_user: Any, client_for: ClientFor
) -> None:
    client = client_for(admin_user)

    response = client.post(
        reverse("leads:form-create"),
        {
            "name": "Website",
            "slug": "website",
            "heading": "Talk to sales",
            "form_fields": ["name", "email"],
            "required_fields": ["email"],
            "consent_wording": "I agree.",
            "consent_required": "on",
            "consent_purpose": "processing",
            "thank_you": "Thanks!",
            "is_active": "on",
        },
    )
    form = LeadForm.objects.get()
    html = client.get(response.url).content.decode()

    assert (form.fields, form.required_fields) == (["name", "email"], ["name", "email"])
    assert '&lt;iframe src="http://testserver/leads/f/website/?embed=1"' in html


@pytest.mark.parametrize("page", ["leads:forms", "leads:settings", "leads:form-create"])
def test_the_admin_pages_are_forbidden_to_a_rep(page: str, rep: Any, client_for: ClientFor) -> None:
    assert client_for(rep).get(reverse(page)).status_code == 403


def test_the_settings_page_adds_a_scoring_rule(admin_user: Any, client_for: ClientFor) -> None:
    response = client_for(admin_user).post(
        reverse("leads:settings"),
        {"action": "scoring", "factor": "title", "value": "CEO", "points": "30"},
    )

    assert response.status_code == 302
    assert list(ScoringRule.objects.values_list("factor", "value", "points")) == [
        ("title", "CEO", 30)
    ]


def test_the_menu_offers_leads_and_the_pool_to_a_rep_and_the_settings_to_an_admin(
    rep: Any, admin_user: Any
) -> None:
    rep_keys = {item["key"] for item in items_for(rep)}
    admin_keys = {item["key"] for item in items_for(admin_user)}

    assert {"leads", "pool"} <= rep_keys
    assert "lead-settings" not in rep_keys
    assert {"lead-forms", "lead-settings"} <= admin_keys


def test_the_demo_loads_leads_a_form_and_a_trained_model_once(db: Any) -> None:
    from guanxi.accounts import demo as accounts_demo
    from guanxi.customers import demo as customers_demo

    accounts_demo.load()
    customers_demo.load()

    first = demo.load()
    again = demo.load()

    assert "open and 140 closed leads" in first[0]
    assert again == ["Demo leads: already loaded."]
    assert Lead.objects.count() == 164
    assert LeadForm.objects.filter(slug="contact-us").exists()
    assert LeadModel.objects.filter(is_active=True).count() == 1


def test_the_lead_pages_speak_chinese(rep: Any, make_lead: Any, client_for: ClientFor) -> None:
    lead = make_lead(rep, "周杰", phone="13812345678")
    client = client_for(rep)

    listing = client.get(reverse("leads:list"), headers={"Accept-Language": "zh-hans"})
    page = client.get(
        reverse("leads:detail", args=[lead.pk]), headers={"Accept-Language": "zh-hans"}
    )

    assert "新建线索" in listing.content.decode()
    assert "时间线" in page.content.decode()
    assert "138****5678" in page.content.decode()


def test_the_reveal_button_shows_the_phone_to_the_rep(
    rep: Any, make_lead: Any, client_for: ClientFor
) -> None:
    lead = make_lead(rep, phone="13812345678")

    response = client_for(rep).post(reverse("leads:reveal", args=[lead.pk]), {"field": "phone"})

    assert '<span class="revealed" data-revealed="phone">+8613812345678</span>' in (
        response.content.decode()
    )


def test_the_customer_panel_shows_the_pool_history_and_lets_the_owner_give_it_back(
    rep: Any, teammate: Any, make_customer: Any, client_for: ClientFor
) -> None:
    from guanxi.leads.pool import pool_release_customer

    customer = make_customer(rep, "王芳")
    client = client_for(rep)
    panel = client.get(reverse("leads:customer-panel", args=[customer.pk])).content.decode()
    assert 'id="release-customer"' in panel

    pool_release_customer(actor=rep, customer=customer, reason="不合适")
    client_for(teammate).post(reverse("leads:pool-claim", args=["customers", customer.pk]))
    mine = client_for(teammate).get(reverse("leads:customer-panel", args=[customer.pk]))
    foreign = client.get(reverse("leads:customer-panel", args=[customer.pk]))

    assert "不合适" in mine.content.decode()
    assert foreign.status_code == 404


def test_the_lead_list_page_reads_a_fixed_number_of_queries(
    rep: Any, make_lead: Any, client_for: ClientFor, django_assert_num_queries: Any
) -> None:
    for index in range(5):
        make_lead(rep, f"L{index}")
    client = client_for(rep)
    client.get(reverse("leads:list"))

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(reverse("leads:list"))

    assert len(shown(response.content.decode(), "lead")) == 5
