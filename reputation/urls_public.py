from django.urls import path

from inbox.sources import webhooks
from reputation import views
from reputation.urls_common import common_urlpatterns
from tenants import views as tenant_views

urlpatterns = [
    path("", views.home, name="home"),
    path("practices/new/", tenant_views.practice_new, name="practice-new"),
    path("invite/<str:uidb64>/<str:token>/", tenant_views.invite, name="invite"),
    path("password/reset/", tenant_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", tenant_views.password_reset_sent, name="password_reset_done"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        tenant_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        tenant_views.password_reset_complete,
        name="password_reset_complete",
    ),
    path("webhooks/meta/", webhooks.meta_webhook, name="webhook-meta"),
    path("webhooks/google/", webhooks.google_pubsub_webhook, name="webhook-google"),
    *common_urlpatterns,
]
