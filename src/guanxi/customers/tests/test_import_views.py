from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.customers.imports import service
from guanxi.customers.models import Customer, ImportJob

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "customers" / "imports"
CSV = "姓名,类型,手机,微信\n张三,个人,13812345678,zs\n李四,个人,12345,ls\n王五,个人,,ww\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(make_user: Any, teams: dict[str, Any]) -> Any:
    return make_user("sales-rep", teams["east"])


@pytest.fixture
def client(rep: Any) -> Client:
    client = Client()
    client.force_login(rep)
    return client


def _upload(client: Client, text: str = CSV, *, follow: bool = False) -> Any:
    return client.post(
        "/customers/imports/",
        {"file": SimpleUploadedFile("客户.csv", text.encode()), "duplicate_policy": "skip"},
        follow=follow,
    )


def _job() -> ImportJob:
    return ImportJob.objects.get()


def test_the_import_page_lists_jobs_and_offers_the_upload_form(client: Client) -> None:
    response = client.get("/customers/imports/")

    content = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in content
    assert 'name="duplicate_policy"' in content


def test_an_upload_goes_to_its_dry_run_with_a_select_per_column(client: Client) -> None:
    response = _upload(client, follow=True)

    content = response.content.decode()
    job = _job()
    assert response.redirect_chain == [(f"/customers/imports/{job.pk}/", 302)]
    assert job.status == "analysed"
    assert len(re.findall(r'<select name="col_\d+"', content)) == 4
    assert 'data-dry="would_create">2<' in content
    assert 'data-dry="invalid">1<' in content
    assert "微信" in content
    assert "Unknown column: ignored." in content
    assert 'id="start-import"' in content


def test_a_bad_upload_shows_the_error_and_creates_no_job(client: Client) -> None:
    response = _upload(client, text="姓名,类型\n")

    assert response.status_code == 200
    assert "The file has a header row but no data rows." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_saving_a_new_mapping_runs_the_dry_run_again(client: Client) -> None:
    _upload(client)
    job = _job()

    response = client.post(
        f"/customers/imports/{job.pk}/",
        {"col_0": "name", "col_1": "kind", "col_2": "", "col_3": "notes"},
        follow=True,
    )

    job.refresh_from_db()
    assert response.status_code == 200
    assert job.mapping == {"0": "name", "1": "kind", "2": "", "3": "notes"}
    assert (job.status, job.dry_run["would_create"], job.dry_run["invalid"]) == ("analysed", 3, 0)


def test_starting_imports_and_the_page_then_offers_the_error_report_and_revert(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _upload(client)
    job = _job()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/imports/{job.pk}/start/")
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    report = client.get(f"/customers/imports/{job.pk}/errors.csv")

    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "王五"]
    assert 'data-count="created">2<' in page
    assert 'id="error-report"' in page
    assert 'id="revert-import"' in page
    lines = b"".join(report.streaming_content).decode("utf-8").splitlines()
    assert lines == [
        "\ufeffRow,Field,Value,Message",
        "3,phone,****45,“****45” is not a valid phone number.",
    ]


def test_reverting_from_the_page_deletes_what_the_import_created(
    client: Client, rep: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _upload(client)
    job = _job()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/imports/{job.pk}/start/")

    response = client.post(f"/customers/imports/{job.pk}/revert/", follow=True)

    job.refresh_from_db()
    assert job.status == "reverted"
    assert not Customer.objects.exists()
    assert 'id="revert-result"' in response.content.decode()


def test_a_running_job_polls_its_progress_every_second(client: Client, rep: Any) -> None:
    _upload(client)
    job = _job()
    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=1, rows_total=3)

    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    partial = client.get(f"/customers/imports/{job.pk}/progress/", headers={"HX-Request": "true"})

    assert 'hx-trigger="every 1s"' in page
    assert '<progress class="w-100" max="100" value="33"' in partial.content.decode()
    assert 'hx-trigger="every 1s"' in partial.content.decode()


