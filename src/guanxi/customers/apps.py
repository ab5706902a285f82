from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem(
                "customers",
                _("Customers"),
                "customers:list",
                "customers.view",
                "people",
                section="customers",
            )
        )
        register(
            NavItem(
                "custom-fields",
                _("Custom fields"),
                "customers:custom-fields",
                "customers.admin",
                "ui-checks",
                section="admin",
            )
        )
