from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "guanxi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from guanxi.accounts import receivers  # noqa: F401  (connects the signal receivers)
        from guanxi.core.navigation import NavItem, register

        register(
            NavItem(
                "users", _("Users"), "accounts:users", "accounts.view", "people", section="admin"
            )
        )
        register(
            NavItem(
                "teams", _("Teams"), "accounts:teams", "accounts.view", "diagram-3", section="admin"
            )
        )
        register(
            NavItem(
                "roles",
                _("Roles"),
                "accounts:roles",
                "accounts.view",
                "shield-lock",
                section="admin",
            )
        )