def test_a_job_being_analysed_shows_how_many_rows_were_checked(client: Client) -> None:
    _upload(client)
    job = _job()
    ImportJob.objects.filter(pk=job.pk).update(status="analysing", rows_total=2)

    partial = client.get(f"/customers/imports/{job.pk}/progress/", headers={"HX-Request": "true"})

    assert "2 rows checked" in partial.content.decode()
    assert 'hx-trigger="every 1s"' in partial.content.decode()


def test_a_finished_job_stops_the_polling_by_reloading_the_page(client: Client) -> None:
    _upload(client)
    job = _job()

    partial = client.get(f"/customers/imports/{job.pk}/progress/", headers={"HX-Request": "true"})

    assert partial["HX-Refresh"] == "true"


def test_another_users_job_is_404_and_an_administrator_sees_it(
    client: Client, make_user: Any, teams: dict[str, Any]
) -> None:
    _upload(client)
    job = _job()
    other, admin = Client(), Client()
    other.force_login(make_user("sales-rep", teams["east"]))
    admin.force_login(make_user("administrator", teams["hq"]))

    assert other.get(f"/customers/imports/{job.pk}/").status_code == 404
    assert other.post(f"/customers/imports/{job.pk}/start/").status_code == 404
    assert other.get(f"/customers/imports/{job.pk}/errors.csv").status_code == 404
    assert admin.get(f"/customers/imports/{job.pk}/").status_code == 200
    job.refresh_from_db()
    assert job.status == "analysed"


def test_a_role_without_the_create_permission_cannot_open_the_import_page(
    make_user: Any,
) -> None:
    client = Client()
    client.force_login(make_user("analyst"))

    assert client.get("/customers/imports/").status_code == 403


def test_the_import_pages_have_no_inline_scripts_or_styles() -> None:
    sources = [path.read_text() for path in sorted(TEMPLATES.glob("*.html"))]

    assert len(sources) == 2
    assert [s for s in sources if "<script" in s or "style=" in s or " on" + "click" in s] == []


def test_the_import_list_page_runs_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    for text in (CSV, CSV.replace("张三", "张四"), CSV.replace("张三", "张五")):
        _upload(client, text=text)

    with django_assert_max_num_queries(12):
        response = client.get("/customers/imports/")

    assert response.content.decode().count("data-job=") == 3


# --- API ----------------------------------------------------------------------------------------


def test_the_api_runs_an_import_from_upload_to_revert(
    rep: Any, bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api = Client(headers=bearer(rep))

    created = api.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("c.csv", CSV.encode()), "duplicate_policy": "skip"},
    )
    job_id = created.json()["id"]
    analysed = api.post(
        f"/api/v1/customers/imports/{job_id}/analyse",
        {"mapping": {"0": "name", "1": "kind", "2": "phone", "3": "notes"}},
        content_type="application/json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/customers/imports/{job_id}/start")
    status = api.get(f"/api/v1/customers/imports/{job_id}")
    errors = api.get(f"/api/v1/customers/imports/{job_id}/errors?limit=1")
    reverted = api.post(f"/api/v1/customers/imports/{job_id}/revert")

    assert (created.status_code, created.json()["status"]) == (201, "uploaded")
    assert created.json()["mapping"] == {"0": "name", "1": "kind", "2": "phone", "3": ""}
    assert (analysed.status_code, analysed.json()["dry_run"]["would_create"]) == (200, 2)
    assert started.status_code == 202
    body = status.json()
    assert (body["status"], body["progress"], body["created_count"], body["error_count"]) == (
        "completed",
        100,
        2,
        1,
    )
    assert errors.json() == {
        "items": [
            {
                "row": 3,
                "field": "phone",
                "value": "****45",
                "message": "“****45” is not a valid phone number.",
            }
        ],
        "next_cursor": None,
        "limit": 1,
    }
    assert reverted.json() == {
        "deleted": 2,
        "restored": 0,
        "kept": 0,
        "linked": 0,
        "missing": 0,
        "kept_ids": [],
    }
    assert not Customer.objects.exists()


