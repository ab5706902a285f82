from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers import exports
from guanxi.customers.imports import service
from guanxi.customers.models import Customer, ImportRowError
from guanxi.customers.selectors import CustomerFilters
from guanxi.customers.services import customer_create
from guanxi.customers.vcard import VCARD_COLUMNS, card_to_row, split_cards

FIELDS = ("name", "phone", "email", "region", "city", "birthday", "occupation", "notes")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


@pytest.fixture
def people(manager: Any) -> list[Customer]:
    return [
        customer_create(
            actor=manager,
            values={
                "kind": "person",
                "name": "欧阳娜娜",
                "phone": "13812345678",
                "email": "nana@example.com",
                "region": "上海市",
                "city": "上海",
                "birthday": "1990-05-17",
                "occupation": "设计师",
                "notes": "喜欢; 逗号, 和换行\n第二行",
            },
        ),
        customer_create(
            actor=manager,
            values={"kind": "person", "name": "John Smith", "email": "john@example.com"},
        ),
        customer_create(actor=manager, values={"kind": "enterprise", "name": "宏达有限公司"}),
    ]


def _snapshot(customers: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(getattr(c, name) for name in FIELDS) for c in customers)


def _vcards(actor: Any, version: str) -> bytes:
    response = exports.customers_export(
        actor=actor, filters=CustomerFilters(), fmt="vcf", version=version
    )
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_individuals_survive_a_vcard_round_trip(
    manager: Any,
    people: list[Customer],
    make_user: Any,
    teams: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    version: str,
) -> None:
    content = _vcards(manager, version)
    Customer.objects.all().delete()
    importer = make_user("sales-rep", teams["north"])

    job = service.import_job_create(
        actor=importer, upload=SimpleUploadedFile("contacts.vcf", content)
    )
    job = service.import_job_analyse(actor=importer, job=job)
    with django_capture_on_commit_callbacks(execute=True):
        service.import_job_start(actor=importer, job=job)
    job.refresh_from_db()

    assert f"VERSION:{version}" in content.decode()
    assert content.decode().count("BEGIN:VCARD") == 2  # organisations are not cards
    assert (job.format, job.status, job.created_count, job.error_count) == (
        "vcf",
        "completed",
        2,
        0,
    )
    assert _snapshot(Customer.objects.all()) == _snapshot(people[:2])


def test_a_vcard_export_masks_contact_data_without_the_reveal_permission(
    make_user: Any, people: list[Customer]
) -> None:
    from guanxi.accounts.models import Role

    Role.objects.create(
        code="exporter",
        name="Exporter",
        permissions=["customers.view", "customers.export"],
        data_scope="all",
    )
    exporter = make_user("exporter")

    text = _vcards(exporter, "3.0").decode()

    assert "13812345678" not in text
    assert "TEL;TYPE=CELL:138****5678" in text
    assert "EMAIL:n***@example.com" in text


def test_a_broken_card_is_one_row_error_and_the_others_are_imported(manager: Any) -> None:
    content = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张三\r\nTEL:13812345678\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:坏\r\nBEGIN:VEVENT\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:李四\r\nTEL;VALUE=uri:tel:+86-138-1234-5679\r\nEND:VCARD\r\n"
    ).encode()

    job = service.import_job_create(actor=manager, upload=SimpleUploadedFile("c.vcf", content))
    job = service.import_job_analyse(actor=manager, job=job)

    assert list(ImportRowError.objects.filter(job=job).values_list("row_number", "message")) == [
        (2, "This vCard cannot be read.")
    ]
    assert (job.dry_run["would_create"], job.dry_run["invalid"]) == (2, 1)


def test_a_card_without_fn_takes_its_name_from_n_and_prefers_the_mobile_number() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nN:张;伟;;;\nTEL;TYPE=WORK:010-12345678\n"
        "TEL;TYPE=CELL:13912345678\nBDAY:19800102\nORG:宏达\nADR;TYPE=HOME:;;路1号;杭州;浙江省;;\n"
        "END:VCARD\n"
    )

    row = dict(zip(VCARD_COLUMNS, card_to_row(text), strict=True))

    assert row == {
        "kind": "person",
        "name": "张伟",
        "phone": "13912345678",
        "email": "",
        "region": "浙江省",
        "city": "杭州",
        "birthday": "1980-01-02",
        "occupation": "",
        "notes": "Organisation: 宏达",
        "more_phones": "010-12345678",
        "more_emails": "",
        "addresses": '[{"kind": "home", "street": "路1号", "city": "杭州", "region": "浙江省", '
        '"postal_code": "", "country": "CN"}]',
    }


def test_cards_are_split_one_by_one_from_a_stream_of_lines() -> None:
    lines = ["BEGIN:VCARD\n", "FN:a\n", "END:VCARD\n", "junk\n", "begin:vcard\n", "FN:b\n"]

    cards = list(split_cards(lines))

    assert cards == [(1, "BEGIN:VCARD\nFN:a\nEND:VCARD\n"), (2, "begin:vcard\nFN:b\n")]


def test_the_birthday_of_a_round_trip_is_a_date(manager: Any, people: list[Customer]) -> None:
    content = _vcards(manager, "4.0").decode()

    assert "BDAY:19900517" in content
    assert people[0].birthday == dt.date(1990, 5, 17)


