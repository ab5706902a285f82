from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from guanxi.core import events
from guanxi.core.errors import DomainError, StaleEdit
from guanxi.interactions.models import Attachment, Interaction
from guanxi.interactions.services import (
    attachments_add,
    interaction_delete,
    interaction_log,
    interaction_update,
    interactions_move,
)
from guanxi.interactions.tests.factories import (
    EXE,
    PDF,
    PNG,
    office_file,
    stored_files,
    upload,
)


def fields_of(error: DomainError) -> list[str]:
    return [item["field"] for item in error.errors]


@pytest.fixture
def logged_events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, **payload: Any) -> None:
        seen.append((name, payload))

    events.subscribe("*", record)
    yield seen
    events.unsubscribe("*", record)


def test_logging_stores_the_interaction_with_the_actor_as_owner(rep: Any, customer: Any) -> None:
    occurred_at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)

    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={
            "channel": "phone_call",
            "direction": "outbound",
            "occurred_at": occurred_at,
            "duration_seconds": 300,
            "summary": " 介绍新品 ",
            "outcome": "有兴趣",
            "next_step": "发报价",
            "next_step_date": timezone.localdate() + dt.timedelta(days=3),
        },
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.customer, stored.owner, stored.team) == (customer, rep, rep.team)
    assert (stored.channel, stored.direction, stored.occurred_at) == (
        "phone_call",
        "outbound",
        occurred_at,
    )
    assert (stored.duration_seconds, stored.summary, stored.outcome) == (300, "介绍新品", "有兴趣")


def test_logging_without_a_time_records_now(rep: Any, customer: Any) -> None:
    before = timezone.now()

    interaction = interaction_log(
        actor=rep, customer=customer, values={"channel": "note", "summary": "备注"}
    )

    assert before <= interaction.occurred_at <= timezone.now()
    assert interaction.direction == "none"


def test_a_visit_keeps_its_check_in_coordinates(rep: Any, customer: Any) -> None:
    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={
            "channel": "visit",
            "summary": "上门拜访",
            "location_name": "浦东",
            "latitude": "31.2304",
            "longitude": 121.4737,
        },
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.latitude, stored.longitude) == (Decimal("31.230400"), Decimal("121.473700"))


def test_logging_publishes_interaction_logged_after_commit(
    rep: Any, customer: Any, logged_events: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        interaction = interaction_log(
            actor=rep, customer=customer, values={"channel": "email", "summary": "发报价"}
        )

    assert logged_events == [
        (
            "interaction.logged",
            {
                "interaction_id": interaction.pk,
                "customer_id": customer.pk,
                "channel": "email",
                "occurred_at": interaction.occurred_at.isoformat(),
                "actor_id": rep.pk,
            },
        )
    ]


def test_logging_refuses_an_actor_without_the_create_permission(
    make_user: Any, teams: dict[str, Any], customer: Any
) -> None:
    analyst = make_user("analyst", teams["hq"])

    with pytest.raises(PermissionDenied):
        interaction_log(
            actor=analyst, customer=customer, values={"channel": "note", "summary": "x"}
        )

    assert not Interaction.objects.exists()


def test_logging_on_a_customer_outside_the_actors_scope_is_not_found(
    rep: Any, foreign_customer: Any
) -> None:
    with pytest.raises(Http404):
        interaction_log(
            actor=rep, customer=foreign_customer, values={"channel": "note", "summary": "x"}
        )

    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"summary": "   "}, "summary"),
        ({"summary": "长" * 501}, "summary"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"duration_seconds": "ten"}, "duration_seconds"),
        ({"channel": "email", "duration_seconds": 60}, "duration_seconds"),
        ({"next_step_date": "2020-13-45"}, "next_step_date"),
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": -91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 180.000001}, "longitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
        ({"latitude": "north", "longitude": 0}, "latitude"),
        ({"latitude": 30}, "longitude"),
        ({"contact_id": 999999}, "contact_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(
    rep: Any, customer: Any, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "phone_call", "summary": "回访", **values},
        )

    assert fields_of(refused.value) == [field]
    assert not Interaction.objects.exists()


def test_a_time_more_than_a_day_ahead_is_refused(rep: Any, customer: Any) -> None:
    ahead = timezone.now() + dt.timedelta(days=1, minutes=5)

    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "meeting", "summary": "会议", "occurred_at": ahead},
        )

    assert fields_of(refused.value) == ["occurred_at"]
    assert not Interaction.objects.exists()


def test_a_time_later_today_is_accepted(rep: Any, customer: Any) -> None:
    soon = timezone.now() + dt.timedelta(hours=20)

    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "meeting", "summary": "会议", "occurred_at": soon},
    )

    assert Interaction.objects.get().pk == interaction.pk


