"""Web-to-lead forms: the designer, and the public form with its spam defences."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from guanxi.core.errors import DomainError
from guanxi.customers.models import ConsentRecord
from guanxi.leads.models import AssignmentRule, Lead, LeadForm, LeadSource
from guanxi.leads.services import lead_convert
from guanxi.leads.webforms import lead_form_save

WORDING = "I agree that Guanxi may contact me about my enquiry."


@pytest.fixture
def web_form(admin_user: Any, teams: dict[str, Any]) -> LeadForm:
    return lead_form_save(
        actor=admin_user,
        values={
            "name": "Website",
            "slug": "website",
            "heading": "Talk to sales",
            "fields": ["name", "company", "email", "phone", "message"],
            "required_fields": ["email"],
            "consent_wording": WORDING,
            "consent_required": True,
            "consent_purpose": "marketing_email",
            "thank_you": "Thank you, we will call you soon.",
            "team": teams["east"],
        },
    )


def _post(client: Client, form: LeadForm, **data: str) -> Any:
    values = {"name": "Ann Lee", "email": "ann@example.com", "consent": "on", **data}
    return client.post(f"/leads/f/{form.slug}/", values, REMOTE_ADDR="203.0.113.7")


def test_the_public_form_opens_without_signing_in_and_may_be_framed(
    client: Client, web_form: LeadForm
) -> None:
    response = client.get("/leads/f/website/")

    assert response.status_code == 200
    assert "Talk to sales" in response.content.decode()
    assert WORDING in response.content.decode()
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_the_form_lists_its_embedding_sites_when_given(
    client: Client, web_form: LeadForm, admin_user: Any
) -> None:
    lead_form_save(
        actor=admin_user, values={"embed_origins": "https://www.example.com"}, form=web_form
    )

    response = client.get("/leads/f/website/")

    assert "frame-ancestors https://www.example.com" in response.headers["Content-Security-Policy"]


def test_other_pages_still_refuse_to_be_framed(client: Client, web_form: LeadForm) -> None:
    response = client.get("/accounts/login/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_submission_creates_a_web_lead_with_consent_and_shows_the_thank_you(
    client: Client, web_form: LeadForm, make_user: Any, teams: dict[str, Any]
) -> None:
    rep = make_user("sales-rep", teams["east"])
    rule = AssignmentRule.objects.create(name="East", team=teams["east"], method="round_robin")
    rule.members.set([rep])

    response = _post(client, web_form, company="Acme", message="Need a quote")

    assert response.status_code == 200
    assert "Thank you, we will call you soon." in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.source, lead.form, lead.owner, lead.team) == (
        LeadSource.WEB_FORM,
        web_form,
        rep,
        teams["east"],
    )
    assert (lead.consent_given, lead.consent_wording) == (True, WORDING)
    assert lead.source_detail.startswith("203.0.113.7")


def test_the_consent_becomes_a_consent_record_when_the_lead_is_converted(
    client: Client, web_form: LeadForm, admin_user: Any
) -> None:
    _post(client, web_form)

    converted = lead_convert(actor=admin_user, lead=Lead.objects.get())

    record = ConsentRecord.objects.get(customer_id=converted.customer_id)
    assert (record.purpose, record.wording) == ("marketing_email", WORDING)


def test_a_filled_honeypot_is_refused_and_stores_nothing(
    client: Client, web_form: LeadForm
) -> None:
    response = _post(client, web_form, website="http://spam.example")

    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert not Lead.objects.exists()


def test_too_many_submissions_from_one_address_are_refused(
    client: Client, web_form: LeadForm, settings: Any
) -> None:
    settings.LEADS_FORM_RATE_LIMIT = (2, 600)

    statuses = [_post(client, web_form, email=f"p{i}@example.com").status_code for i in range(3)]

    assert statuses == [200, 200, 429]
    assert Lead.objects.count() == 2


def test_another_address_is_not_held_back_by_the_first_ones_limit(
    client: Client, web_form: LeadForm, settings: Any
) -> None:
    settings.LEADS_FORM_RATE_LIMIT = (1, 600)
    _post(client, web_form)

    response = client.post(
        "/leads/f/website/",
        {"name": "Bo", "email": "bo@example.com", "consent": "on"},
        REMOTE_ADDR="198.51.100.9",
    )

    assert response.status_code == 200
    assert Lead.objects.count() == 2


def test_an_oversized_submission_is_refused(
    client: Client, web_form: LeadForm, settings: Any
) -> None:
    settings.LEADS_FORM_MAX_BYTES = 2000

    response = _post(client, web_form, message="x" * 3000)

    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_a_submission_without_the_required_consent_names_the_checkbox(
    client: Client, web_form: LeadForm
) -> None:
    response = _post(client, web_form, consent="")

    assert response.status_code == 400
    assert 'data-field-error="consent"' in response.content.decode()
    assert not Lead.objects.exists()


def test_a_submission_missing_a_required_field_keeps_what_was_typed(
    client: Client, web_form: LeadForm
) -> None:
    response = _post(client, web_form, email="", company="Acme Ltd")

    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field-error="email"' in body
    assert 'value="Acme Ltd"' in body
    assert not Lead.objects.exists()


def test_an_inactive_form_is_not_found(client: Client, web_form: LeadForm, admin_user: Any) -> None:
    lead_form_save(actor=admin_user, values={"is_active": False}, form=web_form)

    assert client.get("/leads/f/website/").status_code == 404


def test_designing_a_form_needs_the_sales_admin_permission(
    make_user: Any, teams: dict[str, Any]
) -> None:
    manager = make_user("sales-manager", teams["sales"])

    with pytest.raises(PermissionDenied):
        lead_form_save(
            actor=manager,
            values={"name": "x", "slug": "xyz", "heading": "x", "thank_you": "x"},
        )

    assert not LeadForm.objects.exists()


def test_a_form_address_already_used_is_refused(admin_user: Any, web_form: LeadForm) -> None:
    with pytest.raises(DomainError) as refused:
        lead_form_save(
            actor=admin_user,
            values={"name": "Other", "slug": "website", "heading": "x", "thank_you": "x"},
        )

    assert refused.value.errors[0]["field"] == "slug"
    assert LeadForm.objects.count() == 1


def test_a_bad_embedding_origin_is_refused(admin_user: Any, web_form: LeadForm) -> None:
    with pytest.raises(DomainError) as refused:
        lead_form_save(actor=admin_user, values={"embed_origins": "javascript:x"}, form=web_form)

    assert refused.value.errors[0]["field"] == "embed_origins"
    assert LeadForm.objects.get().embed_origins == ""
