from django.urls import path

from guanxi.interactions import views

app_name = "interactions"

urlpatterns = [
    path("customers/<int:customer_id>/timeline/", views.timeline_view, name="timeline"),
    path("customers/<int:customer_id>/log/", views.interaction_log_view, name="log"),
    path("attachments/<int:pk>/", views.attachment_download_view, name="attachment"),
]
