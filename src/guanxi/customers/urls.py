from django.urls import include, path

from guanxi.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("bulk/", views.customer_bulk_view, name="bulk"),
    path("filters/", views.saved_filter_save_view, name="filter-save"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete_view, name="filter-delete"),
    path("custom-fields/", views.custom_field_list_view, name="custom-fields"),
    path("custom-fields/<int:pk>/edit/", views.custom_field_edit_view, name="custom-field-edit"),
    path("<int:pk>/", views.customer_detail_view, name="detail"),
    path("<int:pk>/edit/", views.customer_edit_view, name="edit"),
    path("<int:pk>/delete/", views.customer_delete_view, name="delete"),
    path("<int:pk>/history/", views.customer_history_view, name="history"),
    path("<int:pk>/reveal/<str:field>/", views.customer_reveal_view, name="reveal"),
    path("<int:pk>/contacts/", views.contact_create_view, name="contact-create"),
    path("contacts/<int:pk>/delete/", views.contact_delete_view, name="contact-delete"),
    path("<int:pk>/addresses/", views.address_create_view, name="address-create"),
    path("<int:pk>/consents/", views.consent_record_view, name="consent-record"),
    path("<int:pk>/labels/", views.customer_tags_view, name="labels"),
    path("<int:pk>/forms/<str:part>/", views.customer_form_part_view, name="form-part"),
    path("", include("guanxi.customers.urls_merge")),
    path("", include("guanxi.customers.urls_imports")),
]
