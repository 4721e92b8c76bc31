"""REST API for escalations, platform reports and the customer check: thin views over
the same services as the pages (which check roles). A refused change answers 4xx JSON
`{"error", "code", "field"?}`, never a 500."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from escalation import customers, evidence, selectors, services
from escalation.errors import Refused
from escalation.models import CustomerCheck, CustomerList, Escalation, PlatformReport
from inbox.models import Mention
from reputation.core.api import PayloadTooLarge, TenantApiView

ERROR = inline_serializer(
    "EscalationError",
    {
        "error": serializers.CharField(),
        "code": serializers.CharField(),
        "field": serializers.CharField(required=False),
    },
)
REFUSED_EXAMPLE = OpenApiExample(
    "Refused transition",
    value={"error": "Cannot approve: this escalation is open.", "code": "transition_refused"},
    response_only=True,
    status_codes=["409"],
)
ERRORS = {
    400: OpenApiResponse(ERROR, description="Invalid input (`field` names it)"),
    403: OpenApiResponse(ERROR, description="Role too low (`code` forbidden)"),
    404: OpenApiResponse(description="No such object in this practice"),
    409: OpenApiResponse(ERROR, description="Refused transition (`code` says why)"),
}


class _EscalationApi(TenantApiView):
    def handle_exception(self, exc):
        if isinstance(exc, Refused):
            return Response(exc.as_dict(), status=exc.status)
        return super().handle_exception(exc)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        field, problems = next(iter(serializer.errors.items()))
        message = problems[0] if isinstance(problems, list) else str(problems)
        raise Refused("invalid", str(message), field="" if field == "non_field_errors" else field)
    return serializer.validated_data


def _mention(pk: int) -> Mention:
    mention = Mention.objects.filter(pk=pk).first()
    if mention is None:
        raise Refused("no_such_mention", "No such mention in this practice.", field="mention")
    return mention


# ---------------------------------------------------------------- escalations


class EscalationOut(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", default=None)
    approved_by = serializers.EmailField(source="approved_by.email", default=None)
    contacted_by = serializers.EmailField(source="contacted_by.email", default=None)
    closed_by = serializers.EmailField(source="closed_by.email", default=None)

    class Meta:
        model = Escalation
        ref_name = "Escalation"
        fields = [
            "id", "mention", "kind", "status", "auto_opened", "summary", "created_at",
            "created_by", "justification", "approved_by", "approved_at", "contacted_at",
            "contacted_by", "contact_who", "contact_how", "case_reference",
            "case_recorded_at", "due_at", "closed_at", "closed_by", "outcome",
        ]  # fmt: skip


class EscalationCreateIn(serializers.Serializer):
    mention = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Escalation.Kind.choices)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    justification = serializers.CharField(required=False, allow_blank=True, default="")


ESCALATION_EXAMPLE = OpenApiExample(
    "Police escalation",
    value={
        "id": 7,
        "mention": 42,
        "kind": "police",
        "status": "contacted",
        "auto_opened": True,
        "summary": "Opened automatically: the mention was categorised as a threat.",
        "created_at": "2026-11-02T08:15:00Z",
        "created_by": None,
        "justification": "",
        "approved_by": None,
        "approved_at": None,
        "contacted_at": "2026-11-02T08:40:00Z",
        "contacted_by": "owner@fjord-dental.test",
        "contact_who": "Oslo police, duty officer",
        "contact_how": "phone 02800",
        "case_reference": "",
        "case_recorded_at": None,
        "due_at": "2026-11-03T08:15:00Z",
        "closed_at": None,
        "closed_by": None,
        "outcome": "",
    },
    response_only=True,
)


class EscalationListApi(_EscalationApi, generics.ListAPIView):
    serializer_class = EscalationOut

    def get_queryset(self):
        return selectors.escalation_list().select_related(
            "approved_by", "contacted_by", "closed_by"
        )

    @extend_schema(summary="List escalations (active first)", examples=[ESCALATION_EXAMPLE])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Open an escalation for a mention",
        description=(
            "Kinds: police, legal, insurer, platform_safety. A legal escalation on a "
            "mention that is neither a threat nor marked defamatory needs a `justification` "
            "(Streisand guard) and is created `awaiting_approval` until a manager approves."
        ),
        request=EscalationCreateIn,
        responses={201: EscalationOut, **ERRORS},
        examples=[
            OpenApiExample(
                "Legal, with justification",
                value={
                    "mention": 42,
                    "kind": "legal",
                    "justification": "Names our dentist and claims a criminal act that "
                    "never happened; counsel should assess defamation.",
                },
                request_only=True,
            ),
            ESCALATION_EXAMPLE,
            OpenApiExample(
                "Guard refuses",
                value={
                    "error": "This mention is negative but not a threat ...",
                    "code": "justification_required",
                    "field": "justification",
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request):
        data = _valid(EscalationCreateIn, request.data)
        escalation = services.escalation_open(
            mention=_mention(data["mention"]),
            kind=data["kind"],
            summary=data["summary"],
            justification=data["justification"],
            actor=request.user,
        )
        return Response(EscalationOut(escalation).data, status=status.HTTP_201_CREATED)


class EscalationDetailApi(_EscalationApi, generics.RetrieveAPIView):
    serializer_class = EscalationOut

    def get_queryset(self):
        return Escalation.objects.select_related(
            "created_by", "approved_by", "contacted_by", "closed_by"
        )

    @extend_schema(summary="An escalation", examples=[ESCALATION_EXAMPLE])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EscalationTransitionIn(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["approve", "contact", "case_reference", "update", "due", "close"]
    )
    who = serializers.CharField(required=False, allow_blank=True, default="")
    how = serializers.CharField(required=False, allow_blank=True, default="")
    when = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class EscalationTransitionApi(_EscalationApi):
    @extend_schema(
        summary="Move an escalation on",
        description=(
            "`approve` (manager, in person: awaiting_approval → open), `contact` (who, how, "
            "when: open → contacted), `case_reference` (reference: contacted → "
            "case_recorded), `update` (note), `due` (due_at), `close` (manager; outcome)."
        ),
        request=EscalationTransitionIn,
        responses={200: EscalationOut, **ERRORS},
        examples=[
            OpenApiExample(
                "Record the contact",
                value={"action": "contact", "who": "Oslo police", "how": "phone"},
                request_only=True,
            ),
            OpenApiExample(
                "Record the case reference",
                value={"action": "case_reference", "reference": "2026-118734"},
                request_only=True,
            ),
            REFUSED_EXAMPLE,
        ],
    )
    def post(self, request, pk: int):
        escalation = Escalation.objects.filter(pk=pk).first()
        if escalation is None:
            raise Http404
        data = _valid(EscalationTransitionIn, request.data)
        action, user = data["action"], request.user
        if action == "approve":
            services.escalation_approve(escalation=escalation, actor=user)
        elif action == "contact":
            services.escalation_record_contact(
                escalation=escalation,
                who=data["who"],
                how=data["how"],
                when=data["when"],
                actor=user,
            )
        elif action == "case_reference":
            services.escalation_record_case_reference(
                escalation=escalation, reference=data["reference"], actor=user
            )
        elif action == "update":
            services.escalation_add_update(escalation=escalation, note=data["note"], actor=user)
        elif action == "due":
            if data["due_at"] is None:
                raise Refused("invalid", "due_at is required.", field="due_at")
            services.escalation_set_due(escalation=escalation, due_at=data["due_at"], actor=user)
        else:
            services.escalation_close(escalation=escalation, outcome=data["outcome"], actor=user)
        escalation.refresh_from_db()
        return Response(EscalationOut(escalation).data)


def _pack_response(subject, request) -> HttpResponse:
    data, name = evidence.evidence_pack_build(subject=subject, actor=request.user)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


PACK_SCHEMA = dict(
    responses={
        (200, "application/zip"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="ZIP: mention.json, mention.html, raw/payload.txt, author.json, "
            "audit.json, the record, attachments/, manifest.json (SHA-256 and size of each "
            "file). The pack's own SHA-256 is written to the audit trail.",
        ),
        404: OpenApiResponse(description="No such object in this practice"),
    },
)


class EscalationPackApi(_EscalationApi):
    @extend_schema(summary="Evidence pack of an escalation (ZIP)", **PACK_SCHEMA)
    def get(self, request, pk: int):
        escalation = Escalation.objects.filter(pk=pk).first()
        if escalation is None:
            raise Http404
        return _pack_response(escalation, request)


# ---------------------------------------------------------------- platform reports


class ReportOut(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", default=None)
    submitted_by = serializers.EmailField(source="submitted_by.email", default=None)

    class Meta:
        model = PlatformReport
        ref_name = "PlatformReport"
        fields = [
            "id", "mention", "platform", "reason", "grounds", "customer_finding", "status",
            "created_at", "created_by", "submitted_at", "submitted_by", "submitted_how",
            "platform_reference", "decided_at", "decision_note", "removal_detected",
            "appealed_at", "appeal_grounds",
        ]  # fmt: skip


class ReportCreateIn(serializers.Serializer):
    mention = serializers.IntegerField()
    reason = serializers.CharField(help_text="The platform's reason code (report_reasons.toml)")
    grounds = serializers.CharField()


REPORT_EXAMPLE = OpenApiExample(
    "A Google report",
    value={
        "id": 3,
        "mention": 42,
        "platform": "google",
        "reason": "conflict_of_interest",
        "grounds": "Posted by a competitor; no such patient.",
        "customer_finding": "not found: no customer with this name",
        "status": "submitted",
        "created_at": "2026-11-02T09:00:00Z",
        "created_by": "responder@fjord-dental.test",
        "submitted_at": "2026-11-02T09:05:00Z",
        "submitted_by": "responder@fjord-dental.test",
        "submitted_how": "Google's reporting page",
        "platform_reference": "",
        "decided_at": None,
        "decision_note": "",
        "removal_detected": False,
        "appealed_at": None,
        "appeal_grounds": "",
    },
    response_only=True,
)


class PlatformReportListApi(_EscalationApi, generics.ListAPIView):
    serializer_class = ReportOut

    def get_queryset(self):
        return selectors.report_list()

    @extend_schema(summary="List platform reports", examples=[REPORT_EXAMPLE])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Draft a report of a mention to its platform",
        request=ReportCreateIn,
        responses={201: ReportOut, **ERRORS},
        examples=[
            OpenApiExample(
                "Report a fake review",
                value={
                    "mention": 42,
                    "reason": "conflict_of_interest",
                    "grounds": "Not a patient.",
                },
                request_only=True,
            ),
            REPORT_EXAMPLE,
        ],
    )
    def post(self, request):
        data = _valid(ReportCreateIn, request.data)
        report = services.report_create(
            mention=_mention(data["mention"]),
            reason=data["reason"],
            grounds=data["grounds"],
            actor=request.user,
        )
        return Response(ReportOut(report).data, status=status.HTTP_201_CREATED)


class PlatformReportDetailApi(_EscalationApi, generics.RetrieveAPIView):
    serializer_class = ReportOut

    def get_queryset(self):
        return selectors.report_list()

    @extend_schema(summary="A platform report", examples=[REPORT_EXAMPLE])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReportTransitionIn(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=["submit", "under_review", "removed", "rejected", "appeal"]
    )
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    how = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    grounds = serializers.CharField(required=False, allow_blank=True, default="")


class PlatformReportTransitionApi(_EscalationApi):
    @extend_schema(
        summary="Move a platform report on",
        description=(
            "draft → `submit` (reference, how) → submitted → `under_review` → "
            "`removed` | `rejected` (note) → `appeal` (grounds; once) → removed | rejected."
        ),
        request=ReportTransitionIn,
        responses={200: ReportOut, **ERRORS},
        examples=[
            OpenApiExample(
                "Record the filing",
                value={"action": "submit", "reference": "case 5-1234000"},
                request_only=True,
            ),
            OpenApiExample(
                "Second appeal refused",
                value={"error": "This report has had its one appeal.", "code": "appeal_used"},
                response_only=True,
                status_codes=["409"],
            ),
        ],
    )
    def post(self, request, pk: int):
        report = PlatformReport.objects.filter(pk=pk).first()
        if report is None:
            raise Http404
        data = _valid(ReportTransitionIn, request.data)
        action, user = data["action"], request.user
        if action == "submit":
            services.report_submit(
                report=report, platform_reference=data["reference"], how=data["how"], actor=user
            )
        elif action == "under_review":
            services.report_mark_under_review(report=report, actor=user)
        elif action in ("removed", "rejected"):
            services.report_decide(report=report, outcome=action, note=data["note"], actor=user)
        else:
            services.report_appeal(report=report, grounds=data["grounds"], actor=user)
        report.refresh_from_db()
        return Response(ReportOut(report).data)


class PlatformReportPackApi(_EscalationApi):
    @extend_schema(summary="Evidence pack of a platform report (ZIP)", **PACK_SCHEMA)
    def get(self, request, pk: int):
        report = PlatformReport.objects.filter(pk=pk).first()
        if report is None:
            raise Http404
        return _pack_response(report, request)


# ---------------------------------------------------------------- customer check


class CustomerListOut(serializers.ModelSerializer):
    class Meta:
        model = CustomerList
        ref_name = "CustomerListSummary"
        fields = [
            "id", "status", "created_at", "finished_at", "rows_read", "customers", "rejected",
            "names", "emails", "phones", "columns_used", "columns_ignored", "rejections",
        ]  # fmt: skip


# A customer list is larger than a mention push: 100,000 customers is about 6 MB.
CUSTOMER_CSV_MAX_BYTES = 50 * 1024 * 1024


class CsvParser(BaseParser):
    """A CSV body as bytes, refused past the size limit."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            raise ParseError("Send the CSV file as the body.")
        data = stream.read(CUSTOMER_CSV_MAX_BYTES + 1)
        if len(data) > CUSTOMER_CSV_MAX_BYTES:
            raise PayloadTooLarge(f"The file is over {CUSTOMER_CSV_MAX_BYTES // 2**20} MB.")
        return data


