from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.utils import timezone

from guanxi.interactions.models import Attachment, Interaction
from guanxi.interactions.tests.factories import EXE, PDF, PNG, upload

BODY = {
    "channel": "phone_call",
    "direction": "inbound",
    "duration_seconds": 180,
    "summary": "客户来电咨询价格",
    "outcome": "报价已发",
    "next_step": "周五回访",
}


def post_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def test_logging_through_the_api_answers_201_with_the_interaction(
    rep: Any, customer: Any, bearer: Any
) -> None:
    response = post_json(f"/api/v1/customers/{customer.pk}/interactions", BODY, bearer(rep))

    body = response.json()
    stored = Interaction.objects.get()
    assert response.status_code == 201
    assert body["id"] == stored.pk
    assert (body["channel"], body["direction"], body["duration_seconds"]) == (
        "phone_call",
        "inbound",
        180,
    )
    assert body["owner"] == {"id": rep.pk, "name": str(rep)}
    assert body["attachments"] == []
    assert stored.summary == "客户来电咨询价格"


def test_a_replayed_idempotency_key_returns_the_first_answer_and_logs_once(
    rep: Any, customer: Any, bearer: Any
) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "call-2024-0001"}
    url = f"/api/v1/customers/{customer.pk}/interactions"

    first = post_json(url, BODY, headers)
    second = post_json(url, BODY, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Interaction.objects.count() == 1


def test_a_reused_idempotency_key_with_another_body_is_a_conflict(
    rep: Any, customer: Any, bearer: Any
) -> None:
    headers = {**bearer(rep), "Idempotency-Key": "call-2024-0002"}
    url = f"/api/v1/customers/{customer.pk}/interactions"
    post_json(url, BODY, headers)

    response = post_json(url, {**BODY, "summary": "另一件事"}, headers)

    assert response.status_code == 409
    assert Interaction.objects.count() == 1


def test_logging_on_a_foreign_customer_is_404(rep: Any, foreign_customer: Any, bearer: Any) -> None:
    response = post_json(f"/api/v1/customers/{foreign_customer.pk}/interactions", BODY, bearer(rep))

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert not Interaction.objects.exists()


def test_badly_typed_input_is_422_naming_each_field(rep: Any, customer: Any, bearer: Any) -> None:
    body = {**BODY, "channel": "pigeon", "occurred_at": "last tuesday", "colour": "red"}

    response = post_json(f"/api/v1/customers/{customer.pk}/interactions", body, bearer(rep))

    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "channel",
        "colour",
        "occurred_at",
    ]
    assert not Interaction.objects.exists()


def test_a_missing_summary_is_422_naming_it(rep: Any, customer: Any, bearer: Any) -> None:
    body = {key: value for key, value in BODY.items() if key != "summary"}

    response = post_json(f"/api/v1/customers/{customer.pk}/interactions", body, bearer(rep))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["summary"]


def test_a_broken_rule_is_400_naming_the_fields(rep: Any, customer: Any, bearer: Any) -> None:
    ahead = (timezone.now() + dt.timedelta(days=3)).isoformat()
    body = {**BODY, "occurred_at": ahead, "duration_seconds": -3}

    response = post_json(f"/api/v1/customers/{customer.pk}/interactions", body, bearer(rep))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["occurred_at", "duration_seconds"]
    assert not Interaction.objects.exists()


def test_the_timeline_lists_in_keyset_pages_and_filters_by_channel(
    rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    base = timezone.now() - dt.timedelta(days=10)
    made = [
        make_interaction(
            customer,
            channel="visit" if index % 2 else "email",
            occurred_at=base + dt.timedelta(hours=index),
        )
        for index in range(5)
    ]
    url = f"/api/v1/customers/{customer.pk}/interactions"

    first = Client().get(f"{url}?limit=3", headers=bearer(rep)).json()
    rest = Client().get(f"{url}?limit=3&cursor={first['next_cursor']}", headers=bearer(rep)).json()
    visits = Client().get(f"{url}?channel=visit", headers=bearer(rep)).json()

    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert ids == [i.pk for i in reversed(made)]
    assert rest["next_cursor"] is None
    assert [item["id"] for item in visits["items"]] == [made[3].pk, made[1].pk]


def test_a_foreign_timeline_is_404(rep: Any, foreign_customer: Any, bearer: Any) -> None:
    response = Client().get(
        f"/api/v1/customers/{foreign_customer.pk}/interactions", headers=bearer(rep)
    )

    assert response.status_code == 404


def test_an_interaction_is_read_changed_and_deleted(
    rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)
    url = f"/api/v1/interactions/{interaction.pk}"

    read = Client().get(url, headers=bearer(rep))
    changed = Client().patch(
        url,
        data={"version": 1, "outcome": "签约"},
        content_type="application/json",
        headers=bearer(rep),
    )
    deleted = Client().delete(url, headers=bearer(rep))

    assert read.json()["summary"] == "电话回访"
    assert (changed.status_code, changed.json()["outcome"], changed.json()["version"]) == (
        200,
        "签约",
        2,
    )
    assert deleted.status_code == 204
    assert not Interaction.objects.exists()


def test_a_stale_patch_is_409(
    rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep, version=3)

    response = Client().patch(
        f"/api/v1/interactions/{interaction.pk}",
        data={"version": 2, "outcome": "签约"},
        content_type="application/json",
        headers=bearer(rep),
    )

    assert response.status_code == 409
    assert Interaction.objects.get(pk=interaction.pk).outcome == ""


def test_a_foreign_interaction_is_404(
    other_rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer)

    response = Client().get(f"/api/v1/interactions/{interaction.pk}", headers=bearer(other_rep))

    assert response.status_code == 404


def test_files_are_uploaded_and_downloaded_as_attachments(
    rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)

    uploaded = Client().post(
        f"/api/v1/interactions/{interaction.pk}/attachments",
        data={"files": [upload("报价单.pdf", PDF), upload("photo.png", PNG)]},
        headers=bearer(rep),
    )
    first = uploaded.json()[0]
    download = Client().get(first["url"], headers=bearer(rep))

    assert uploaded.status_code == 201
    assert [(a["name"], a["content_type"]) for a in uploaded.json()] == [
        ("报价单.pdf", "application/pdf"),
        ("photo.png", "image/png"),
    ]
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_a_disguised_upload_is_refused_naming_the_files_field(
    rep: Any, customer: Any, bearer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)

    response = Client().post(
        f"/api/v1/interactions/{interaction.pk}/attachments",
        data={"files": [upload("invoice.pdf", EXE)]},
        headers=bearer(rep),
    )

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["files"]
    assert not Attachment.objects.exists()


def test_a_foreign_attachment_download_is_404(
    rep: Any,
    other_rep: Any,
    customer: Any,
    bearer: Any,
    make_interaction: Callable[..., Interaction],
) -> None:
    interaction = make_interaction(customer, owner=rep)
    uploaded = Client().post(
        f"/api/v1/interactions/{interaction.pk}/attachments",
        data={"files": [upload("a.pdf", PDF)]},
        headers=bearer(rep),
    )

    response = Client().get(uploaded.json()[0]["url"], headers=bearer(other_rep))

    assert response.status_code == 404
