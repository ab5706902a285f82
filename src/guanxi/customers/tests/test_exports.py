from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from python_calamine import CalamineWorkbook

from guanxi.accounts.models import Role
from guanxi.customers import exports
from guanxi.customers.imports import service
from guanxi.customers.models import Customer, CustomFieldDefinition
from guanxi.customers.selectors import CustomerFilters
from guanxi.customers.services import customer_create, customers_tag, tag_get_or_create

VALID_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-manager", teams["sales"])


@pytest.fixture
def exporter(make_user: Any, teams: dict[str, Any]) -> Any:
    """May export but not reveal: sees everything masked."""
    Role.objects.create(
        code="exporter",
        name="Exporter",
        permissions=["customers.view", "customers.export"],
        data_scope="all",
    )
    return make_user("exporter", teams["hq"])


@pytest.fixture
def zhang(manager: Any) -> Customer:
    return customer_create(
        actor=manager,
        values={
            "kind": "person",
            "name": "张三",
            "phone": "13812345678",
            "email": "zhang@example.com",
            "id_number": VALID_ID,
            "bank_account": "6222020200001234567",
            "city": "上海",
        },
    )


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def _export(actor: Any, fmt: str = "csv", **filters: Any) -> Any:
    return exports.customers_export(actor=actor, filters=CustomerFilters(**filters), fmt=fmt)


def _column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_a_csv_export_has_a_bom_translated_headers_and_masked_personal_data(
    exporter: Any, zhang: Customer
) -> None:
    response = _export(exporter)

    rows = _csv(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0][:8] == [
        "customer code",
        "kind",
        "name",
        "status",
        "source channel",
        "lifecycle stage",
        "phone",
        "email",
    ]
    assert _column(rows, "name") == ["张三"]
    assert _column(rows, "kind") == ["Individual"]
    assert _column(rows, "phone") == ["138****5678"]
    assert _column(rows, "email") == ["z***@example.com"]
    assert _column(rows, "ID number") == ["1101**********002X"]
    assert _column(rows, "bank account") == ["**** **** **** 4567"]


def test_an_actor_with_the_reveal_permission_exports_plain_values(
    manager: Any, zhang: Customer
) -> None:
    rows = _csv(_export(manager))

    assert _column(rows, "phone") == ["'+8613812345678"]  # a leading + is neutralised too
    assert _column(rows, "email") == ["zhang@example.com"]
    assert _column(rows, "ID number") == [VALID_ID]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(manager: Any, name: str) -> None:
    customer_create(actor=manager, values={"kind": "person", "name": name, "city": "=1+2"})

    rows = _csv(_export(manager))

    assert _column(rows, "name") == [f"'{name}"]
    assert _column(rows, "city") == ["'=1+2"]


def test_a_leading_tab_or_carriage_return_is_neutralised_and_plain_text_is_not() -> None:
    cells = ["\t=1", "\r=1", "张三", "a=b", ""]

    assert [exports.neutralise(cell) for cell in cells] == ["'\t=1", "'\r=1", "张三", "a=b", ""]


def test_an_xlsx_export_reads_back_with_the_same_cells(exporter: Any, manager: Any) -> None:
    customer_create(actor=manager, values={"kind": "enterprise", "name": "=cmd|' /C calc'!A0"})
    customer_create(
        actor=manager, values={"kind": "person", "name": "李四", "phone": "13812345679"}
    )

    response = _export(exporter, "xlsx")

    content = b"".join(response.streaming_content)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    rows = sheet.to_python()
    names = [row[rows[0].index("name")] for row in rows[1:]]
    phones = [row[rows[0].index("phone")] for row in rows[1:]]
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert names == ["'=cmd|' /C calc'!A0", "李四"]
    assert phones == ["", "138****5679"]


