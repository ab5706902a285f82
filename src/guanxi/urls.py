"""URL map: pages per domain, the API under /api/v1, health, language switch."""

from django.urls import include, path
from django.views.generic import RedirectView

from guanxi.api import api
from guanxi.core import views as core_views

urlpatterns = [
    path("", include("guanxi.core.urls")),
    path("accounts/", include("guanxi.accounts.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("grading/", include("guanxi.grading.urls")),
    path("commerce/", include("guanxi.commerce.urls")),
    path("audit/", include("guanxi.audit.urls")),
    path("interactions/", include("guanxi.interactions.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("leads/", include("guanxi.leads.urls")),
    path("activities/", include("guanxi.activities.urls")),
    path("service/", include("guanxi.service.urls")),
    path("portal/", include("guanxi.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("api/", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("healthz", core_views.healthz, name="healthz"),
]

handler403 = "guanxi.core.views.error_403"
handler404 = "guanxi.core.views.error_404"
handler500 = "guanxi.core.views.error_500"
