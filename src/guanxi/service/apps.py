from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from guanxi.core.dashboard import DashboardPanel
        from guanxi.core.dashboard import register as register_panel
        from guanxi.core.navigation import NavItem, register
        from guanxi.service import callbacks  # noqa: F401 - subscribes to ticket.resolved

        register_panel(
            DashboardPanel("tickets", "service:dashboard-panel", "service.view", order=30)
        )

        register(
            NavItem(
                "tickets",
                _("Tickets"),
                "service:queue",
                "service.view",
                "life-preserver",
                section="service",
            )
        )
        register(
            NavItem(
                "callbacks",
                _("Callbacks"),
                "service:callbacks",
                "service.view",
                "telephone",
                section="service",
            )
        )
        register(
            NavItem(
                "service-settings",
                _("Service settings"),
                "service:settings",
                "service.admin",
                "sliders",
                section="admin",
            )
        )