class CustomerImportApi(_EscalationApi):
    parser_classes = [CsvParser, MultiPartParser]

    @extend_schema(
        summary="Replace the customer list (CSV)",
        description=(
            "Send the CSV as the body (`Content-Type: text/csv`) or as multipart field "
            "`file`. Columns: name (or first_name + last_name), email, phone, optional "
            "external_id; others are ignored and named in the summary. The answer is a "
            "summary (counts, column names, line numbers of rejected rows): identifiers "
            "are never returned, stored or logged. Managers and API keys."
        ),
        request={"text/csv": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={201: CustomerListOut, **ERRORS},
        examples=[
            OpenApiExample(
                "Summary",
                value={
                    "id": 4,
                    "status": "current",
                    "created_at": "2026-11-02T10:00:00Z",
                    "finished_at": "2026-11-02T10:00:03Z",
                    "rows_read": 1203,
                    "customers": 1200,
                    "rejected": 3,
                    "names": 1198,
                    "emails": 1022,
                    "phones": 1150,
                    "columns_used": ["email", "name", "phone"],
                    "columns_ignored": ["Last visit"],
                    "rejections": [
                        [17, "no name of two words, valid email or possible phone number"]
                    ],
                },
                response_only=True,
            )
        ],
    )
    def post(self, request):
        body = request.data
        if isinstance(body, bytes):
            data = body
        else:
            upload = request.FILES.get("file")
            data = upload.read() if upload is not None else b""
        if not data:
            raise Refused("empty", "Send the CSV file.", field="file")
        try:
            imported = customers.customer_list_import(
                lines=customers.csv_text_lines(data), actor=request.user
            )
        except customers.CustomerImportError as exc:
            raise Refused("invalid_csv", str(exc), field="file") from None
        return Response(CustomerListOut(imported).data, status=status.HTTP_201_CREATED)


class CustomerCheckOut(serializers.ModelSerializer):
    effective_status = serializers.CharField()
    override_by = serializers.EmailField(source="override_by.email", default=None)

    class Meta:
        model = CustomerCheck
        ref_name = "CustomerCheck"
        fields = [
            "author", "status", "reason", "effective_status", "checked_at", "override_status",
            "override_reason", "override_by", "override_at",
        ]  # fmt: skip


CHECK_EXAMPLE = OpenApiExample(
    "Not a customer",
    value={
        "author": 12,
        "status": "not_found",
        "reason": "no customer with this name",
        "effective_status": "not_found",
        "checked_at": "2026-11-02T10:00:00Z",
        "override_status": "",
        "override_reason": "",
        "override_by": None,
        "override_at": None,
    },
    response_only=True,
)


class MentionCustomerCheckApi(_EscalationApi):
    def _author(self, pk: int):
        mention = Mention.objects.select_related("author").filter(pk=pk).first()
        if mention is None:
            raise Http404
        if mention.author is None:
            raise Refused("no_author", "This mention has no author to check.", status=409)
        return mention.author

    @extend_schema(
        summary="The customer check of a mention's author",
        responses={200: CustomerCheckOut, **ERRORS},
        examples=[CHECK_EXAMPLE],
    )
    def get(self, request, pk: int):
        author = self._author(pk)
        check = CustomerCheck.objects.filter(author=author).first()
        if check is None:
            check = customers.customer_check_author(author=author)
        return Response(CustomerCheckOut(check).data)

    @extend_schema(
        summary="Check the mention's author again now",
        request=None,
        responses={200: CustomerCheckOut, **ERRORS},
        examples=[CHECK_EXAMPLE],
    )
    def post(self, request, pk: int):
        check = customers.customer_check_author(author=self._author(pk), actor=request.user)
        return Response(CustomerCheckOut(check).data)
