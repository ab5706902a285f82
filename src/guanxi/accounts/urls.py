from django.urls import path

from guanxi.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.token_list_view, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("users/", views.user_list_view, name="users"),
    path("users/new/", views.user_create_view, name="user-create"),
    path("users/<int:pk>/edit/", views.user_edit_view, name="user-edit"),
    path("users/<int:pk>/history/", views.user_history_view, name="user-history"),
    path("teams/", views.team_list_view, name="teams"),
    path("teams/new/", views.team_create_view, name="team-create"),
    path("teams/<int:pk>/edit/", views.team_edit_view, name="team-edit"),
    path("teams/<int:pk>/history/", views.team_history_view, name="team-history"),
    path("roles/", views.role_list_view, name="roles"),
    path("roles/new/", views.role_create_view, name="role-create"),
    path("roles/<int:pk>/edit/", views.role_edit_view, name="role-edit"),
    path("roles/<int:pk>/history/", views.role_history_view, name="role-history"),
]
