from django.urls import path

from inbox import views, views_work

app_name = "inbox"
urlpatterns = [
    path("", views_work.inbox_list, name="list"),
    path("bulk/", views_work.inbox_bulk, name="bulk"),
    path("<int:pk>/", views.mention_detail, name="detail"),
    path("<int:pk>/reply/", views.reply_create, name="reply-create"),
    path("<int:pk>/switch/", views.conversation_switch, name="switch-channel"),
    path("<int:pk>/hide/", views.mention_hide, name="mention-hide"),
    path("<int:pk>/presence/", views.reply_presence, name="reply-presence"),
    path("replies/<int:pk>/", views.reply_action, name="reply-action"),
    path("<int:pk>/close/", views_work.mention_close, name="close"),
    path("<int:pk>/tasks/", views_work.task_add, name="task-add"),
    path("tasks/", views_work.task_list, name="tasks"),
    path("tasks/<int:pk>/done/", views_work.task_complete, name="task-done"),
    path("authors/<int:pk>/", views_work.author_detail, name="author"),
    path("authors/<int:pk>/action/", views_work.author_action, name="author-action"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/add/", views.account_add, name="account-add"),
    path("accounts/connect/<slug:platform>/", views.account_connect, name="connect"),
    path(
        "accounts/connect/<slug:platform>/callback/",
        views.account_connect_callback,
        name="connect-callback",
    ),
    path("accounts/connect/pick/<int:pk>/", views.account_connect_pick, name="connect-pick"),
    path("sources/", views.sources, name="sources"),
    path("import/", views_work.import_history, name="import"),
    path("import/<int:pk>/", views_work.import_job, name="import-job"),
    path("accounts/<int:pk>/owners/", views.account_owners, name="account-owners"),
    path("listening/", views.listening_rules, name="listening"),
    path("listening/<int:pk>/delete/", views.listening_rule_delete, name="listening-delete"),
    path("settings/", views.inbox_settings, name="settings"),
]
