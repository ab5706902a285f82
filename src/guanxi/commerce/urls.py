from django.urls import path

from guanxi.commerce import views

app_name = "commerce"

urlpatterns = [
    path("orders/", views.order_list_view, name="orders"),
    path("orders/<int:pk>/", views.order_detail_view, name="order-detail"),
    path("orders/<int:pk>/cancel/", views.order_cancel_view, name="order-cancel"),
    path("invoices/", views.invoice_list_view, name="invoices"),
    path("invoices/<int:pk>/", views.invoice_detail_view, name="invoice-detail"),
    path("invoices/<int:pk>/payments/", views.payment_record_view, name="payment-record"),
    path("products/", views.product_list_view, name="products"),
    path("customers/<int:customer_id>/orders/new/", views.order_create_view, name="order-create"),
    path(
        "customers/<int:customer_id>/invoices/new/",
        views.invoice_create_view,
        name="invoice-create",
    ),
    path(
        "customers/<int:customer_id>/summary/",
        views.customer_summary_view,
        name="customer-summary",
    ),
]