@pytest.fixture
def reachable(manager: Any, people: list[Customer]) -> Customer:
    """欧阳娜娜 with two more phones, another email and two postal addresses."""
    from guanxi.customers.services import address_save, contact_create

    person = people[0]
    contact_create(
        actor=manager,
        customer=person,
        values={"name": "欧阳娜娜"},
        phones=["13900000001", "021-62345678"],
        emails=["nana.work@example.com"],
    )
    address_save(
        actor=manager,
        customer=person,
        values={"kind": "home", "region": "上海市", "city": "上海", "street": "南京西路1号"},
    )
    address_save(
        actor=manager,
        customer=person,
        values={"kind": "office", "region": "浙江省", "city": "杭州", "street": "文三路2号"},
    )
    return person


def _card_of(content: bytes, name: str) -> Any:
    import vobject

    return next(card for card in vobject.readComponents(content.decode()) if card.fn.value == name)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_card_carries_every_phone_email_and_address(
    manager: Any, reachable: Customer, version: str
) -> None:
    card = _card_of(_vcards(manager, version), "欧阳娜娜")

    phones = [line.value.removeprefix("tel:") for line in card.contents["tel"]]
    emails = [line.value for line in card.contents["email"]]
    addresses = [(a.value.street, a.value.city, a.value.region) for a in card.contents["adr"]]
    assert phones == ["+8613812345678", "+8613900000001", "+862162345678"]
    assert emails == ["nana@example.com", "nana.work@example.com"]
    assert addresses == [("南京西路1号", "上海", "上海市"), ("文三路2号", "杭州", "浙江省")]
    assert [a.params["TYPE"][0].lower() for a in card.contents["adr"]] == ["home", "work"]


def test_every_phone_email_and_street_is_masked_without_the_reveal_permission(
    make_user: Any, reachable: Customer
) -> None:
    from guanxi.accounts.models import Role

    Role.objects.create(
        code="exporter",
        name="Exporter",
        permissions=["customers.view", "customers.export"],
        data_scope="all",
    )

    text = _vcards(make_user("exporter"), "4.0").decode()

    assert "139****0001" in text
    assert "n***@example.com" in text
    assert "南京西路1号" not in text
    assert "13900000001" not in text
    assert "nana.work" not in text


CARD = (
    "BEGIN:VCARD\r\nVERSION:{version}\r\nFN:王芳\r\n"
    "TEL;TYPE=CELL:13812340001\r\nTEL;TYPE=WORK:021-62345678\r\nTEL;TYPE=HOME:13812340002\r\n"
    "EMAIL:fang@example.com\r\nEMAIL:fang.work@example.com\r\n"
    "ADR;TYPE=HOME:;;南京西路1号;上海;上海市;200040;CN\r\n"
    "ADR;TYPE=WORK:;;文三路2号;杭州;浙江省;310012;CN\r\nEND:VCARD\r\n"
)


def _import(actor: Any, content: str, capture: Any) -> Any:
    job = service.import_job_create(
        actor=actor, upload=SimpleUploadedFile("c.vcf", content.encode())
    )
    job = service.import_job_analyse(actor=actor, job=job)
    with capture(execute=True):
        service.import_job_start(actor=actor, job=job)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_every_phone_email_and_address_of_a_card_is_imported(
    manager: Any, django_capture_on_commit_callbacks: Any, version: str
) -> None:
    from guanxi.customers.models import Address, ContactMethod

    job = _import(manager, CARD.format(version=version), django_capture_on_commit_callbacks)

    customer = Customer.objects.get()
    methods = ContactMethod.objects.filter(customer=customer).order_by("pk")
    assert (job.created_count, customer.phone, customer.email) == (
        1,
        "+8613812340001",
        "fang@example.com",
    )
    assert [(m.contact.name, m.kind, m.value) for m in methods] == [
        ("王芳", "phone", "+862162345678"),
        ("王芳", "phone", "+8613812340002"),
        ("王芳", "email", "fang.work@example.com"),
    ]
    assert list(
        Address.objects.order_by("pk").values_list(
            "kind", "street", "city", "region", "postal_code", "is_primary"
        )
    ) == [
        ("home", "南京西路1号", "上海", "上海市", "200040", True),
        ("office", "文三路2号", "杭州", "浙江省", "310012", False),
    ]
    assert customer.contacts.get().history.get().history_change_reason == f"import #{job.pk}"


def test_a_bad_second_phone_refuses_the_card(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    card = CARD.format(version="3.0").replace("021-62345678", "123")

    job = _import(manager, card, django_capture_on_commit_callbacks)

    assert not Customer.objects.exists()
    assert list(ImportRowError.objects.filter(job=job).values_list("field", "value")) == [
        ("more_phones.0", "****3")
    ]


def test_reverting_a_card_import_removes_its_contact_and_addresses(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.models import Address, Contact, ContactMethod

    job = _import(manager, CARD.format(version="4.0"), django_capture_on_commit_callbacks)

    result = service.import_job_revert(actor=manager, job=job)

    assert (result["deleted"], result["linked"]) == (1, 0)
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
    assert not ContactMethod.objects.exists()
    assert not Address.objects.exists()
    assert Contact.history.filter(history_type="-").count() == 1


def test_a_contact_added_since_keeps_the_imported_card_on_revert(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.services import contact_create

    job = _import(manager, CARD.format(version="3.0"), django_capture_on_commit_callbacks)
    contact_create(actor=manager, customer=Customer.objects.get(), values={"name": "助理"})

    result = service.import_job_revert(actor=manager, job=job)

    assert (result["deleted"], result["linked"]) == (0, 1)
    assert Customer.objects.count() == 1
