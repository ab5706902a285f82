"""The HTTP API under /api/v1: authentication, the domain routers, one error format.

Every error leaves as RFC 9457 problem details (application/problem+json) with a message in
the caller's language and, for bad input, the offending field of each error.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from guanxi.accounts.api import router as accounts_router
from guanxi.accounts.auth import ApiTokenAuth, SessionAuth
from guanxi.activities.api import router as activities_router
from guanxi.audit.api import router as audit_router
from guanxi.commerce.api import router as commerce_router
from guanxi.core.errors import DomainError, problem
from guanxi.customers.api import router as customers_router
from guanxi.customers.api_imports import router as customer_imports_router
from guanxi.customers.api_merge import router as customer_merge_router
from guanxi.grading.api import router as grading_router
from guanxi.interactions.api import router as interactions_router
from guanxi.leads.api import router as leads_router
from guanxi.portal.api import router as portal_router
from guanxi.sales.api import router as sales_router
from guanxi.service.api import router as service_router

api = NinjaAPI(
    title="Guanxi API",
    version="1",
    description="The Guanxi CRM API. Authenticate with a browser session or a personal "
    "API token (`Authorization: Bearer <token>`).",
    urls_namespace="api",
    auth=[ApiTokenAuth(), SessionAuth()],
    docs_url="/docs",
)
api.add_router("/", accounts_router)
api.add_router("/", audit_router)
api.add_router("/", customer_merge_router)  # first: its literal paths beat {customer_id}
api.add_router("/", customers_router)
api.add_router("/", grading_router)
api.add_router("/", commerce_router)
api.add_router("/", customer_imports_router)
api.add_router("/", interactions_router)
api.add_router("/", sales_router)
api.add_router("/", leads_router)
api.add_router("/", activities_router)
api.add_router("/", service_router)
api.add_router("/", portal_router)


def _messages() -> dict[str, str]:
    return {
        "missing": _("This field is required."),
        "extra_forbidden": _("This field is not allowed."),
        "string_type": _("Enter text."),
        "string_too_short": _("This value is too short."),
        "string_too_long": _("This value is too long."),
        "string_pattern_mismatch": _("This value has the wrong format."),
        "int_type": _("Enter a whole number."),
        "int_parsing": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "float_type": _("Enter a number."),
        "float_parsing": _("Enter a number."),
        "decimal_parsing": _("Enter a number."),
        "decimal_type": _("Enter a number."),
        "bool_type": _("Enter true or false."),
        "bool_parsing": _("Enter true or false."),
        "datetime_parsing": _("Enter a valid date and time."),
        "datetime_type": _("Enter a valid date and time."),
        "date_parsing": _("Enter a valid date."),
        "datetime_from_date_parsing": _("Enter a valid date and time."),
        "date_from_datetime_parsing": _("Enter a valid date."),
        "greater_than": _("This value is too small."),
        "greater_than_equal": _("This value is too small."),
        "less_than": _("This value is too large."),
        "less_than_equal": _("This value is too large."),
        "enum": _("Choose one of the allowed values."),
        "literal_error": _("Choose one of the allowed values."),
        "list_type": _("Enter a list."),
        "dict_type": _("Enter an object."),
        "model_attributes_type": _("Enter an object."),
        "value_error": _("Enter a valid value."),
        "json_invalid": _("The request body is not valid JSON."),
    }


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    messages = _messages()
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        source = location[0] if location else "body"
        # ("body", "payload", "name") -> "name": the schema's parameter name is noise.
        path = location[2:] if source == "body" and len(location) > 2 else location[1:]
        kind = str(error.get("type", "value_error"))
        result.append(
            {
                "field": ".".join(path) or source,
                "in": source,
                "code": kind,
                "message": messages.get(kind, _("Enter a valid value.")),
            }
        )
    return result


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem(
        request,
        422,
        _("Some fields are not valid."),
        code="invalid-input",
        errors=_field_errors(exc.errors),
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(request, exc.status, exc.message, code=exc.code, errors=exc.errors)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request,
        401,
        _("Sign in or send a valid API token."),
        code="not-authenticated",
        headers={"WWW-Authenticate": 'Bearer realm="guanxi"'},
    )


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(request, 403, _("You do not have permission to do this."), code="forbidden")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, _("No such record."), code="not-found")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem(request, 413, _("The request body is too large."), code="too-large")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
        if isinstance(exc.__cause__, RequestDataTooBig):
            return on_too_big(request, exc.__cause__)
        return problem(
            request, 400, _("The request body is not valid JSON."), code="malformed-body"
        )
    if exc.status_code == 405:
        return problem(request, 405, _("This method is not allowed here."))
    return problem(request, exc.status_code, str(exc.message))
