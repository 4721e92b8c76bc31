from django.urls import path

from inbox import api

urlpatterns = [
    path("mentions/", api.MentionListApi.as_view(), name="api-mentions"),
    path("mentions/push/", api.MentionIngestApi.as_view(), name="api-mentions-push"),
    path(
        "ingest/google/reviews/",
        api.GoogleReviewIngestApi.as_view(),
        name="api-ingest-google-review",
    ),
    path("raw/<int:pk>/", api.RawPayloadApi.as_view(), name="api-raw"),
]
