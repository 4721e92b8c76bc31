"""Escalation emails as an outbox: a `Notice` row is written in the transaction of the
change that causes it and sent once by a worker (the same claim as inbox alerts)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.models import Notice
from reputation.core.tasks import enqueue

log = logging.getLogger(__name__)


def notice_queue(*, key: str, recipients: list[str], subject: str, body: str) -> Notice | None:
    """Queue an email once per `key` (a replayed event queues nothing new)."""
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return None
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                key=key[:200], recipients=recipients, subject=subject[:250], body=body
            )
    except IntegrityError:
        return None
    enqueue("escalation.notices.notice_send", notice.pk)
    return notice


def notice_send(notice_id: int) -> bool:
    """Claim, send, mark sent. Safe to run twice: the claim is a compare-and-swap, and a
    claim left by a worker killed mid-send goes stale after the task timeout (then it is
    sent again: a duplicate email is better than a lost one). A failed send hands the
    claim back, keeps the error and raises, so django-q2 retries it."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.Q_CLUSTER.get("timeout", 120))
    claimed = (
        Notice.objects.filter(pk=notice_id, sent_at__isnull=True)
        .filter(Q(sending_at__isnull=True) | Q(sending_at__lt=stale))
        .update(sending_at=now, send_attempts=F("send_attempts") + 1)
    )
    if not claimed:
        return False
    notice = Notice.objects.get(pk=notice_id)
    try:
        send_mail(notice.subject, notice.body, None, notice.recipients, fail_silently=False)
    except Exception as exc:
        log.exception("notice %s: the email could not be sent; it will be retried", notice_id)
        Notice.objects.filter(pk=notice_id, sending_at=now).update(
            sending_at=None, send_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    Notice.objects.filter(pk=notice_id).update(sent_at=timezone.now(), sending_at=None)
    return True


def notices_resend_unsent(*, now: dt.datetime | None = None) -> int:
    """The sweep: queue again notices unsent an hour after they were written (their task
    was lost or every retry failed)."""
    now = now or timezone.now()
    count = 0
    for pk in Notice.objects.filter(
        sent_at__isnull=True,
        sending_at__isnull=True,
        send_attempts__lt=10,
        created_at__lt=now - dt.timedelta(hours=1),
    ).values_list("pk", flat=True)[:100]:
        enqueue("escalation.notices.notice_send", pk)
        count += 1
    return count
