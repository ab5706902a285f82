from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "guanxi.grading"
    label = "grading"
    verbose_name = _("Grading")

    def ready(self) -> None:
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem(
                "grading",
                _("Grading"),
                "grading:schemes",
                "grading.view",
                "bar-chart-steps",
                section="customers",
            )
        )
        register(
            NavItem(
                "follow-ups",
                _("Follow-ups"),
                "grading:follow-ups",
                "customers.view",
                "alarm",
                section="customers",
            )
        )