def test_custom_fields_are_columns_labelled_in_the_users_language(manager: Any) -> None:
    CustomFieldDefinition.objects.create(
        key="level", label_zh="会员等级", label_en="Member level", field_type="text"
    )
    CustomFieldDefinition.objects.create(
        key="vip", label_zh="贵宾", label_en="VIP", field_type="boolean"
    )
    customer_create(
        actor=manager,
        values={"kind": "person", "name": "王五", "custom_fields": {"level": "金卡", "vip": True}},
    )

    with translation.override("zh-hans"):
        rows = _csv(_export(manager))
        yes = translation.gettext("Yes")

    assert rows[0][-2:] == ["会员等级", "贵宾"]
    assert rows[1][-2:] == ["金卡", yes]


def test_tags_are_one_cell_and_every_customer_comes_out_across_keyset_chunks(
    manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 2)
    created = [
        customer_create(actor=manager, values={"kind": "person", "name": f"客户{n}"})
        for n in range(5)
    ]
    for name in ("VIP", "老客户"):
        customers_tag(
            actor=manager,
            customers=Customer.objects.filter(pk=created[0].pk),
            tag=tag_get_or_create(actor=manager, name=name),
        )

    rows = _csv(_export(manager))

    assert _column(rows, "name") == [f"客户{n}" for n in range(5)]
    assert _column(rows, "Tags")[0] == "VIP, 老客户"


def test_an_export_follows_the_filters_and_the_data_scope(
    manager: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    outsider = make_user("sales-rep", teams["other"])
    customer_create(actor=manager, values={"kind": "person", "name": "上海客户", "city": "上海"})
    customer_create(actor=manager, values={"kind": "person", "name": "北京客户", "city": "北京"})
    customer_create(actor=outsider, values={"kind": "person", "name": "别人的", "city": "上海"})

    rows = _csv(_export(manager, city="上海"))

    assert _column(rows, "name") == ["上海客户"]


def test_a_role_without_the_export_permission_gets_403_and_nothing_is_logged(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    rep = make_user("sales-rep", teams["east"])
    client = Client()
    client.force_login(rep)

    page = client.get("/customers/export/?format=csv")
    api = Client().get("/api/v1/customers/export?format=csv", headers=bearer(rep))

    assert (page.status_code, api.status_code) == (403, 403)
    if apps.is_installed("guanxi.audit"):
        from guanxi.audit.models import AccessLog

        assert not AccessLog.objects.filter(action="export").exists()


@pytest.mark.skipif(
    not apps.is_installed("guanxi.audit"), reason="the audit app is not installed yet"
)
def test_each_export_writes_one_access_log_row_with_the_count_and_the_filter(
    manager: Any, zhang: Customer
) -> None:
    from guanxi.audit.models import AccessLog

    customer_create(actor=manager, values={"kind": "person", "name": "李四", "city": "上海"})

    b"".join(_export(manager, "csv", city="上海").streaming_content)

    entry = AccessLog.objects.get(action="export")
    assert (entry.actor, entry.target_model, entry.target_pk) == (
        manager,
        "customers.customer",
        "",
    )
    assert entry.detail == {
        "format": "csv",
        "count": 2,
        "revealed": True,
        "filters": {"city": "上海", "sort": "-pk"},
    }


def test_the_export_page_serves_the_list_filters_as_a_download(
    manager: Any, zhang: Customer
) -> None:
    client = Client()
    client.force_login(manager)

    response = client.get("/customers/export/", {"format": "csv", "city": "上海"})

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.csv"')
    assert _column(_csv(response), "name") == ["张三"]


def test_an_unknown_format_is_refused(manager: Any) -> None:
    client = Client()
    client.force_login(manager)

    api = client.get("/api/v1/customers/export?format=pdf")

    assert api.status_code == 422


def test_an_exported_file_imports_back_as_the_same_customers(
    manager: Any, zhang: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    customer_create(
        actor=manager,
        values={"kind": "enterprise", "name": "宏达有限公司", "credit_code": "91110108551385082Q"},
    )
    content = b"".join(_export(manager).streaming_content)

    job = service.import_job_create(actor=manager, upload=SimpleUploadedFile("export.csv", content))
    job = service.import_job_analyse(actor=manager, job=job)

    assert job.dry_run["errors"] == []
    assert (job.dry_run["would_create"], job.dry_run["would_skip"]) == (0, 2)
    assert {job.mapping[str(i)] for i in range(10)} >= {"code", "kind", "name", "phone"}
