from django.urls import URLPattern, URLResolver, path

from guanxi.sales import views

app_name = "sales"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.board_view, name="board"),
    path("pipelines/<int:pk>/board/", views.board_view, name="pipeline-board"),
    path("opportunities/", views.opportunity_list_view, name="list"),
    path("opportunities/<int:pk>/", views.opportunity_detail_view, name="detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit_view, name="edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move_view, name="move"),
    path("opportunities/<int:pk>/close/", views.opportunity_close_view, name="close"),
    path("opportunities/<int:pk>/reopen/", views.opportunity_reopen_view, name="reopen"),
    path("opportunities/<int:pk>/lines/", views.opportunity_line_add_view, name="line-add"),
    path(
        "opportunities/<int:pk>/lines/<int:line_id>/remove/",
        views.opportunity_line_remove_view,
        name="line-remove",
    ),
    path(
        "opportunities/<int:pk>/competitors/",
        views.opportunity_competitor_add_view,
        name="competitor-add",
    ),
    path(
        "opportunities/<int:pk>/competitors/<int:row_id>/remove/",
        views.opportunity_competitor_remove_view,
        name="competitor-remove",
    ),
    path("opportunities/<int:pk>/log/", views.opportunity_log_view, name="log"),
    path(
        "customers/<int:customer_id>/opportunities/new/",
        views.opportunity_create_view,
        name="create",
    ),
    path(
        "customers/<int:customer_id>/opportunities/",
        views.customer_panel_view,
        name="customer-panel",
    ),
    path("opportunities/<int:pk>/quotes/", views.quote_create_view, name="quote-create"),
    path("quotes/<int:pk>/", views.quote_detail_view, name="quote"),
    path("quotes/<int:pk>/print/", views.quote_print_view, name="quote-print"),
    path("quotes/<int:pk>/<slug:action>/", views.quote_action_view, name="quote-action"),
    path("reports/", views.reports_view, name="reports"),
    path("dashboard-panel/", views.dashboard_panel_view, name="dashboard-panel"),
    path("targets/", views.target_save_view, name="target-save"),
    path("pipelines/", views.pipeline_admin_view, name="pipelines"),
    path("pipelines/<int:pk>/", views.pipeline_admin_view, name="pipeline-admin"),
]
