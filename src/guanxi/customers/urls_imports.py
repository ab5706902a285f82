"""Pages of customer import and export, included into the customers namespace."""

from django.urls import path

from guanxi.customers import views_imports as views

urlpatterns = [
    path("imports/", views.import_list_view, name="imports"),
    path("imports/<int:pk>/", views.import_detail_view, name="import-detail"),
    path("imports/<int:pk>/progress/", views.import_progress_view, name="import-progress"),
    path("imports/<int:pk>/start/", views.import_start_view, name="import-start"),
    path("imports/<int:pk>/revert/", views.import_revert_view, name="import-revert"),
    path("imports/<int:pk>/errors.csv", views.import_errors_csv_view, name="import-errors-csv"),
    path("export/", views.customer_export_view, name="export"),
]
