"""The request an audit event comes from: client address, user agent and a request id,
set by `AuditRequestMiddleware` for the length of a request (and empty in the worker)."""

from __future__ import annotations

import contextvars
import dataclasses
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


@dataclasses.dataclass(frozen=True)
class RequestInfo:
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


_current: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "audit_request",
    default=RequestInfo(),  # noqa: B039 - frozen, immutable
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request() -> RequestInfo:
    return _current.get()


def AuditRequestMiddleware(get_response: Callable) -> Callable:  # noqa: N802 - Django style
    def middleware(request: HttpRequest) -> HttpResponse:
        # REMOTE_ADDR is the client, or the proxy in front: a deployment behind a proxy
        # puts the real address there (gunicorn's forwarded_allow_ips, or the proxy).
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = _current.set(
            RequestInfo(
                ip=request.META.get("REMOTE_ADDR") or None,
                user_agent=request.headers.get("User-Agent", "")[:300],
                request_id=request_id,
            )
        )
        try:
            response = get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response

    return middleware
