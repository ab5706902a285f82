from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "guanxi.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem("leads", _("Leads"), "leads:list", "sales.view", "person-plus", section="sales")
        )
        register(
            NavItem("pool", _("Public pool"), "leads:pool", "sales.view", "water", section="sales")
        )
        register(
            NavItem(
                "lead-forms", _("Web forms"), "leads:forms", "sales.admin", "ui-checks", "admin"
            )
        )
        register(
            NavItem(
                "lead-settings",
                _("Lead settings"),
                "leads:settings",
                "sales.admin",
                "sliders",
                "admin",
            )
        )
