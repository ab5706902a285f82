from django.urls import URLPattern, URLResolver, path

from guanxi.service import views

app_name = "service"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.queue_view, name="queue"),
    path("dashboard-panel/", views.dashboard_panel_view, name="dashboard-panel"),
    path("bulk/", views.bulk_view, name="bulk"),
    path("availability/<int:pk>/", views.availability_view, name="availability"),
    path("new/", views.ticket_create_view, name="create"),
    path("<int:pk>/", views.ticket_detail_view, name="detail"),
    path("<int:pk>/reply/", views.ticket_reply_view, name="reply"),
    path("attachments/<int:pk>/", views.attachment_download_view, name="attachment"),
    path("<int:pk>/status/", views.ticket_transition_view, name="transition"),
    path("<int:pk>/assign/", views.ticket_assign_view, name="assign"),
    path("customers/<int:customer_id>/tickets/", views.customer_panel_view, name="customer-panel"),
    path("callbacks/", views.callback_list_view, name="callbacks"),
    path("callbacks/<int:pk>/done/", views.callback_done_view, name="callback-done"),
    path("mail/", views.inbound_list_view, name="inbound"),
    path("mail/<int:pk>/settle/", views.inbound_settle_view, name="inbound-settle"),
    path("reports/", views.report_view, name="reports"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/policies/", views.policy_create_view, name="policy-create"),
    path("settings/categories/", views.category_create_view, name="category-create"),
    path("settings/groups/new/", views.group_edit_view, name="group-create"),
    path("settings/groups/<int:pk>/", views.group_edit_view, name="group-edit"),
    path("settings/groups/<int:pk>/delete/", views.group_delete_view, name="group-delete"),
    path("settings/rules/new/", views.rule_edit_view, name="rule-create"),
    path("settings/rules/<int:pk>/", views.rule_edit_view, name="rule-edit"),
    path("settings/rules/<int:pk>/delete/", views.rule_delete_view, name="rule-delete"),
    path("settings/calendars/<int:pk>/days/", views.calendar_days_view, name="calendar-days"),
]
