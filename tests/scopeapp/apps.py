from django.apps import AppConfig


class ScopeAppConfig(AppConfig):
    name = "tests.scopeapp"
    label = "scopeapp"
