from django.urls import URLPattern, URLResolver, path

from guanxi.portal import views, views_portal

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    # staff
    path("kb/", views.article_list_view, name="articles"),
    path("kb/picker/", views.article_picker_view, name="article-picker"),
    path("kb/new/", views.article_create_view, name="article-create"),
    path("kb/categories/", views.category_create_view, name="category-create"),
    path("kb/<int:pk>/", views.article_detail_view, name="article-detail"),
    path("kb/<int:pk>/edit/", views.article_edit_view, name="article-edit"),
    path("kb/<int:pk>/snippet/", views.article_snippet_view, name="article-snippet"),
    path("surveys/", views.survey_list_view, name="surveys"),
    path("surveys/<int:pk>/", views.survey_detail_view, name="survey-detail"),
    path("surveys/<int:pk>/send/", views.survey_send_view, name="survey-send"),
    path("customers/<int:customer_id>/panel/", views.customer_panel_view, name="customer-panel"),
    path("accounts/invite/", views.account_invite_view, name="account-invite"),
    # customers (no staff login)
    path("", views_portal.home_view, name="home"),
    path("login/", views_portal.login_view, name="login"),
    path("logout/", views_portal.logout_view, name="logout"),
    path("login/link/", views_portal.link_request_view, name="link-request"),
    path("l/<str:token>/", views_portal.link_view, name="link"),
    path("password/", views_portal.password_view, name="password"),
    path("tickets/new/", views_portal.ticket_create_view, name="ticket-create"),
    path("tickets/<int:pk>/", views_portal.ticket_detail_view, name="ticket-detail"),
    path(
        "tickets/<int:ticket_pk>/files/<int:pk>/",
        views_portal.ticket_file_view,
        name="ticket-file",
    ),
    path("help/", views_portal.help_view, name="help"),
    path("help/<int:pk>/", views_portal.help_article_view, name="help-article"),
    path("help/<int:pk>/vote/", views_portal.help_vote_view, name="help-vote"),
    path("my-surveys/<int:pk>/", views_portal.my_survey_view, name="my-survey"),
    path("s/<str:token>/", views_portal.survey_answer_view, name="survey-answer"),
]