def test_the_api_refuses_a_file_imported_before_with_409(
    rep: Any, bearer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api = Client(headers=bearer(rep))
    first = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))
    service.import_job_analyse(actor=rep, job=first)
    with django_capture_on_commit_callbacks(execute=True):
        service.import_job_start(actor=rep, job=first)

    again = api.post(
        "/api/v1/customers/imports", {"file": SimpleUploadedFile("c.csv", CSV.encode())}
    )
    forced = api.post(
        "/api/v1/customers/imports",
        {"file": SimpleUploadedFile("c.csv", CSV.encode()), "allow_reimport": "true"},
    )

    assert again.status_code == 409
    assert again.json()["detail"] == f"This file was already imported (job #{first.pk})."
    assert forced.status_code == 201


def test_the_api_answers_404_for_another_users_job(
    rep: Any, make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    job = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))
    other = make_user("sales-rep", teams["east"])

    response = Client(headers=bearer(other)).get(f"/api/v1/customers/imports/{job.pk}")

    assert response.status_code == 404


def test_a_mapping_body_of_the_wrong_shape_is_refused_as_invalid_input(
    rep: Any, bearer: Any
) -> None:
    job = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))

    response = Client(headers=bearer(rep)).post(
        f"/api/v1/customers/imports/{job.pk}/analyse",
        {"mapping": ["name"], "extra": 1},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("mapping", "dict_type"),
        ("extra", "extra_forbidden"),
    ]


def test_a_bad_mapping_is_refused_naming_the_column(rep: Any, bearer: Any) -> None:
    job = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))

    response = Client(headers=bearer(rep)).post(
        f"/api/v1/customers/imports/{job.pk}/analyse",
        {"mapping": {"9": "name", "1": "shoe_size"}},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "mapping.9", "message": "There is no such column."},
        {"field": "mapping.1", "message": "Unknown field."},
    ]


def test_the_api_exports_with_the_list_filters(
    make_user: Any, teams: dict[str, Any], bearer: Any
) -> None:
    from guanxi.customers.services import customer_create

    manager = make_user("sales-manager", teams["sales"])
    customer_create(actor=manager, values={"kind": "person", "name": "张三", "city": "上海"})
    customer_create(actor=manager, values={"kind": "person", "name": "李四", "city": "北京"})

    response = Client(headers=bearer(manager)).get("/api/v1/customers/export?format=csv&city=上海")

    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert "张三" in body
    assert "李四" not in body


def test_analysing_without_a_body_keeps_the_automatic_mapping(rep: Any, bearer: Any) -> None:
    job = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))

    response = Client(headers=bearer(rep)).post(f"/api/v1/customers/imports/{job.pk}/analyse")

    assert response.status_code == 200
    assert response.json()["status"] == "analysed"
    assert response.json()["mapping"] == {"0": "name", "1": "kind", "2": "phone", "3": ""}


def test_a_large_file_is_analysed_in_the_background(
    rep: Any, bearer: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_INLINE_ANALYSE_BYTES = 10
    job = service.import_job_create(actor=rep, upload=SimpleUploadedFile("c.csv", CSV.encode()))
    api = Client(headers=bearer(rep))

    with django_capture_on_commit_callbacks(execute=False) as pending:
        queued = api.post(f"/api/v1/customers/imports/{job.pk}/analyse")
    for callback in pending:
        callback()
    done = api.get(f"/api/v1/customers/imports/{job.pk}")

    assert (queued.status_code, queued.json()["status"]) == (202, "analysing")
    assert (done.json()["status"], done.json()["dry_run"]["would_create"]) == ("analysed", 2)


def test_the_import_endpoints_are_in_the_api_schema(rep: Any, bearer: Any) -> None:
    schema = Client(headers=bearer(rep)).get("/api/v1/openapi.json").json()

    assert {
        "/api/v1/customers/imports",
        "/api/v1/customers/imports/{job_id}",
        "/api/v1/customers/imports/{job_id}/analyse",
        "/api/v1/customers/imports/{job_id}/start",
        "/api/v1/customers/imports/{job_id}/errors",
        "/api/v1/customers/imports/{job_id}/revert",
        "/api/v1/customers/export",
    } <= set(schema["paths"])
