from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.core.dashboard import DashboardPanel
        from guanxi.core.dashboard import register as register_panel
        from guanxi.core.navigation import NavItem, register

        register_panel(DashboardPanel("pipeline", "sales:dashboard-panel", "sales.view", order=20))

        register(
            NavItem(
                "pipeline", _("Pipeline"), "sales:board", "sales.view", "kanban", section="sales"
            )
        )
        register(
            NavItem(
                "opportunities",
                _("Opportunities"),
                "sales:list",
                "sales.view",
                "briefcase",
                section="sales",
            )
        )
        register(
            NavItem(
                "sales-reports",
                _("Sales reports"),
                "sales:reports",
                "sales.view",
                "graph-up",
                section="sales",
            )
        )
        register(
            NavItem(
                "pipelines",
                _("Pipelines"),
                "sales:pipelines",
                "sales.admin",
                "sliders",
                section="admin",
            )
        )
