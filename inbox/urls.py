from django.urls import path

from inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("<int:pk>/", views.mention_detail, name="detail"),
    path("<int:pk>/reply/", views.reply_create, name="reply-create"),
    path("<int:pk>/switch/", views.conversation_switch, name="switch-channel"),
    path("<int:pk>/hide/", views.mention_hide, name="mention-hide"),
    path("<int:pk>/presence/", views.reply_presence, name="reply-presence"),
    path("replies/<int:pk>/", views.reply_action, name="reply-action"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/<int:pk>/owners/", views.account_owners, name="account-owners"),
    path("listening/", views.listening_rules, name="listening"),
    path("listening/<int:pk>/delete/", views.listening_rule_delete, name="listening-delete"),
    path("settings/", views.inbox_settings, name="settings"),
]
