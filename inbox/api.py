from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from inbox import selectors
from inbox.filters import MentionFilter
from inbox.models import Mention, RawPayload, SocialAccount
from inbox.pipeline import accept
from inbox.platforms import generic, google
from inbox.platforms.base import PayloadError, Platform
from reputation.core.api import TenantApiView, read_body, require_json
from reputation.core.payload import payload_json


class MentionListApi(TenantApiView, generics.ListAPIView):
    class OutputSerializer(serializers.ModelSerializer):
        account = serializers.CharField(source="account.display_name", default=None)
        account_owner = serializers.EmailField(source="account.owner.email", default=None)
        assignee = serializers.EmailField(source="assignee.email", default=None)

        class Meta:
            model = Mention
            ref_name = "Mention"  # the OpenAPI component name (both APIs say "Output")
            fields = [
                "id", "platform", "external_id", "kind", "account", "account_owner",
                "author_name", "author_handle", "text", "rating", "url", "posted_at",
                "received_at", "status", "assignee", "category", "sentiment", "severity",
                "language", "evidence", "is_indirect", "due_at", "first_response_at",
            ]  # fmt: skip

    serializer_class = OutputSerializer
    filterset_class = MentionFilter

    def get_queryset(self):
        return selectors.mention_list()


accepted = inline_serializer(
    "Accepted",
    {"raw_id": serializers.IntegerField(), "status": serializers.CharField()},
)


def _account_must_exist(platform: str, external_id: str, *, field: str) -> None:
    """A mention for an account this practice has not connected is refused, not guessed:
    it is most likely meant for another practice or a typo in the integration."""
    if not SocialAccount.objects.filter(platform=platform, external_id=external_id).exists():
        raise PayloadError(
            f"No connected {platform} account {external_id!r} in this practice: connect it "
            "first (Accounts page), or leave the account out for an indirect mention.",
            field=field,
        )


class _IngestApi(TenantApiView):
    """Validate at the door (so a client hears what is wrong), store raw, queue."""

    min_role = "responder"
    throttle_scope = "ingest"
    source = ""
    platform = ""

    def post(self, request):
        require_json(request)
        body = read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("Body is not UTF-8 text.") from None
        platform = self.validate(payload_json(text))
        raw = accept.raw_payload_push(
            source=self.source,
            platform=platform,
            body=text,
            headers={"content-type": request.META.get("CONTENT_TYPE", "")},
            actor=request.user,
        )
        return Response({"raw_id": raw.pk, "status": raw.status}, status=status.HTTP_202_ACCEPTED)


class GoogleReviewIngestApi(_IngestApi):
    source = "api:google-review"

    @extend_schema(
        summary="Push a Google Business Profile review (v4 Review resource)",
        request=inline_serializer("GoogleReview", {"name": serializers.CharField()}),
        responses={202: accepted, 400: OpenApiResponse(description="Invalid review")},
    )
    def post(self, request):
        return super().post(request)

    def validate(self, data) -> str:
        review = google.parse_review(data)
        _account_must_exist(Platform.GOOGLE, review.account_external_id, field="name")
        return Platform.GOOGLE


class MentionIngestApi(_IngestApi):
    source = "api:mention"

    @extend_schema(
        summary="Push a mention (or a list of up to 1,000) in the generic format",
        request=inline_serializer("GenericMention", {"external_id": serializers.CharField()}),
        responses={202: accepted, 400: OpenApiResponse(description="Invalid mention")},
    )
    def post(self, request):
        return super().post(request)

    def validate(self, data) -> str:
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > 1000:
            raise PayloadError("Send one mention object or a list of 1 to 1,000.")
        platforms = set()
        for index, item in enumerate(items):
            try:
                parsed = generic.parse_mention(item)
                if parsed.account_external_id:
                    _account_must_exist(
                        parsed.platform, parsed.account_external_id, field="account"
                    )
                platforms.add(parsed.platform)
            except PayloadError as exc:
                if isinstance(data, list):
                    exc.field = f"[{index}].{exc.field}" if exc.field else f"[{index}]"
                raise
        return platforms.pop() if len(platforms) == 1 else Platform.API


class RawPayloadApi(TenantApiView, generics.RetrieveAPIView):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = RawPayload
            ref_name = "RawPayload"
            fields = [
                "id", "source", "platform", "received_at", "status", "error", "attempts",
                "next_attempt_at", "processed_at", "mentions_created", "duplicates", "skipped",
            ]  # fmt: skip

    serializer_class = OutputSerializer

    def get_queryset(self):
        return RawPayload.objects.all()
