from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from inbox import replies, selectors
from inbox.filters import MentionFilter
from inbox.models import Mention, RawPayload, Reply, SocialAccount
from inbox.pipeline import accept
from inbox.platforms import generic, google
from inbox.platforms.base import PayloadError, Platform
from reputation.core.api import TenantApiView, read_body, require_json
from reputation.core.errors import Refused
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

    def list(self, request, *args, **kwargs):
        # A misspelt filter must not silently return every mention (?assignee was once
        # ignored that way): anything but the filters and paging is refused.
        allowed = {*MentionFilter.base_filters, "page", "format"}
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise Refused(
                "unknown_parameter",
                f"Unknown query parameter {', '.join(unknown)}: use {', '.join(sorted(allowed))}.",
                status=400,
            )
        return super().list(request, *args, **kwargs)


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


# ---------------------------------------------------------------- replies


class ReplySerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by_label")

    class Meta:
        model = Reply
        ref_name = "Reply"
        fields = [
            "id", "mention", "status", "visibility", "channel", "contact", "origin", "text",
            "created_by", "created_at", "updated_at", "scheduled_for", "published_at",
            "external_id", "external_url", "seen_on_platform_at", "error", "retryable",
            "problems", "override_reason", "contains_personal_data",
        ]  # fmt: skip


_problem = inline_serializer(
    "GuardProblem",
    {
        "code": serializers.CharField(),
        "severity": serializers.ChoiceField(choices=["block", "warn"]),
        "phrase": serializers.CharField(),
        "start": serializers.IntegerField(),
        "end": serializers.IntegerField(),
        "suggestion": serializers.CharField(),
    },
    many=True,
)
reply_error = inline_serializer(
    "ReplyError",
    {
        "error": serializers.CharField(),
        "code": serializers.CharField(),
        "field": serializers.CharField(allow_null=True),
        "problems": _problem,
    },
)
PHI_EXAMPLE = OpenApiExample(
    "Blocked by the privacy guard",
    status_codes=["422"],
    response_only=True,
    value={
        "error": "Blocked: the reply discloses patient details in public (“your root canal”).",
        "code": "phi",
        "field": None,
        "problems": [
            {
                "code": "phi",
                "severity": "block",
                "phrase": "your root canal",
                "start": 10,
                "end": 25,
                "suggestion": "We take every concern seriously, and we don't discuss anyone's "
                "care or costs in public. Please call us at … so we can look into it together.",
            }
        ],
    },
)
RULE_OF_TWO_EXAMPLE = OpenApiExample(
    "Refused: third public reply",
    status_codes=["422"],
    response_only=True,
    value={
        "error": "Refused: this would be the third public reply to this person in this "
        "conversation. Move it private; a manager may override with a reason.",
        "code": "rule_of_two",
        "field": None,
        "problems": [],
    },
)
REFUSALS = {
    400: OpenApiResponse(reply_error, description="Bad input (code invalid, reason_required)"),
    403: OpenApiResponse(reply_error, description="Role too low (code permission)"),
    404: OpenApiResponse(description="No such reply or mention in this practice"),
    409: OpenApiResponse(
        reply_error,
        description="Wrong state (invalid_transition, too_late), someone else is replying "
        "(collision), a hand-posted platform (manual_channel), cooling_off",
    ),
    422: OpenApiResponse(
        reply_error,
        description="A guard refused it (phi, rule_of_two, do_not_engage, empty, too_long)",
        examples=[PHI_EXAMPLE, RULE_OF_TWO_EXAMPLE],
    ),
}


class _ReplyApi(TenantApiView):
    """Role checks, guards and transitions are the services' (inbox.replies): the
    endpoints parse, call, and turn a refusal into its status and stable code."""

    def handle_exception(self, exc):
        if isinstance(exc, replies.ReplyRefused):
            return Response(exc.as_dict(), status=exc.status)
        return super().handle_exception(exc)

    def parse(self, serializer_class, request):
        require_json(request)
        data = request.data
        if not isinstance(data, dict):
            raise PayloadError("Send a JSON object.")
        unknown = set(data) - set(serializer_class().fields)
        if unknown:
            name = sorted(unknown)[0]
            raise PayloadError(f"Unknown field {name!r}.", field=name)
        serializer = serializer_class(data=data)
        for name, field in serializer.fields.items():
            # DRF turns 5 into "5" and 1 into True; a client sending the wrong type
            # has a bug worth hearing about.
            value = data.get(name)
            if value is None:
                continue
            if isinstance(field, serializers.CharField) and not isinstance(value, str):
                raise PayloadError(f"{name} must be a string.", field=name)
            if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
                raise PayloadError(f"{name} must be true or false.", field=name)
        if not serializer.is_valid():
            field, errors = next(iter(serializer.errors.items()))
            raise PayloadError(f"{field}: {' '.join(str(e) for e in errors)}", field=field)
        return serializer.validated_data

    def reply(self, pk: int) -> Reply:
        reply = Reply.objects.select_related("mention", "mention__author").filter(pk=pk).first()
        if reply is None:
            raise Http404
        return reply

    def answer(self, reply: Reply, code: int = status.HTTP_200_OK) -> Response:
        return Response(ReplySerializer(reply).data, status=code)


