from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "guanxi.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem(
                "access-log",
                _("Access log"),
                "audit:access-log",
                "audit.view",
                "journal-text",
                section="admin",
            )
        )
