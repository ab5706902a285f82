from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core.errors import Conflict, DomainError
from guanxi.customers.imports import service
from guanxi.customers.imports.readers import ImportFileError
from guanxi.customers.models import (
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    ImportedRow,
    ImportJob,
    ImportRowError,
    SearchToken,
    Tag,
)
from guanxi.customers.services import customer_create, customer_update

VALID_ID = "11010519491231002X"
BAD_ID = "110105194912310021"
HEADER = "姓名,类型,手机,邮箱,城市,标签"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


def csv_file(text: str, name: str = "customers.csv", encoding: str = "utf-8") -> Any:
    return SimpleUploadedFile(name, text.encode(encoding))


def phone(n: int) -> str:
    return f"1380000{n:04d}"


def people(count: int, start: int = 0) -> str:
    rows = [HEADER]
    rows += [
        f"客户{n},个人,{phone(n)},c{n}@example.com,上海,VIP" for n in range(start, start + count)
    ]
    return "\n".join(rows) + "\n"


def run(job: ImportJob, capture: Callable[..., Any]) -> ImportJob:
    """Start the job; in tests tasks run eagerly once the transaction commits."""
    with capture(execute=True):
        service.import_job_start(actor=job.created_by, job=job)
    job.refresh_from_db()
    return job


def analysed(actor: Any, upload: Any, **options: Any) -> ImportJob:
    job = service.import_job_create(actor=actor, upload=upload, **options)
    return service.import_job_analyse(actor=actor, job=job)


def imported(actor: Any, upload: Any, capture: Callable[..., Any], **options: Any) -> ImportJob:
    return run(analysed(actor, upload, **options), capture)


def errors_of(job: ImportJob) -> list[tuple[int, str, str]]:
    return list(
        ImportRowError.objects.filter(job=job)
        .order_by("row_number", "pk")
        .values_list("row_number", "field", "message")
    )


# --- reading and mapping ------------------------------------------------------------------------


def test_chinese_and_english_headers_map_to_customer_fields(rep: Any) -> None:
    text = (
        "客户名称,Type,手机号,E-Mail ,省份,出生日期,身份证号,统一社会信用代码,备注,标签\n"
        "x,个人,,,,,,,,\n"
    )

    job = service.import_job_create(actor=rep, upload=csv_file(text))

    assert list(job.mapping.values()) == [
        "name",
        "kind",
        "phone",
        "email",
        "region",
        "birthday",
        "id_number",
        "credit_code",
        "notes",
        "tags",
    ]
    assert (job.format, job.encoding, job.status) == ("csv", "utf-8-sig", "uploaded")