def test_a_next_step_before_the_interaction_is_refused(rep: Any, customer: Any) -> None:
    occurred_at = timezone.now() - dt.timedelta(days=2)

    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={
                "channel": "visit",
                "summary": "拜访",
                "occurred_at": occurred_at,
                "next_step_date": timezone.localdate(occurred_at) - dt.timedelta(days=1),
            },
        )

    assert fields_of(refused.value) == ["next_step_date"]


def test_a_next_step_on_the_day_of_the_interaction_is_accepted(rep: Any, customer: Any) -> None:
    occurred_at = timezone.now() - dt.timedelta(days=2)

    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={
            "channel": "visit",
            "summary": "拜访",
            "occurred_at": occurred_at,
            "next_step_date": timezone.localdate(occurred_at),
        },
    )

    assert interaction.next_step_date == timezone.localdate(occurred_at)


def test_every_bad_field_is_reported_at_once(rep: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "fax", "summary": "", "duration_seconds": -5},
            files=[upload("virus.pdf", EXE)],
        )

    assert fields_of(refused.value) == ["channel", "summary", "duration_seconds", "files"]


def test_a_contact_of_the_customer_is_linked(rep: Any, customer: Any) -> None:
    from guanxi.customers.services import contact_create

    contact = contact_create(actor=rep, customer=customer, values={"name": "李秘书"})

    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "wechat", "summary": "微信沟通", "contact_id": contact.pk},
    )

    assert Interaction.objects.get(pk=interaction.pk).contact == contact


def test_a_contact_of_another_customer_is_refused(
    rep: Any, customer: Any, make_customer: Callable[..., Any]
) -> None:
    from guanxi.customers.services import contact_create

    elsewhere = contact_create(
        actor=rep, customer=make_customer(rep, "别家"), values={"name": "外人"}
    )

    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "wechat", "summary": "微信", "contact_id": elsewhere.pk},
        )

    assert fields_of(refused.value) == ["contact_id"]


# --- attachments -------------------------------------------------------------------------------


def test_allowed_files_are_stored_with_their_name_type_size_and_digest(
    rep: Any, customer: Any, media_root: Path
) -> None:
    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "email", "summary": "合同"},
        files=[
            upload("合同.pdf", PDF),
            upload("photo.PNG", PNG),
            upload("offer.docx", office_file("word/")),
            upload("notes.txt", "会议纪要\n".encode()),
        ],
    )

    attachments = list(interaction.attachments.order_by("pk"))
    assert [(a.original_name, a.content_type, a.size) for a in attachments] == [
        ("合同.pdf", "application/pdf", len(PDF)),
        ("photo.PNG", "image/png", len(PNG)),
        (
            "offer.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            len(office_file("word/")),
        ),
        ("notes.txt", "text/plain", len("会议纪要\n".encode())),
    ]
    assert attachments[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachments[0].file.read() == PDF
    assert len(stored_files(media_root)) == 4


def test_an_executable_renamed_to_pdf_is_refused_and_nothing_is_written(
    rep: Any, customer: Any, media_root: Path
) -> None:
    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "email", "summary": "发票"},
            files=[upload("invoice.pdf", EXE, "application/pdf")],
        )

    assert fields_of(refused.value) == ["files"]
    assert "invoice.pdf" in refused.value.message
    assert not Interaction.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", EXE),
        ("photo.png", PDF),
        ("photo.jpg", PNG),
        ("report.docx", office_file("xl/")),
        ("sheet.xlsx", b"PK\x03\x04 not really a zip"),
        ("notes.txt", EXE),
        ("no-extension", PDF),
    ],
)
def test_a_file_whose_content_does_not_match_an_allowed_type_is_refused(
    rep: Any, customer: Any, name: str, content: bytes
) -> None:
    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "note", "summary": "附件"},
            files=[upload(name, content)],
        )

    assert fields_of(refused.value) == ["files"]
    assert not Interaction.objects.exists()


def test_more_than_five_files_are_refused_and_nothing_is_written(
    rep: Any, customer: Any, media_root: Path
) -> None:
    files = [upload(f"page{index}.pdf", PDF) for index in range(6)]

    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep, customer=customer, values={"channel": "note", "summary": "x"}, files=files
        )

    assert fields_of(refused.value) == ["files"]
    assert not Interaction.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_written(
    rep: Any, customer: Any, settings: Any, media_root: Path
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 64
    files = [upload("small.pdf", PDF[:60]), upload("big.pdf", PDF + b" " * 64)]

    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep, customer=customer, values={"channel": "note", "summary": "x"}, files=files
        )

    assert fields_of(refused.value) == ["files"]
    assert "big.pdf" in refused.value.message
    assert not Interaction.objects.exists()
    assert stored_files(media_root) == []


