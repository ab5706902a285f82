"""The built-in roles: their module permissions and data scopes."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from guanxi.accounts.models import Action, DataScope, Module

ALL_ACTIONS = [action.value for action in Action]
BUSINESS_MODULES = [module.value for module in Module if module.value not in {"accounts", "audit"}]


def perms(modules: list[str], actions: list[str]) -> list[str]:
    return [f"{module}.{action}" for module in modules for action in actions]


def all_permissions() -> list[str]:
    return perms([module.value for module in Module], ALL_ACTIONS)


WORK = ["view", "create", "edit"]
MANAGE = ["view", "create", "edit", "delete", "export", "reveal"]

# code -> (name as a translatable literal, description, permissions, data scope)
BUILTIN_ROLES: dict[str, tuple[str, str, list[str], str]] = {
    "administrator": (
        gettext_noop("Administrator"),
        gettext_noop("Everything, including users, teams and roles."),
        all_permissions(),
        DataScope.ALL,
    ),
    "sales-manager": (
        gettext_noop("Sales manager"),
        gettext_noop("Runs a sales team: its customers, deals and forecasts, and sub-teams'."),
        perms(["customers", "interactions", "sales", "commerce"], MANAGE)
        + perms(["grading", "analytics", "service", "marketing", "loyalty"], ["view"])
        + ["grading.edit", "analytics.export", "accounts.view"],
        DataScope.SUBTREE,
    ),
    "sales-rep": (
        gettext_noop("Sales rep"),
        gettext_noop("Works their own customers, leads and deals."),
        perms(["customers", "interactions", "sales"], WORK)
        + perms(["commerce", "grading", "loyalty", "service"], ["view"])
        + ["customers.reveal"],
        DataScope.OWN,
    ),
    "service-agent": (
        gettext_noop("Service agent"),
        gettext_noop("Works the service queue for the team's customers."),
        perms(["service", "interactions"], WORK)
        + perms(["customers", "commerce", "grading", "loyalty"], ["view"])
        + ["customers.reveal", "customers.edit"],
        DataScope.TEAM,
    ),
    "marketer": (
        gettext_noop("Marketer"),
        gettext_noop("Builds segments and campaigns; sees customers without personal data."),
        perms(["marketing", "loyalty"], [*WORK, "delete", "export"])
        + perms(["customers", "grading", "analytics", "commerce"], ["view"]),
        DataScope.ALL,
    ),
    "analyst": (
        gettext_noop("Analyst"),
        gettext_noop("Reads everything for reports and models; changes nothing."),
        [*perms(BUSINESS_MODULES, ["view"]), "analytics.export", "analytics.create"],
        DataScope.ALL,
    ),
    "auditor": (
        gettext_noop("Auditor"),
        gettext_noop("Reads everything and the audit log; changes nothing."),
        perms([module.value for module in Module], ["view"]),
        DataScope.ALL,
    ),
}
