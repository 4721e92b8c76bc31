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
    path("mentions/<int:pk>/replies/", api.MentionRepliesApi.as_view(), name="api-mention-replies"),
    path("replies/<int:pk>/", api.ReplyApi.as_view(), name="api-reply"),
    path("replies/<int:pk>/publish/", api.ReplyPublishApi.as_view(), name="api-reply-publish"),
    path("replies/<int:pk>/override/", api.ReplyOverrideApi.as_view(), name="api-reply-override"),
    path("replies/<int:pk>/send-now/", api.ReplySendNowApi.as_view(), name="api-reply-send-now"),
    path("replies/<int:pk>/cancel/", api.ReplyCancelApi.as_view(), name="api-reply-cancel"),
    path(
        "replies/<int:pk>/mark-posted/",
        api.ReplyMarkPostedApi.as_view(),
        name="api-reply-mark-posted",
    ),
]