def test_an_unknown_column_is_ignored_with_a_warning(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = "姓名,类型,微信群\n张三,个人,老同学\n"

    job = imported(rep, csv_file(text), django_capture_on_commit_callbacks)

    assert job.mapping == {"0": "name", "1": "kind", "2": ""}
    assert [(w["header"], w["message"]) for w in job.warnings] == [
        ("微信群", "Unknown column: ignored.")
    ]
    assert (job.created_count, job.error_count) == (1, 0)
    assert Customer.objects.get().notes == ""


def test_a_custom_field_maps_by_its_label(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CustomFieldDefinition.objects.create(
        key="level", label_zh="会员等级", label_en="Member level", field_type="text"
    )

    job = imported(
        rep, csv_file("姓名,类型,会员等级\n张三,个人,金卡\n"), django_capture_on_commit_callbacks
    )

    assert job.mapping["2"] == "custom.level"
    assert Customer.objects.get().custom_fields == {"level": "金卡"}


def test_kind_accepts_chinese_and_english_labels(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = "名称,类型\n甲,个人\n乙,企业\n丙,政府\n丁,机构投资者\nE,Enterprise\nF,individual\n"

    imported(rep, csv_file(text), django_capture_on_commit_callbacks)

    assert dict(Customer.objects.values_list("name", "kind")) == {
        "甲": "person",
        "乙": "enterprise",
        "丙": "government",
        "丁": "investor",
        "E": "enterprise",
        "F": "person",
    }


def test_an_empty_file_is_refused_and_nothing_is_stored(rep: Any) -> None:
    with pytest.raises(ImportFileError) as refused:
        service.import_job_create(actor=rep, upload=csv_file(""))

    assert refused.value.message == "The file is empty."
    assert not ImportJob.objects.exists()


def test_a_header_only_file_is_refused(rep: Any) -> None:
    with pytest.raises(ImportFileError) as refused:
        service.import_job_create(actor=rep, upload=csv_file("姓名,类型\n\n"))

    assert refused.value.message == "The file has a header row but no data rows."
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused(rep: Any, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 10

    with pytest.raises(ImportFileError):
        service.import_job_create(actor=rep, upload=csv_file(people(2)))

    assert not ImportJob.objects.exists()


def test_a_gbk_file_with_chinese_headers_is_read(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    upload = csv_file("姓名,类型,手机\n张三,个人,13812345678\n欧阳娜娜,个人,\n", encoding="gbk")

    job = imported(rep, upload, django_capture_on_commit_callbacks)

    assert job.encoding == "gb18030"
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "欧阳娜娜"]


def test_broken_utf8_refuses_only_the_damaged_row(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = "姓名,类型,手机\n张三,个人,13812345678\nBAD,个人,\n王五,个人,\n".encode()
    upload = SimpleUploadedFile("broken.csv", data.replace(b"BAD", b"\xe6\xff\xff"))

    job = imported(rep, upload, django_capture_on_commit_callbacks)

    assert job.encoding == "utf-8-sig"
    assert errors_of(job) == [
        (3, "", "This row holds bytes that are not valid UTF-8 text; it was not read.")
    ]
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "王五"]


def test_tab_and_semicolon_separated_files_are_read(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    imported(rep, csv_file("姓名\t类型\n张三\t个人\n", "a.tsv"), django_capture_on_commit_callbacks)
    imported(rep, csv_file("姓名;类型\n李四;个人\n", "b.csv"), django_capture_on_commit_callbacks)

    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "李四"]


def test_a_file_in_neither_utf8_nor_gbk_is_refused(rep: Any) -> None:
    upload = SimpleUploadedFile("latin.csv", b"name,kind\n\x81\x20x,person\n")

    with pytest.raises(ImportFileError) as refused:
        service.import_job_create(actor=rep, upload=upload)

    assert "not valid UTF-8 or GBK" in refused.value.message
    assert not ImportJob.objects.exists()


def test_an_xlsx_workbook_is_read_from_its_first_sheet(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["客户名称", "客户类型", "联系电话", "生日"])
    sheet.write_row(1, 0, ["张三", "个人", 13812345678])
    sheet.write_datetime(
        1,
        3,
        dt.date(1990, 5, 17),
        workbook.add_format({"num_format": "yyyy-mm-dd"}),
    )
    sheet.write_row(2, 0, ["李四", "个人", 12345])
    workbook.close()

    job = imported(
        rep, SimpleUploadedFile("c.xlsx", buffer.getvalue()), django_capture_on_commit_callbacks
    )

    customer = Customer.objects.get()
    assert job.format == "xlsx"
    assert (customer.name, customer.phone, customer.birthday.isoformat()) == (
        "张三",
        "+8613812345678",
        "1990-05-17",
    )
    assert errors_of(job) == [(3, "phone", "“****45” is not a valid phone number.")]


# --- validation and dry run ---------------------------------------------------------------------


def test_row_errors_name_row_field_and_message_and_never_stop_other_rows(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    text = (
        "姓名,类型,手机,身份证号\n"
        "张三,个人,13812345678,\n"
        "李四,个人,12345,\n"
        "王五,个人,,110105194912310021\n"
        ",外星人,,\n"
        "赵六,个人,13812345679,11010519491231002X\n"
    )

    job = imported(rep, csv_file(text), django_capture_on_commit_callbacks)

    assert errors_of(job) == [
        (3, "phone", "“****45” is not a valid phone number."),
        (4, "id_number", "The ID number is not valid (check digit or date)."),
        (5, "kind", "Choose one of the allowed values."),
        (5, "name", "This field is required."),
    ]
    assert (job.created_count, job.error_count, job.rows_done) == (2, 3, 5)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "赵六"]


def test_error_values_of_personal_fields_are_stored_masked(rep: Any) -> None:
    job = analysed(rep, csv_file(f"姓名,类型,身份证号\n张三,个人,{BAD_ID}\n"))

    error = ImportRowError.objects.get(job=job)

    assert error.value == "1101**********0021"
    assert BAD_ID not in str(job.dry_run)


def test_the_dry_run_counts_and_writes_no_customer_tag_or_history(rep: Any) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "老客户", "phone": phone(1)})
    before = (Customer.objects.count(), Tag.objects.count(), Customer.history.count())
    tokens = SearchToken.objects.count()

    job = analysed(rep, csv_file(people(3) + "坏,个人,123,,,\n"))

    assert {k: v for k, v in job.dry_run.items() if k != "errors"} == {
        "rows": 4,
        "valid": 3,
        "invalid": 1,
        "would_create": 2,
        "would_update": 0,
        "would_skip": 1,
    }
    assert job.dry_run["errors"] == [
        {
            "row": 5,
            "field": "phone",
            "message": "“****3” is not a valid phone number.",
            "value": "****3",
        }
    ]
    assert (job.status, job.rows_total) == ("analysed", 4)
    assert (Customer.objects.count(), Tag.objects.count(), Customer.history.count()) == before
    assert SearchToken.objects.count() == tokens
    assert not ImportedRow.objects.exists()


def test_a_new_mapping_is_checked_and_applied_by_the_dry_run(rep: Any) -> None:
    job = service.import_job_create(actor=rep, upload=csv_file("A,B\n张三,个人\n"))

    with pytest.raises(DomainError) as refused:
        service.import_job_analyse(actor=rep, job=job, mapping={"0": "name", "1": "name"})
    job = service.import_job_analyse(actor=rep, job=job, mapping={"0": "name", "1": "kind"})

    assert refused.value.errors == [
        {"field": "mapping.1", "message": "Another column already feeds this field."}
    ]
    assert job.mapping == {"0": "name", "1": "kind"}
    assert job.dry_run["would_create"] == 1


# --- commit -------------------------------------------------------------------------------------


def test_an_import_creates_customers_with_codes_tags_search_tokens_and_history(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = imported(rep, csv_file(people(3)), django_capture_on_commit_callbacks)

    customers = list(Customer.objects.order_by("pk"))
    assert [c.name for c in customers] == ["客户0", "客户1", "客户2"]
    assert [c.code for c in customers] == [f"C{c.pk:08d}" for c in customers]
    assert [(c.owner, c.team, c.source, c.phone) for c in customers] == [
        (rep, rep.team, "import", f"+86{phone(n)}") for n in range(3)
    ]
    assert CustomerTag.objects.filter(tag__name="VIP").count() == 3
    assert set(
        SearchToken.objects.filter(customer=customers[0]).values_list("token", flat=True)
    ) == {
        "客",
        "户",
        "客户",
    }
    history = Customer.history.filter(history_change_reason=f"import #{job.pk}")
    assert history.count() == 3
    assert {(h.history_type, h.history_user_id) for h in history} == {("+", rep.pk)}
    assert (job.status, job.created_count, job.rows_done, job.progress) == ("completed", 3, 3, 100)
    assert job.finished_at is not None
    assert not job.file


def test_imported_ids_are_never_reused_and_later_creates_do_not_collide(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = imported(rep, csv_file(people(2)), django_capture_on_commit_callbacks)
    last = Customer.objects.order_by("-pk").first()
    service.import_job_revert(actor=rep, job=first)

    imported(rep, csv_file(people(2, start=10)), django_capture_on_commit_callbacks)
    typed = customer_create(actor=rep, values={"kind": "person", "name": "手工"})

    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    assert ids[0] > last.pk
    assert ids[-1] == typed.pk
    assert typed.code == f"C{typed.pk:08d}"
    assert len(set(Customer.objects.values_list("code", flat=True))) == 3


def test_the_customer_imported_event_is_published_once_per_batch(
    rep: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.core import events

    settings.IMPORT_BATCH_SIZE = 2
    received: list[dict[str, Any]] = []

    def handler(**payload: Any) -> None:
        received.append(payload)

    events.subscribe("customer.imported", handler)
    try:
        job = imported(rep, csv_file(people(3)), django_capture_on_commit_callbacks)
    finally:
        events.unsubscribe("customer.imported", handler)

    assert [len(p["created_ids"]) for p in received] == [2, 1]
    assert {p["job_id"] for p in received} == {job.pk}


def test_the_same_file_again_is_refused_naming_the_first_job(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = imported(rep, csv_file(people(2)), django_capture_on_commit_callbacks)

    with pytest.raises(Conflict) as refused:
        service.import_job_create(actor=rep, upload=csv_file(people(2)))

    assert refused.value.message == f"This file was already imported (job #{first.pk})."
    assert ImportJob.objects.count() == 1


def test_importing_the_same_file_twice_creates_nothing_new(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    imported(rep, csv_file(people(3)), django_capture_on_commit_callbacks)
    ids = sorted(Customer.objects.values_list("pk", flat=True))

    second = imported(
        rep, csv_file(people(3)), django_capture_on_commit_callbacks, allow_reimport=True
    )

    assert sorted(Customer.objects.values_list("pk", flat=True)) == ids
    assert (second.created_count, second.skipped_count) == (0, 3)
    assert CustomerTag.objects.count() == 3


@pytest.mark.parametrize(
    ("policy", "expected_names", "counts"),
    [
        ("skip", ["旧名"], (0, 0, 1)),
        ("update", ["新名"], (0, 1, 0)),
        ("create", ["新名", "旧名"], (1, 0, 0)),
    ],
)
def test_duplicate_policies(
    rep: Any,
    django_capture_on_commit_callbacks: Any,
    policy: str,
    expected_names: list[str],
    counts: tuple[int, int, int],
) -> None:
    customer_create(actor=rep, values={"kind": "person", "name": "旧名", "phone": phone(7)})

    job = imported(
        rep,
        csv_file(f"姓名,类型,手机\n新名,个人,{phone(7)}\n"),
        django_capture_on_commit_callbacks,
        duplicate_policy=policy,
    )

    assert sorted(Customer.objects.values_list("name", flat=True)) == expected_names
    assert (job.created_count, job.updated_count, job.skipped_count) == counts


def test_rows_match_by_code_email_id_number_and_credit_code(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = customer_create(actor=rep, values={"kind": "person", "name": "A", "code": "K-1"})
    b = customer_create(actor=rep, values={"kind": "person", "name": "B", "email": "b@x.cn"})
    c = customer_create(actor=rep, values={"kind": "person", "name": "C", "id_number": VALID_ID})
    d = customer_create(
        actor=rep, values={"kind": "enterprise", "name": "D", "credit_code": "91110108551385082Q"}
    )
    text = (
        "名称,类型,编码,邮箱,身份证号,信用代码,城市\n"
        "A2,个人,K-1,,,,北京\n"
        "B2,个人,,B@X.CN,,,北京\n"
        f"C2,个人,,,{VALID_ID},,北京\n"
        "D2,企业,,,,91110108551385082Q,北京\n"
    )

    job = imported(
        rep, csv_file(text), django_capture_on_commit_callbacks, duplicate_policy="update"
    )

    assert job.updated_count == 4
    assert dict(Customer.objects.values_list("pk", "name")) == {
        a.pk: "A2",
        b.pk: "B2",
        c.pk: "C2",
        d.pk: "D2",
    }


def test_an_update_keeps_personal_before_values_encrypted_and_writes_history(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    existing = customer_create(
        actor=rep, values={"kind": "person", "name": "张三", "code": "K1", "phone": phone(1)}
    )

    job = imported(
        rep,
        csv_file(f"编码,手机,城市\nK1,{phone(2)},杭州\n"),
        django_capture_on_commit_callbacks,
        duplicate_policy="update",
    )

    row = ImportedRow.objects.get(job=job)
    assert row.action == "updated"
    assert set(row.before) == {"phone", "phone_index", "phone_last4", "city"}
    assert row.before["phone"].startswith("g1:")
    assert phone(1) not in str(row.before)
    existing.refresh_from_db()
    assert (existing.phone, existing.city, existing.version) == (f"+86{phone(2)}", "杭州", 2)
    assert row.customer_version_after == 2
    latest = existing.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_change_reason, latest.history_user) == (
        "~",
        f"import #{job.pk}",
        rep,
    )


def test_an_update_never_touches_a_customer_out_of_the_importers_scope(
    rep: Any, make_user: Any, teams: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    other = make_user("sales-rep", teams["north"])
    theirs = customer_create(
        actor=other, values={"kind": "person", "name": "他的", "phone": phone(3)}
    )

    job = imported(
        rep,
        csv_file(f"姓名,类型,手机\n改名,个人,{phone(3)}\n"),
        django_capture_on_commit_callbacks,
        duplicate_policy="update",
    )

    theirs.refresh_from_db()
    assert theirs.name == "他的"
    assert errors_of(job) == [
        (2, "", f"This row matches a customer you may not change (#{theirs.pk}).")
    ]


def test_a_row_repeating_an_earlier_row_of_the_file_is_skipped(
    rep: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    text = f"姓名,类型,手机\n甲,个人,{phone(1)}\n乙,个人,{phone(1)}\n丙,个人,{phone(1)}\n"

    job = imported(rep, csv_file(text), django_capture_on_commit_callbacks)

    assert list(Customer.objects.values_list("name", flat=True)) == ["甲"]
    assert (job.dry_run["would_create"], job.dry_run["would_skip"]) == (1, 2)
    assert (job.created_count, job.skipped_count) == (1, 2)


# --- crash and resume ---------------------------------------------------------------------------


def test_a_crash_between_batches_leaves_whole_batches_and_a_rerun_resumes(
    rep: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    job = analysed(rep, csv_file(people(5)))
    monkeypatch.setattr(service, "_fail_after_batches", 1)

    with pytest.raises(service.SimulatedCrash):
        run(job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    first = sorted(Customer.objects.values_list("name", flat=True))
    monkeypatch.setattr(service, "_fail_after_batches", None)
    service.import_job_run(job.pk)
    job.refresh_from_db()

    assert first == ["客户0", "客户1"]
    assert sorted(Customer.objects.values_list("name", flat=True)) == [f"客户{n}" for n in range(5)]
    assert ImportedRow.objects.filter(job=job).count() == 5
    assert (job.status, job.created_count, job.rows_done, job.last_row_committed) == (
        "completed",
        5,
        5,
        6,
    )


def test_a_crash_inside_a_batch_rolls_the_whole_batch_back(
    rep: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    job = analysed(rep, csv_file(people(5)))
    service.import_job_start(actor=rep, job=job)
    real_write = service._write
    calls = {"n": 0}

    def write_then_die(ctx: Any, plan: Any) -> None:
        calls["n"] += 1
        real_write(ctx, plan)
        if calls["n"] == 2:
            raise RuntimeError("power cut")

    monkeypatch.setattr(service, "_write", write_then_die)

    with pytest.raises(RuntimeError):
        service.import_job_run(job.pk)
    job.refresh_from_db()

    assert sorted(Customer.objects.values_list("name", flat=True)) == ["客户0", "客户1"]
    assert (job.status, job.last_row_committed, job.created_count) == ("failed", 3, 2)
    assert "power cut" in job.message
    assert SearchToken.objects.exclude(customer__name__in=["客户0", "客户1"]).count() == 0


def test_a_failed_import_can_be_started_again_and_completes(
    rep: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    job = analysed(rep, csv_file(people(3)))
    monkeypatch.setattr(service, "_fail_after_batches", 1)
    with pytest.raises(service.SimulatedCrash):
        run(job, django_capture_on_commit_callbacks)
    monkeypatch.setattr(service, "_fail_after_batches", None)
    job.refresh_from_db()

    job = run(job, django_capture_on_commit_callbacks)

    assert (job.status, job.created_count, Customer.objects.count()) == ("completed", 3, 3)


def test_a_job_cannot_start_before_its_dry_run(rep: Any) -> None:
    job = service.import_job_create(actor=rep, upload=csv_file(people(1)))

    with pytest.raises(Conflict):
        service.import_job_start(actor=rep, job=job)

    job.refresh_from_db()
    assert job.status == "uploaded"


# --- revert -------------------------------------------------------------------------------------


def test_revert_deletes_created_restores_updated_and_keeps_rows_edited_since(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    old = customer_create(
        actor=rep, values={"kind": "person", "name": "旧", "code": "K1", "phone": phone(1)}
    )
    text = (
        f"姓名,类型,编码,手机,标签\n新,个人,K1,{phone(9)},导入\n"
        f"甲,个人,,{phone(2)},\n乙,个人,,{phone(3)},\n"
    )
    job = imported(
        rep, csv_file(text), django_capture_on_commit_callbacks, duplicate_policy="update"
    )
    edited = Customer.objects.get(name="乙")
    customer_update(actor=rep, customer=edited, values={"city": "成都"}, version=edited.version)

    result = service.import_job_revert(actor=rep, job=job)

    old.refresh_from_db()
    assert result == {
        "deleted": 1,
        "restored": 1,
        "kept": 1,
        "linked": 0,
        "missing": 0,
        "kept_ids": [edited.pk],
    }
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["乙", "旧"]
    assert (old.name, old.phone, old.version) == ("旧", f"+86{phone(1)}", 3)
    assert not CustomerTag.objects.filter(customer=old).exists()
    assert set(SearchToken.objects.filter(customer=old).values_list("token", flat=True)) == {"旧"}
    job.refresh_from_db()
    assert job.status == "reverted"
    deleted = Customer.history.filter(history_type="-").get()
    assert (deleted.name, deleted.history_change_reason, deleted.history_user) == (
        "甲",
        f"revert import #{job.pk}",
        rep,
    )


def test_revert_keeps_a_created_customer_that_other_records_now_refer_to(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.services import contact_create

    job = imported(rep, csv_file(people(2)), django_capture_on_commit_callbacks)
    with_contact = Customer.objects.get(name="客户1")
    contact_create(actor=rep, customer=with_contact, values={"name": "秘书"})

    result = service.import_job_revert(actor=rep, job=job)

    assert list(Customer.objects.values_list("name", flat=True)) == ["客户1"]
    assert (result["deleted"], result["linked"], result["kept_ids"]) == (1, 1, [with_contact.pk])


def test_only_a_completed_import_can_be_reverted(rep: Any) -> None:
    job = analysed(rep, csv_file(people(1)))

    with pytest.raises(Conflict):
        service.import_job_revert(actor=rep, job=job)


def test_another_users_job_is_not_theirs_to_start_or_revert(
    rep: Any, make_user: Any, teams: dict[str, Any]
) -> None:
    from django.core.exceptions import PermissionDenied

    job = analysed(rep, csv_file(people(1)))
    other = make_user("sales-rep", teams["east"])

    with pytest.raises(PermissionDenied):
        service.import_job_start(actor=other, job=job)

    job.refresh_from_db()
    assert job.status == "analysed"


def test_a_user_without_the_create_permission_cannot_import(make_user: Any) -> None:
    from django.core.exceptions import PermissionDenied

    analyst = make_user("analyst")

    with pytest.raises(PermissionDenied):
        service.import_job_create(actor=analyst, upload=csv_file(people(1)))

    assert not ImportJob.objects.exists()


# --- size ---------------------------------------------------------------------------------------


def test_a_50_mb_csv_analyses_and_imports_in_streamed_batches(
    rep: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """~50 MB in ~11,000 wide rows (4.5 KB of notes each): the row rate is measured in bench/."""
    notes = "备注" * 1500  # 4,500 bytes of UTF-8
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("姓名,类型,手机,备注\n")
        rows = 0
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(f"客户{rows},个人,1{rows + 3000000000:010d},{notes}\n")
            rows += 1
    started = time.monotonic()

    with path.open("rb") as stream:
        job = analysed(rep, File(stream, name="big.csv"))
    job = run(job, django_capture_on_commit_callbacks)

    assert path.stat().st_size >= 50 * 1024 * 1024
    assert (job.dry_run["rows"], job.dry_run["invalid"]) == (rows, 0)
    assert (job.status, job.created_count, job.error_count) == ("completed", rows, 0)
    assert Customer.objects.count() == rows
    assert time.monotonic() - started < 120


def test_each_committed_batch_leaves_one_access_log_entry_with_its_counts(
    rep: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.audit.models import AccessLog

    settings.IMPORT_BATCH_SIZE = 2

    job = imported(rep, csv_file(people(3)), django_capture_on_commit_callbacks)

    entries = AccessLog.objects.filter(action="import").order_by("pk")
    assert [(e.actor, e.target_model, e.target_pk, e.detail) for e in entries] == [
        (rep, "customers.importjob", str(job.pk), {"rows": 2, "created": 2, "updated": 0}),
        (rep, "customers.importjob", str(job.pk), {"rows": 1, "created": 1, "updated": 0}),
    ]


def test_a_reverted_customer_leaves_no_search_token_tag_or_row_link(
    rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = imported(rep, csv_file(people(2)), django_capture_on_commit_callbacks)

    service.import_job_revert(actor=rep, job=job)

    assert not Customer.objects.exists()
    assert not SearchToken.objects.exists()
    assert not CustomerTag.objects.exists()
    assert list(ImportedRow.objects.values_list("customer_id", "revert_outcome")) == [
        (None, "deleted"),
        (None, "deleted"),
    ]
    assert Customer.history.filter(history_type="-").count() == 2
