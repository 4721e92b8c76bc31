"""Service-wide webhook endpoints (public host): Meta Graph and Google Pub/Sub push.

Answer fast: check the signature, store the body, 200. Routing and processing happen
in the worker, so a slow database moment never makes Meta retry a whole batch.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.platforms import meta
from inbox.sources import deliveries as routing
from reputation.core.errors import PayloadError
from reputation.core.payload import payload_json

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _read_limited(request: HttpRequest) -> bytes | None:
    limit = settings.WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = limit + 1
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _client(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "?")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        challenge = meta.verify_handshake(request.GET, settings.META_VERIFY_TOKEN)
        if challenge is None:
            log.warning("meta webhook handshake refused from %s", _client(request))
            return _error(403, "Verify token does not match.")
        return HttpResponse(challenge, content_type="text/plain")
    body = _read_limited(request)
    if body is None:
        log.warning(
            "meta webhook body over %s bytes from %s", settings.WEBHOOK_MAX_BYTES, _client(request)
        )
        return _error(413, f"Body over {settings.WEBHOOK_MAX_BYTES} bytes.")
    signature = request.headers.get("X-Hub-Signature-256")
    if not meta.verify_signature(body, signature, settings.META_APP_SECRET):
        log.warning(
            "meta webhook signature refused from %s (%d bytes, header %s)",
            _client(request),
            len(body),
            "present" if signature else "missing",
        )
        return _error(403, "Invalid X-Hub-Signature-256.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("meta webhook body is not UTF-8")
        return _error(400, "Body is not UTF-8 JSON.")
    delivery = routing.delivery_accept(
        platform="meta", body=text, headers={"x-hub-signature-256": signature or ""}
    )
    return _json_checked(delivery, text)


@csrf_exempt
@require_http_methods(["POST"])
def google_pubsub_webhook(request: HttpRequest) -> HttpResponse:
    """Pub/Sub push subscription endpoint, authenticated by a shared token in the URL
    (`?token=`), set when the push subscription is created."""
    token = request.GET.get("token", "")
    if not hmac.compare_digest(token.encode(), settings.GOOGLE_PUBSUB_TOKEN.encode()):
        log.warning("google pubsub push with a bad token from %s", _client(request))
        return _error(403, "Invalid push token.")
    body = _read_limited(request)
    if body is None:
        return _error(413, f"Body over {settings.WEBHOOK_MAX_BYTES} bytes.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "Body is not UTF-8 JSON.")
    delivery = routing.delivery_accept(platform="google", body=text, headers={})
    return _json_checked(delivery, text)


def _json_checked(delivery, text: str) -> HttpResponse:
    """The body is kept either way (it is authentic); malformed JSON is still a 400."""
    try:
        payload_json(text)
    except PayloadError as exc:
        routing.delivery_reject(delivery=delivery, error=str(exc))
        log.warning("webhook delivery %s is not JSON: %s", delivery.pk, exc)
        return _error(400, str(exc))
    return JsonResponse({"received": delivery.pk})
