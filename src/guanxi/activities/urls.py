from django.urls import URLPattern, URLResolver, path

from guanxi.activities import views

app_name = "activities"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.my_day_view, name="my-day"),
    path("dashboard-panel/", views.dashboard_panel_view, name="dashboard-panel"),
    path("quick-add/", views.quick_add_view, name="quick-add"),
    path("tasks/", views.task_list_view, name="tasks"),
    path("tasks/new/", views.task_create_view, name="task-create"),
    path("tasks/complete/", views.tasks_complete_view, name="tasks-complete"),
    path("tasks/<int:pk>/", views.task_detail_view, name="task"),
    path("tasks/<int:pk>/edit/", views.task_edit_view, name="task-edit"),
    path(
        "tasks/<int:pk>/<slug:action>/",
        views.task_action_view,
        name="task-action",
    ),
    path("follow-ups/<int:pk>/done/", views.follow_up_done_view, name="follow-up-done"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/token/", views.calendar_token_view, name="calendar-token"),
    path("calendar/feed/<str:secret>.ics", views.calendar_feed_view, name="feed"),
    path("bell/", views.bell_view, name="bell"),
    path("notifications/", views.notification_list_view, name="notifications"),
    path("notifications/read/", views.notifications_read_all_view, name="notifications-read"),
    path(
        "notifications/<slug:kind>/<int:pk>/read/",
        views.notification_read_view,
        name="notification-read",
    ),
    path("customers/<int:pk>/tasks/", views.customer_tasks_view, name="customer-tasks"),
]
