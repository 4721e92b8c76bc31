"""Shared API plumbing: error format, body limits, and the tenant-scoped base view."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from reputation.core.errors import PayloadError, Refused

log = logging.getLogger("reputation.api")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


class UnsupportedMediaType(exceptions.APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_media_type"


def exception_handler(exc, context):
    """Every API error is JSON with `error` (and `field` where one is to blame), and
    leaves a log line naming the practice and path."""
    if isinstance(exc, PayloadError):
        response = Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, Refused):
        response = Response(exc.as_dict(), status=exc.status)
    else:
        response = drf_exception_handler(exc, context)
        if response is not None and isinstance(response.data, dict) and "detail" in response.data:
            response.data = {"error": str(response.data["detail"])}
    if response is not None:
        request = context.get("request")
        log.warning(
            "api %s %s on %s -> %s: %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            getattr(connection, "schema_name", "?"),
            response.status_code,
            response.data,
        )
    return response


def read_body(request, *, limit: int | None = None) -> bytes:
    """The raw body, refused with 413 past `limit` before it is read into memory."""
    limit = limit or settings.MAX_PAYLOAD_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Invalid Content-Length header.") from None
    if declared > limit:
        raise PayloadTooLarge(f"Request body is {declared} bytes; the limit is {limit} bytes.")
    body = request._request.read(limit + 1) if not request._request._read_started else b""
    if not body and getattr(request._request, "_body", None):
        body = request._request._body
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    return body


def require_json(request) -> None:
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.split(";")[0].strip().lower().endswith("json"):
        raise UnsupportedMediaType(
            f"Send JSON (Content-Type: application/json), not {content_type or 'nothing'}."
        )


class TenantApiView(APIView):
    """Base of every practice API view: refuses the public host outright, and
    (through the default permission) anyone who is not of this practice."""

    min_role = "viewer"

    def initial(self, request, *args, **kwargs):
        if connection.schema_name == "public":
            raise Http404
        super().initial(request, *args, **kwargs)