class MentionRepliesApi(_ReplyApi):
    class ReplyDraftInput(serializers.Serializer):
        text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=20_000)
        visibility = serializers.ChoiceField(choices=Reply.Visibility.choices, default="public")
        channel = serializers.ChoiceField(
            choices=Reply.Channel.choices, required=False, allow_blank=True
        )
        contact = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def mention(self, pk: int) -> Mention:
        mention = selectors.mention_get(pk=pk)
        if mention is None:
            raise Http404
        return mention

    @extend_schema(
        summary="The replies to a mention, oldest first (ours, and those written on the platform)",
        responses={200: ReplySerializer(many=True)},
    )
    def get(self, request, pk: int):
        mention = self.mention(pk)
        return Response(
            ReplySerializer(mention.replies.order_by("created_at", "id"), many=True).data
        )

    @extend_schema(
        summary="Draft a reply (the guards' findings come back in `problems`)",
        request=ReplyDraftInput,
        responses={201: ReplySerializer, **REFUSALS},
        examples=[
            OpenApiExample(
                "A public reply",
                request_only=True,
                value={"text": "Thank you for telling us. Please call us at 22 33 44 55."},
            )
        ],
    )
    def post(self, request, pk: int):
        data = self.parse(self.ReplyDraftInput, request)
        reply = replies.reply_draft(
            mention=self.mention(pk),
            actor=request.user,
            text=data["text"],
            visibility=data["visibility"],
            channel=data.get("channel", ""),
            contact=data.get("contact", ""),
        )
        return self.answer(reply, status.HTTP_201_CREATED)


class ReplyApi(_ReplyApi):
    class ReplyEditInput(serializers.Serializer):
        text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=20_000)

    @extend_schema(summary="One reply", responses={200: ReplySerializer})
    def get(self, request, pk: int):
        return self.answer(self.reply(pk))

    @extend_schema(
        summary="Change a reply's text (a draft, one in its cooling-off, or a failed one)",
        request=ReplyEditInput,
        responses={200: ReplySerializer, **REFUSALS},
    )
    def patch(self, request, pk: int):
        data = self.parse(self.ReplyEditInput, request)
        return self.answer(
            replies.reply_update(reply=self.reply(pk), actor=request.user, text=data["text"])
        )


class ReplyPublishApi(_ReplyApi):
    class ReplyPublishInput(serializers.Serializer):
        confirm = serializers.BooleanField(
            default=False, help_text="Publish although someone else is replying right now."
        )

    @extend_schema(
        summary="Publish a draft: sent now, or scheduled for the cooling-off when it answers "
        "a threat, harassment or a strongly negative post",
        request=ReplyPublishInput,
        responses={200: ReplySerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        data = self.parse(self.ReplyPublishInput, request)
        return self.answer(
            replies.reply_publish(
                reply=self.reply(pk), actor=request.user, confirm_collision=data["confirm"]
            )
        )


class ReplyOverrideApi(_ReplyApi):
    class ReplyOverrideInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)
        confirm = serializers.BooleanField(default=False)

    @extend_schema(
        summary="A manager publishes past the Rule of Two or do-not-engage, with a reason",
        request=ReplyOverrideInput,
        responses={200: ReplySerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        data = self.parse(self.ReplyOverrideInput, request)
        return self.answer(
            replies.reply_override(
                reply=self.reply(pk),
                actor=request.user,
                reason=data["reason"],
                confirm_collision=data["confirm"],
            )
        )


class ReplySendNowApi(_ReplyApi):
    class ReplySendNowInput(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        summary="A manager ends a reply's cooling-off now (audited)",
        request=ReplySendNowInput,
        responses={200: ReplySerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        data = self.parse(self.ReplySendNowInput, request)
        return self.answer(
            replies.reply_send_now(
                reply=self.reply(pk), actor=request.user, reason=data.get("reason", "")
            )
        )


class ReplyCancelApi(_ReplyApi):
    @extend_schema(
        summary="Cancel a draft, a reply in its cooling-off, or a failed one",
        request=None,
        responses={200: ReplySerializer, **REFUSALS},
    )
    def post(self, request, pk: int):
        return self.answer(replies.reply_cancel(reply=self.reply(pk), actor=request.user))


class ReplyMarkPostedApi(_ReplyApi):
    class ReplyMarkPostedInput(serializers.Serializer):
        url = serializers.CharField(max_length=1000)

    @extend_schema(
        summary="Yelp, Tripadvisor, blogs: record a reply posted by hand, with its link",
        request=ReplyMarkPostedInput,
        responses={200: ReplySerializer, **REFUSALS},
        examples=[
            OpenApiExample(
                "Posted on Yelp",
                request_only=True,
                value={"url": "https://www.yelp.com/biz/alpha-dental?hrid=abc123"},
            )
        ],
    )
    def post(self, request, pk: int):
        data = self.parse(self.ReplyMarkPostedInput, request)
        return self.answer(
            replies.reply_mark_posted(reply=self.reply(pk), actor=request.user, url=data["url"])
        )
