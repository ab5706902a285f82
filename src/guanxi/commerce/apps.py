from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "guanxi.commerce"
    label = "commerce"
    verbose_name = _("Orders and payments")

    def ready(self) -> None:
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem(
                "orders",
                _("Orders"),
                "commerce:orders",
                "commerce.view",
                "receipt",
                section="customers",
            )
        )
        register(
            NavItem(
                "products",
                _("Products"),
                "commerce:products",
                "commerce.view",
                "box-seam",
                section="customers",
            )
        )
