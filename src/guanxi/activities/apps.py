from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from guanxi.core.dashboard import DashboardPanel
        from guanxi.core.dashboard import register as register_panel
        from guanxi.core.navigation import NavItem, register

        # Every signed-in user has a day, tasks and notifications of their own: no permission.
        # Giving tasks to others and editing theirs needs sales.create / sales.edit (services).
        register(NavItem("my-day", _("My day"), "activities:my-day", "", "sun", section="work"))
        register(
            NavItem("tasks", _("Tasks"), "activities:tasks", "", "check2-square", section="work")
        )
        register(
            NavItem(
                "calendar", _("Calendar"), "activities:calendar", "", "calendar3", section="work"
            )
        )
        register_panel(DashboardPanel("my-day", "activities:dashboard-panel", "", order=10))
