from django.urls import path

from escalation import api

urlpatterns = [
    path("escalations/", api.EscalationListApi.as_view(), name="api-escalations"),
    path("escalations/<int:pk>/", api.EscalationDetailApi.as_view(), name="api-escalation"),
    path(
        "escalations/<int:pk>/transitions/",
        api.EscalationTransitionApi.as_view(),
        name="api-escalation-transition",
    ),
    path(
        "escalations/<int:pk>/evidence-pack/",
        api.EscalationPackApi.as_view(),
        name="api-escalation-pack",
    ),
    path("platform-reports/", api.PlatformReportListApi.as_view(), name="api-reports"),
    path("platform-reports/<int:pk>/", api.PlatformReportDetailApi.as_view(), name="api-report"),
    path(
        "platform-reports/<int:pk>/transitions/",
        api.PlatformReportTransitionApi.as_view(),
        name="api-report-transition",
    ),
    path(
        "platform-reports/<int:pk>/evidence-pack/",
        api.PlatformReportPackApi.as_view(),
        name="api-report-pack",
    ),
    path("customers/import/", api.CustomerImportApi.as_view(), name="api-customers-import"),
    path(
        "mentions/<int:pk>/customer-check/",
        api.MentionCustomerCheckApi.as_view(),
        name="api-mention-customer-check",
    ),
]