def test_an_empty_file_is_refused(rep: Any, customer: Any) -> None:
    with pytest.raises(DomainError) as refused:
        interaction_log(
            actor=rep,
            customer=customer,
            values={"channel": "note", "summary": "x"},
            files=[upload("empty.pdf", b"")],
        )

    assert fields_of(refused.value) == ["files"]


def test_files_can_be_added_up_to_five_per_interaction(
    rep: Any, customer: Any, media_root: Path
) -> None:
    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "note", "summary": "x"},
        files=[upload(f"{index}.pdf", PDF) for index in range(4)],
    )

    with pytest.raises(DomainError) as refused:
        attachments_add(
            actor=rep,
            interaction=interaction,
            files=[upload("5.pdf", PDF), upload("6.pdf", PDF)],
        )

    assert fields_of(refused.value) == ["files"]
    assert interaction.attachments.count() == 4
    assert len(stored_files(media_root)) == 4


def test_adding_a_file_stores_it_on_the_interaction(rep: Any, customer: Any) -> None:
    interaction = interaction_log(
        actor=rep, customer=customer, values={"channel": "note", "summary": "x"}
    )

    added = attachments_add(actor=rep, interaction=interaction, files=[upload("a.png", PNG)])

    assert list(interaction.attachments.all()) == added


# --- update and delete -------------------------------------------------------------------------


def test_an_update_changes_the_fields_and_bumps_the_version(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)

    updated = interaction_update(
        actor=rep,
        interaction=interaction,
        values={"summary": "改过的摘要", "outcome": "成交"},
        version=1,
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.summary, stored.outcome, stored.version) == ("改过的摘要", "成交", 2)
    assert updated.version == 2


def test_a_stale_update_is_refused_and_changes_nothing(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)
    Interaction.objects.filter(pk=interaction.pk).update(version=2)

    with pytest.raises(StaleEdit):
        interaction_update(actor=rep, interaction=interaction, values={"summary": "新"}, version=1)

    assert Interaction.objects.get(pk=interaction.pk).summary == "电话回访"


def test_an_update_is_held_to_the_same_rules(
    rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep, duration_seconds=120)

    with pytest.raises(DomainError) as refused:
        interaction_update(actor=rep, interaction=interaction, values={"channel": "sms"}, version=1)

    assert fields_of(refused.value) == ["duration_seconds"]
    assert Interaction.objects.get(pk=interaction.pk).channel == "phone_call"


def test_an_interaction_outside_the_actors_scope_cannot_be_updated(
    other_rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer)

    with pytest.raises(Http404):
        interaction_update(
            actor=other_rep, interaction=interaction, values={"summary": "x"}, version=1
        )

    assert Interaction.objects.get(pk=interaction.pk).summary == "电话回访"


def test_the_owner_deletes_their_interaction_and_its_files_after_commit(
    rep: Any, customer: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    interaction = interaction_log(
        actor=rep,
        customer=customer,
        values={"channel": "note", "summary": "x"},
        files=[upload("a.pdf", PDF)],
    )

    with django_capture_on_commit_callbacks(execute=True):
        interaction_delete(actor=rep, interaction=interaction)

    assert not Interaction.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []


def test_someone_elses_interaction_needs_the_delete_permission(
    make_user: Any,
    teams: dict[str, Any],
    rep: Any,
    customer: Any,
    make_interaction: Callable[..., Interaction],
) -> None:
    agent = make_user("service-agent", teams["east"])
    interaction = make_interaction(customer, owner=rep)

    with pytest.raises(PermissionDenied):
        interaction_delete(actor=agent, interaction=interaction)

    assert Interaction.objects.filter(pk=interaction.pk).exists()


def test_a_manager_deletes_a_reps_interaction(
    manager: Any, rep: Any, customer: Any, make_interaction: Callable[..., Interaction]
) -> None:
    interaction = make_interaction(customer, owner=rep)

    interaction_delete(actor=manager, interaction=interaction)

    assert not Interaction.objects.exists()


# --- merge support -----------------------------------------------------------------------------


def test_moving_rehomes_the_merged_customers_interactions_only(
    rep: Any, make_customer: Callable[..., Any], make_interaction: Callable[..., Interaction]
) -> None:
    keep, gone_a, gone_b, other = (make_customer(rep) for _ in range(4))
    moved = [make_interaction(gone_a), make_interaction(gone_a), make_interaction(gone_b)]
    untouched = make_interaction(other)

    count = interactions_move(from_customer_ids=[gone_a.pk, gone_b.pk], to_customer_id=keep.pk)

    assert count == 3
    assert set(keep.interactions.values_list("pk", flat=True)) == {i.pk for i in moved}
    assert Interaction.objects.get(pk=untouched.pk).customer_id == other.pk
    assert set(Interaction.objects.filter(customer=keep).values_list("version", flat=True)) == {2}
