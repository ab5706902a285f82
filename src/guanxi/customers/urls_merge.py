"""Duplicate and merge pages, included into the customers namespace (no app_name here)."""

from django.urls import path

from guanxi.customers import views_merge

urlpatterns = [
    path("duplicates/", views_merge.duplicate_groups_view, name="duplicate-groups"),
    path("merge/", views_merge.customer_merge_view, name="merge"),
    path("<int:pk>/duplicates/", views_merge.customer_duplicates_view, name="duplicates"),
]
