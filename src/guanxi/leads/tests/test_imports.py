"""Importing leads through the customer importer: Chinese headers, per-row errors naming the
column, the duplicate check of a manual lead, idempotent reruns, revert and permissions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from guanxi.core.errors import DomainError
from guanxi.customers.imports import service
from guanxi.customers.models import ImportJob, ImportStatus, Industry
from guanxi.leads.models import Lead, LeadEvent, LeadEventKind, LeadSource

pytestmark = pytest.mark.django_db


def upload(text: str, name: str = "leads.csv") -> Any:
    return SimpleUploadedFile(name, text.encode("utf-8"))


def analysed(actor: Any, file: Any, **options: Any) -> ImportJob:
    job = service.import_job_create(actor=actor, upload=file, target="leads", **options)
    return service.import_job_analyse(actor=actor, job=job)


def run(job: ImportJob, capture: Callable[..., Any]) -> ImportJob:
    with capture(execute=True):
        assert job.created_by is not None
        service.import_job_start(actor=job.created_by, job=job)
    job.refresh_from_db()
    return job


def leads_csv(industry: str) -> str:
    return (
        "姓名,公司,职位,手机,邮箱,行业,地区,来源\n"
        f"王小明,明光茶业,采购经理,13800138001,wang@example.cn,{industry},浙江,展会\n"
        "李四,四海贸易,,12345,,,,\n"
        "赵六,六合科技,总监,13900139002,zhao@example.cn,,上海,\n"
        "钱七,七星物流,,,qian@example,,,\n"
        "孙八,八方建材,,,,火星采矿,,\n"
    )


def test_import_reports_bad_rows_flags_a_customer_and_is_idempotent(
    manager: Any, make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    industry = Industry.objects.order_by("pk").first()
    assert industry is not None
    customer = make_customer(manager, "赵六", phone="13900139002")
    text = leads_csv(industry.code)
    with translation.override("zh-hans"):
        job = analysed(manager, upload(text))
    assert job.dry_run["would_create"] == 2
    assert job.dry_run["invalid"] == 3
    messages = {(error.row_number, error.field): error.message for error in job.row_errors.all()}
    assert set(messages) == {(3, "phone"), (5, "email"), (6, "industry")}
    assert "手机" in messages[(3, "phone")]
    assert "邮箱" in messages[(5, "email")]
    assert "行业" in messages[(6, "industry")]
    assert Lead.objects.count() == 0  # the dry run writes nothing

    job = run(job, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.COMPLETED
    assert job.created_count == 2
    leads = {lead.name: lead for lead in Lead.objects.all()}
    assert set(leads) == {"王小明", "赵六"}  # nothing written for the bad rows
    assert all(lead.source == LeadSource.IMPORT for lead in leads.values())
    assert leads["王小明"].industry == industry
    assert leads["王小明"].source_detail == "展会"
    assert leads["赵六"].matched_customer == customer
    assert LeadEvent.objects.filter(lead=leads["赵六"], kind=LeadEventKind.DUPLICATE).exists()

    with pytest.raises(DomainError):  # the same file is refused
        service.import_job_create(actor=manager, upload=upload(text), target="leads")
    again = run(
        analysed(manager, upload(text), allow_reimport=True), django_capture_on_commit_callbacks
    )
    assert again.created_count == 0
    assert again.skipped_count == 2
    assert Lead.objects.count() == 2


def test_revert_deletes_the_imported_leads_but_an_edited_one(
    manager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.leads.services import lead_update

    text = "name,company,phone\nAda,Analytical Ltd,13800138011\nGrace,Cobol Co,13800138012\n"
    job = run(analysed(manager, upload(text)), django_capture_on_commit_callbacks)
    assert job.created_count == 2
    grace = Lead.objects.get(name="Grace")
    lead_update(actor=manager, lead=grace, values={"title": "Admiral"}, version=grace.version)
    result = service.import_job_revert(actor=manager, job=job)
    assert list(Lead.objects.values_list("name", flat=True)) == ["Grace"]
    assert result
    job.refresh_from_db()
    outcomes = sorted(job.imported_rows.values_list("revert_outcome", flat=True))
    assert outcomes == ["deleted", "edited"]


def test_xlsx_leads(manager: Any, django_capture_on_commit_callbacks: Any) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Name", "Company", "Mobile", "Email"])
    sheet.write_row(1, 0, ["周九", "九州文化", "13700137009", "zhou@example.cn"])
    workbook.close()
    job = analysed(manager, SimpleUploadedFile("leads.xlsx", buffer.getvalue()))
    assert job.format == "xlsx"
    job = run(job, django_capture_on_commit_callbacks)
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.source) == ("周九", "九州文化", LeadSource.IMPORT)


def test_a_user_without_sales_create_cannot_import_leads(make_user: Any, teams: Any) -> None:
    marketer = make_user("marketer", teams["east"], username="marketer")
    with pytest.raises(PermissionDenied):
        service.import_job_create(actor=marketer, upload=upload("姓名\n某人\n"), target="leads")
    assert not ImportJob.objects.exists()


def test_the_api_and_the_upload_page_offer_the_leads_target(
    manager: Any, bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import Client

    api = Client(headers=bearer(manager))
    text = "姓名,公司,手机\n吴十,十全餐饮,13600136010\n"
    created = api.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("l.csv", text.encode()), "target": "leads"},
    )
    job_id = created.json()["id"]
    analysed_job = api.post(f"/api/v1/customers/imports/{job_id}/analyse")
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/customers/imports/{job_id}/start")
    body = api.get(f"/api/v1/customers/imports/{job_id}").json()

    assert (created.status_code, created.json()["target"]) == (201, "leads")
    assert created.json()["mapping"] == {"0": "name", "1": "company", "2": "phone"}
    assert analysed_job.json()["dry_run"]["would_create"] == 1
    assert started.status_code == 202
    assert (body["status"], body["created_count"]) == ("completed", 1)
    assert Lead.objects.get().source == LeadSource.IMPORT

    browser = Client()
    browser.force_login(manager)
    upload_form = browser.get("/customers/imports/").content.decode()
    assert 'value="leads"' in upload_form
    page = browser.post(
        "/customers/imports/",
        {
            "file": SimpleUploadedFile("m.csv", b"name,title\nZheng,CTO\n"),
            "target": "leads",
            "duplicate_policy": "skip",
        },
        follow=True,
    )
    detail = page.content.decode()
    assert 'data-target="leads"' in detail
    assert "Job title" in detail  # the mapping offers the lead's fields
    assert 'data-dry="would_create">1<' in detail
