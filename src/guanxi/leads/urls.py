from django.urls import URLPattern, URLResolver, path

from guanxi.leads import views

app_name = "leads"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.lead_list_view, name="list"),
    path("new/", views.lead_create_view, name="create"),
    path("<int:pk>/", views.lead_detail_view, name="detail"),
    path("<int:pk>/intent/", views.lead_intent_view, name="intent"),
    path("<int:pk>/status/", views.lead_status_view, name="status"),
    path("<int:pk>/events/", views.lead_event_view, name="event"),
    path("<int:pk>/convert/", views.lead_convert_view, name="convert"),
    path("<int:pk>/assign/", views.lead_assign_view, name="assign"),
    path("<int:pk>/release/", views.lead_release_view, name="release"),
    path("<int:pk>/reveal/", views.lead_reveal_view, name="reveal"),
    path("forms/", views.form_list_view, name="forms"),
    path("forms/new/", views.form_edit_view, name="form-create"),
    path("forms/<int:pk>/", views.form_edit_view, name="form-edit"),
    path("f/<slug:slug>/", views.public_form_view, name="public-form"),
    path("pool/", views.pool_view, name="pool"),
    path("pool/<str:kind>/<int:pk>/claim/", views.pool_claim_view, name="pool-claim"),
    path(
        "pool/customers/<int:pk>/release/",
        views.pool_release_customer_view,
        name="pool-release-customer",
    ),
    path("customers/<int:customer_id>/panel/", views.customer_panel_view, name="customer-panel"),
    path("settings/", views.settings_view, name="settings"),
    path(
        "settings/pool-rules/<int:pk>/delete/",
        views.pool_rule_delete_view,
        name="pool-rule-delete",
    ),
    path(
        "settings/pool-policies/<int:pk>/delete/",
        views.pool_policy_delete_view,
        name="pool-policy-delete",
    ),
]
