from django.urls import path

from guanxi.grading import views

app_name = "grading"

urlpatterns = [
    path("", views.scheme_list_view, name="schemes"),
    path("presets/install/", views.preset_install_view, name="preset-install"),
    path("schemes/new/", views.scheme_create_view, name="scheme-create"),
    path("schemes/<int:pk>/", views.scheme_detail_view, name="scheme"),
    path("schemes/<int:pk>/edit/", views.scheme_edit_view, name="scheme-edit"),
    path("schemes/<int:pk>/preview/", views.scheme_preview_view, name="scheme-preview"),
    path("schemes/<int:pk>/evaluate/", views.scheme_evaluate_view, name="scheme-evaluate"),
    path("schemes/<int:pk>/reports/", views.scheme_reports_view, name="reports"),
    path("runs/<int:pk>/", views.run_detail_view, name="run"),
    path("customers/<int:customer_id>/", views.customer_grades_view, name="customer-grades"),
    path(
        "customers/<int:customer_id>/override/",
        views.customer_override_view,
        name="customer-override",
    ),
    path("follow-ups/", views.follow_up_list_view, name="follow-ups"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done_view, name="follow-up-done"),
    path("notifications/read/", views.notifications_read_view, name="notifications-read"),
]
