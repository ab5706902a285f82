from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "guanxi.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from guanxi.core import events
        from guanxi.core.navigation import NavItem, register
        from guanxi.portal import tasks

        events.subscribe("ticket.resolved", tasks.on_ticket_resolved)
        register(
            NavItem(
                "knowledge",
                _("Knowledge base"),
                "portal:articles",
                "service.view",
                "book",
                section="service",
            )
        )
        register(
            NavItem(
                "surveys",
                _("Surveys"),
                "portal:surveys",
                "service.view",
                "clipboard-check",
                section="service",
            )
        )
