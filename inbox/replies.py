"""Replies people write at the desk: draft, edit, publish (through the cooling-off),
cancel, override, mark posted by hand, move the conversation private, delete our reply,
hide a comment; and replies the platform shows that were written there.

Every function checks the actor's role itself (the web app, the API and imports all go
through here), runs the guards (inbox.guards) with the facts from the database, moves
the status by compare-and-swap and writes the audit event in the same transaction. A
refusal raises `ReplyRefused` with a stable `code` (a guard's code, or one of
permission, not_found, invalid, reason_required, invalid_transition, too_late,
collision, manual_channel, cooling_off) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox import guards
from inbox.models import ChannelSwitch, Conversation, Mention, OutboxItem, Reply, ReplyPresence
from inbox.platforms.base import Platform
from inbox.publishing import API_PLATFORMS, outbox_close, outbox_write, reply_published, same_text
from inbox.selectors import presence_others
from inbox.services import inbox_settings_get
from reputation.audit.services import audit_record
from tenants.selectors import current_practice, practice_role_for, role_at_least

MAX_TEXT = 20_000
# The reply box's presence: a heartbeat every 15 s keeps it; gone 45 s after the last.
PRESENCE_TTL = dt.timedelta(seconds=45)
# Replies of the practice compared for the script check (newest first).
SCRIPT_SAMPLE = 200
# Platforms that can hide a comment (Meta); a review cannot be hidden by its business.
HIDE_PLATFORMS = frozenset({Platform.FACEBOOK, Platform.INSTAGRAM})
PRIVATE_CHANNELS = (Reply.Channel.PRIVATE_MESSAGE, Reply.Channel.EMAIL, Reply.Channel.PHONE)


class ReplyRefused(Exception):
    """A refused reply action. `status` is the HTTP status the API answers with."""

    STATUS = {
        "permission": 403,
        "not_found": 404,
        "invalid": 400,
        "reason_required": 400,
        "invalid_transition": 409,
        "too_late": 409,
        "collision": 409,
        "manual_channel": 409,
        "cooling_off": 409,
    }

    def __init__(
        self,
        code: str,
        message: str,
        *,
        problems: list[guards.Problem] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []
        self.field = field
        self.status = self.STATUS.get(code, 422)  # a guard's refusal: 422

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "code": self.code,
            "field": self.field,
            "problems": [p.as_dict() for p in self.problems],
        }


# ---------------------------------------------------------------- who may


def actor_role(actor: Any) -> str | None:
    """The actor's role in the current practice. An API key acts as a responder: it may
    draft and publish, never override a guard or delete."""
    if actor is None:
        return None
    if hasattr(actor, "key") and not hasattr(actor, "email"):  # tenants.auth.ApiKeyPrincipal
        return "responder"
    return practice_role_for(user=actor, practice=current_practice())


def _require(actor: Any, minimum: str, what: str) -> str:
    role = actor_role(actor)
    if not role_at_least(role, minimum):
        raise ReplyRefused("permission", f"{what} needs the {minimum} role or higher.")
    return role  # type: ignore[return-value]


def _label(actor: Any) -> str:
    return getattr(actor, "email", None) or (str(actor) if actor else "system")


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) and hasattr(actor, "email") else None


# ---------------------------------------------------------------- facts and guards


def reply_facts(*, mention: Mention, visibility: str, exclude: Reply | None = None) -> guards.Facts:
    """What the guards need from the database for a reply to `mention`."""
    settings = inbox_settings_get()
    previous = Reply.objects.filter(origin=Reply.Origin.DESK, visibility=Reply.Visibility.PUBLIC)
    previous = previous.filter(status__in=Reply.COUNTED_STATUSES)
    if exclude is not None:
        previous = previous.exclude(pk=exclude.pk)
    author = mention.author if mention.author_id else None
    return guards.Facts(
        visibility=visibility,
        platform=mention.platform,
        mention_text=mention.text,
        mention_category=mention.category,
        mention_sentiment=mention.sentiment,
        strong_negative_threshold=settings.strong_negative_threshold,
        previous=list(
            previous.order_by("-created_at").values_list("text", flat=True)[:SCRIPT_SAMPLE]
        ),
        public_replies_before=public_replies_count(mention=mention, exclude=exclude),
        author_marker=author.marker if author else "",
    )


def public_replies_count(*, mention: Mention, exclude: Reply | None = None) -> int:
    """Public replies of the practice to this mention's author in its conversation,
    written at the desk or on the platform, sent or on their way."""
    replies = Reply.objects.filter(
        visibility=Reply.Visibility.PUBLIC, status__in=Reply.COUNTED_STATUSES
    )
    if mention.conversation_id and mention.author_id:
        replies = replies.filter(
            conversation_id=mention.conversation_id, author_id=mention.author_id
        )
    else:
        replies = replies.filter(mention=mention)
    if exclude is not None:
        replies = replies.exclude(pk=exclude.pk)
    return replies.count()


def reply_check(*, mention: Mention, text: str, visibility: str = "public") -> list[guards.Problem]:
    """The guards' verdict on a text, without saving anything (the reply box's Check)."""
    return guards.reply_check(text, reply_facts(mention=mention, visibility=visibility))


def _refuse_blocks(problems: list[guards.Problem], *, role: str, override_reason: str) -> list[str]:
    """Raise for blocking problems unless a manager overrides them with a reason;
    returns the codes overridden."""
    blocks = guards.blocking(problems)
    if not blocks:
        return []
    overridable = all(p.code in guards.OVERRIDABLE for p in blocks)
    if overridable and override_reason.strip():
        if not role_at_least(role, "manager"):
            raise ReplyRefused("permission", "Only a manager may override the guards.")
        return [p.code for p in blocks]
    first = blocks[0]
    message = {
        "phi": "Blocked: the reply discloses patient details in public"
        f" (“{first.phrase}”). Reword it: {first.suggestion}",
        "rule_of_two": "Refused: this would be the third public reply to this person in "
        "this conversation. Move it private; a manager may override with a reason.",
        "do_not_engage": "Refused: the author is marked as a troll; do not engage. "
        "A manager may override with a reason.",
        "empty": "Write the reply first.",
        "too_long": first.suggestion,
    }.get(first.code, first.suggestion)
    raise ReplyRefused(first.code, message, problems=problems)


def _problems_json(problems: list[guards.Problem]) -> list[dict]:
    return [p.as_dict() for p in problems]


# ---------------------------------------------------------------- drafting


def reply_draft(
    *,
    mention: Mention,
    actor: Any,
    text: str,
    visibility: str = Reply.Visibility.PUBLIC,
    channel: str = "",
    contact: str = "",
) -> Reply:
    """A draft reply to `mention`; the guards' findings are kept on it for the page."""
    _require(actor, "responder", "Replying")
    text = _clean_text(text)
    channel = _channel_for(mention, visibility=visibility, channel=channel, contact=contact)
    problems = guards.reply_check(text, reply_facts(mention=mention, visibility=visibility))
    with transaction.atomic():
        reply = Reply.objects.create(
            mention=mention,
            conversation_id=mention.conversation_id,
            author_id=mention.author_id,
            text=text,
            visibility=visibility,
            channel=channel,
            contact=contact.strip()[:200],
            created_by=_user(actor),
            created_by_label=_label(actor)[:200],
            problems=_problems_json(problems),
            contains_personal_data=_personal(problems),
        )
        audit_record(
            action="reply.drafted",
            actor=actor,
            obj=reply,
            data={
                "mention": mention.pk,
                "visibility": visibility,
                "channel": channel,
                "problems": sorted({p.code for p in problems}),
            },
        )
    return reply


def reply_update(*, reply: Reply, actor: Any, text: str) -> Reply:
    """Change the text of a draft, a reply in its cooling-off, or a failed one. In the
    cooling-off the new text must pass the guards too (it will be sent as it is)."""
    role = _require(actor, "responder", "Editing a reply")
    text = _clean_text(text)
    if reply.status not in Reply.EDITABLE_STATUSES:
        raise _transition(reply, "edited")
    facts = reply_facts(mention=reply.mention, visibility=reply.visibility, exclude=reply)
    problems = guards.reply_check(text, facts)
    if reply.status == Reply.Status.SCHEDULED:
        _refuse_blocks(problems, role=role, override_reason=reply.override_reason)
    with transaction.atomic():
        changed = Reply.objects.filter(pk=reply.pk, status=reply.status).update(
            text=text,
            problems=_problems_json(problems),
            contains_personal_data=_personal(problems),
            updated_at=timezone.now(),
        )
        if not changed:
            raise _transition(_fresh(reply), "edited")
        audit_record(
            action="reply.edited",
            actor=actor,
            obj=reply,
            data={"status": reply.status, "problems": sorted({p.code for p in problems})},
        )
    return _fresh(reply)


# ---------------------------------------------------------------- publishing


def reply_publish(
    *,
    reply: Reply,
    actor: Any,
    override_reason: str = "",
    confirm_collision: bool = False,
) -> Reply:
    """Send a draft (or a failed reply again). A reply to a threat, harassment or a
    strongly negative mention is scheduled for the practice's cooling-off instead, and
    can be edited or cancelled until then. Yelp and Tripadvisor have no reply API: their
    replies are posted by hand and marked posted (`reply_mark_posted`); here they only
    start their cooling-off."""
    role = _require(actor, "responder", "Publishing a reply")
    if reply.status not in (Reply.Status.DRAFT, Reply.Status.FAILED):
        raise _transition(reply, "published")
    if reply.channel in (Reply.Channel.EMAIL, Reply.Channel.PHONE):
        raise ReplyRefused(
            "manual_channel", "An email or phone follow-up is recorded, not published."
        )
    _collision_check(reply.mention, actor, confirm=confirm_collision)
    now = timezone.now()
    with transaction.atomic():
        _lock_conversation(reply.mention)
        facts = reply_facts(mention=reply.mention, visibility=reply.visibility, exclude=reply)
        problems = guards.reply_check(reply.text, facts)
        overridden = _refuse_blocks(problems, role=role, override_reason=override_reason)
        cooling = guards.needs_cooling_off(facts)
        manual = reply.channel == Reply.Channel.MANUAL
        if manual and not cooling:
            raise ReplyRefused(
                "manual_channel",
                f"{reply.mention.get_platform_display()} has no reply API: copy the text, "
                "post it on the platform, then mark it posted with its link.",
            )
        if cooling:
            minutes = inbox_settings_get().cooling_off_minutes
            status, when = Reply.Status.SCHEDULED, now + dt.timedelta(minutes=minutes)
        else:
            status, when = Reply.Status.PUBLISHING, now
        moved = Reply.objects.filter(pk=reply.pk, status=reply.status).update(
            status=status,
            scheduled_for=when,
            problems=_problems_json(problems),
            override_reason=override_reason.strip() if overridden else reply.override_reason,
            error="",
            updated_at=now,
        )
        if not moved:
            raise _transition(_fresh(reply), "published")
        if not manual:
            outbox_write(
                action=OutboxItem.Action.PUBLISH,
                mention=reply.mention,
                reply=reply,
                due_at=when if cooling else None,
            )
        if overridden:
            audit_record(
                action="reply.overridden",
                actor=actor,
                obj=reply,
                data={"codes": overridden, "reason": override_reason.strip()},
            )
        audit_record(
            action="reply.scheduled" if cooling else "reply.publish_requested",
            actor=actor,
            obj=reply,
            data={
                "mention": reply.mention_id,
                "scheduled_for": when.isoformat(),
                "warnings": sorted({p.code for p in problems if not p.blocks}),
                "over_collision": bool(confirm_collision and presence_others(reply.mention, actor)),
            },
        )
    return _fresh(reply)


def reply_override(
    *, reply: Reply, actor: Any, reason: str, confirm_collision: bool = False
) -> Reply:
    """A manager publishes past the Rule of Two or a troll's do-not-engage, with a
    written reason (audited). The privacy guard is never overridden."""
    _require(actor, "manager", "Overriding a guard")
    if not reason.strip():
        raise ReplyRefused("reason_required", "Write why the guard is overridden.", field="reason")
    return reply_publish(
        reply=reply, actor=actor, override_reason=reason, confirm_collision=confirm_collision
    )


def reply_send_now(*, reply: Reply, actor: Any, reason: str = "") -> Reply:
    """A manager ends a cooling-off early (audited)."""
    _require(actor, "manager", "Sending before the cooling-off ends")
    if reply.status != Reply.Status.SCHEDULED:
        raise _transition(reply, "sent now")
    now = timezone.now()
    manual = reply.channel == Reply.Channel.MANUAL
    with transaction.atomic():
        moved = Reply.objects.filter(pk=reply.pk, status=Reply.Status.SCHEDULED).update(
            status=Reply.Status.SCHEDULED if manual else Reply.Status.PUBLISHING,
            scheduled_for=now,
            updated_at=now,
        )
        if not moved:
            raise _transition(_fresh(reply), "sent now")
        if not manual:
            outbox_write(action=OutboxItem.Action.PUBLISH, mention=reply.mention, reply=reply)
        audit_record(
            action="reply.sent_now",
            actor=actor,
            obj=reply,
            data={"reason": reason.strip(), "was_scheduled_for": _iso(reply.scheduled_for)},
        )
    return _fresh(reply)


def reply_cancel(*, reply: Reply, actor: Any) -> Reply:
    """Stop a draft, a reply in its cooling-off, or a failed one. Once it is being sent
    it is too late (a manager may delete it from the platform afterwards)."""
    _require(actor, "responder", "Cancelling a reply")
    cancellable = (Reply.Status.DRAFT, Reply.Status.SCHEDULED, Reply.Status.FAILED)
    if reply.status not in cancellable:
        raise _transition(reply, "cancelled")
    with transaction.atomic():
        moved = Reply.objects.filter(pk=reply.pk, status__in=cancellable).update(
            status=Reply.Status.CANCELLED, updated_at=timezone.now()
        )
        if not moved:
            raise _transition(_fresh(reply), "cancelled")
        outbox_close(reply=reply, outcome="cancelled")
        audit_record(action="reply.cancelled", actor=actor, obj=reply, data={"was": reply.status})
    return _fresh(reply)


def reply_mark_posted(*, reply: Reply, actor: Any, url: str, override_reason: str = "") -> Reply:
    """Yelp, Tripadvisor, blogs: the responder posted the text by hand; record it with
    the link. The guards apply as to any public reply, and so does the cooling-off."""
    role = _require(actor, "responder", "Marking a reply posted")
    if reply.channel != Reply.Channel.MANUAL:
        raise ReplyRefused("invalid", "Only replies posted by hand are marked posted.")
    if reply.status not in (Reply.Status.DRAFT, Reply.Status.SCHEDULED):
        raise _transition(reply, "marked posted")
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 1000:
        raise ReplyRefused("invalid", "Give the link to the posted reply (http(s)).", field="url")
    now = timezone.now()
    with transaction.atomic():
        _lock_conversation(reply.mention)
        facts = reply_facts(mention=reply.mention, visibility=reply.visibility, exclude=reply)
        problems = guards.reply_check(reply.text, facts)
        reason = override_reason or (
            reply.override_reason if reply.status == Reply.Status.SCHEDULED else ""
        )
        _refuse_blocks(problems, role=role, override_reason=reason)
        waiting = reply.scheduled_for is None or reply.scheduled_for > now
        if guards.needs_cooling_off(facts) and waiting:
            until = (
                f"until {timezone.localtime(reply.scheduled_for):%H:%M}"
                if reply.scheduled_for
                else "first: start it with Publish"
            )
            raise ReplyRefused(
                "cooling_off", f"This reply is in its cooling-off: wait {until}.", problems=problems
            )
        reply_published(reply=reply, at=now, via="by hand", url=url, actor=actor)
    return _fresh(reply)


def reply_retry(*, reply: Reply, actor: Any) -> Reply:
    """Try a failed reply again now (the platform's reason was fixed)."""
    return reply_publish(reply=reply, actor=actor, override_reason=reply.override_reason)


def reply_delete(*, reply: Reply, actor: Any, reason: str) -> Reply:
    """Delete our own published reply from the platform: a manager, with a reason
    (audited). Deleting is the last resort; a correction usually does better."""
    _require(actor, "manager", "Deleting a published reply")
    if not reason.strip():
        raise ReplyRefused("reason_required", "Write why the reply is deleted.", field="reason")
    api = reply.mention.platform in API_PLATFORMS and reply.channel == Reply.Channel.PLATFORM
    if reply.status != Reply.Status.PUBLISHED or not api or reply.origin != Reply.Origin.DESK:
        raise ReplyRefused(
            "invalid_transition",
            "Only a reply the desk published through the platform's API can be deleted here.",
        )
    with transaction.atomic():
        outbox_write(action=OutboxItem.Action.DELETE, mention=reply.mention, reply=reply)
        audit_record(
            action="reply.delete_requested", actor=actor, obj=reply, data={"reason": reason.strip()}
        )
    return reply


def mention_hide(*, mention: Mention, actor: Any, reason: str) -> None:
    """Hide a Facebook or Instagram comment: a manager, with a reason (audited). Hidden,
    not deleted: hiding criticism often makes it louder, so this is for abuse and spam."""
    _require(actor, "manager", "Hiding a comment")
    if not reason.strip():
        raise ReplyRefused("reason_required", "Write why the comment is hidden.", field="reason")
    if mention.platform not in HIDE_PLATFORMS or mention.kind != "comment":
        raise ReplyRefused("invalid", "Only Facebook and Instagram comments can be hidden.")
    with transaction.atomic():
        if OutboxItem.objects.filter(mention=mention, action=OutboxItem.Action.HIDE).exists():
            raise ReplyRefused(
                "invalid_transition", "This comment is already hidden (or being hidden)."
            )
        outbox_write(action=OutboxItem.Action.HIDE, mention=mention)
        audit_record(
            action="mention.hide_requested",
            actor=actor,
            obj=mention,
            data={"reason": reason.strip()},
        )


# ---------------------------------------------------------------- going private


def conversation_switch_channel(
    *, mention: Mention, actor: Any, channel: str, contact: str = "", text: str = ""
) -> ChannelSwitch:
    """Move the conversation private after the public answer, and record it. A Meta
    private reply (Facebook comments) is sent through the platform; an email or phone
    follow-up is recorded with the named contact and what was said. Private replies are
    not blocked by the privacy guard; they are marked as containing personal data."""
    _require(actor, "responder", "Moving a conversation private")
    channel = _channel_for(
        mention, visibility=Reply.Visibility.PRIVATE, channel=channel, contact=contact
    )
    text = text.strip()
    if channel == Reply.Channel.PRIVATE_MESSAGE and not text:
        raise ReplyRefused("empty", "Write the private message.", field="text")
    problems = guards.reply_check(text, guards.Facts(visibility=guards.PRIVATE)) if text else []
    now = timezone.now()
    with transaction.atomic():
        reply = Reply.objects.create(
            mention=mention,
            conversation_id=mention.conversation_id,
            author_id=mention.author_id,
            text=text or f"({Reply.Channel(channel).label} follow-up with {contact})",
            visibility=Reply.Visibility.PRIVATE,
            channel=channel,
            contact=contact.strip()[:200],
            status=Reply.Status.PUBLISHING
            if channel == Reply.Channel.PRIVATE_MESSAGE
            else Reply.Status.PUBLISHED,
            published_at=None if channel == Reply.Channel.PRIVATE_MESSAGE else now,
            created_by=_user(actor),
            created_by_label=_label(actor)[:200],
            problems=_problems_json(problems),
            contains_personal_data=_personal(problems),
        )
        switch = ChannelSwitch.objects.create(
            conversation_id=mention.conversation_id,
            mention=mention,
            channel=channel,
            contact=contact.strip()[:200],
            note=text,
            reply=reply,
            created_by=_user(actor),
        )
        if channel == Reply.Channel.PRIVATE_MESSAGE:
            outbox_write(action=OutboxItem.Action.PUBLISH, mention=mention, reply=reply)
        audit_record(
            action="conversation.switched",
            actor=actor,
            obj=mention,
            data={
                "channel": channel,
                "contact": contact.strip(),
                "reply": reply.pk,
                "personal_data": reply.contains_personal_data,
            },
        )
    return switch


# ---------------------------------------------------------------- the platform's view


def reply_seen_on_platform(
    *, mention: Mention, text: str, at: dt.datetime | None, external_id: str = ""
) -> Reply | None:
    """The platform shows a reply of the practice to `mention` (a GBP reviewReply, a
    comment by the Page, a tweet of the account). Ours is matched, not counted twice (and
    taken as published if the worker had not heard back yet); one written on the
    platform by staff is recorded as such, and counts for the Rule of Two."""
    if not text.strip():
        return None
    now = timezone.now()
    ours = Reply.objects.filter(
        mention=mention,
        origin=Reply.Origin.DESK,
        visibility=Reply.Visibility.PUBLIC,
        status__in=(Reply.Status.PUBLISHING, Reply.Status.PUBLISHED, Reply.Status.FAILED),
    ).order_by("-created_at")
    for reply in ours:
        if (external_id and reply.external_id == external_id) or same_text(reply.text, text):
            Reply.objects.filter(pk=reply.pk, seen_on_platform_at__isnull=True).update(
                seen_on_platform_at=now
            )
            if reply.status != Reply.Status.PUBLISHED:
                reply_published(reply=reply, at=at or now, via="platform", external_id=external_id)
            return reply
    recorded = Reply.objects.filter(mention=mention, origin=Reply.Origin.PLATFORM)
    if recorded.filter(Q(external_id=external_id) if external_id else Q(text=text)).exists():
        return None
    with transaction.atomic():
        reply = Reply.objects.create(
            mention=mention,
            conversation_id=mention.conversation_id,
            author_id=mention.author_id,
            text=text,
            visibility=Reply.Visibility.PUBLIC,
            channel=Reply.Channel.PLATFORM,
            origin=Reply.Origin.PLATFORM,
            status=Reply.Status.PUBLISHED,
            published_at=at or now,
            seen_on_platform_at=now,
            external_id=external_id[:300],
            created_by_label="on the platform",
        )
        audit_record(
            action="reply.recorded_from_platform",
            obj=reply,
            data={"mention": mention.pk, "external_id": external_id},
        )
    return reply


# ---------------------------------------------------------------- presence


def presence_touch(*, mention: Mention, user: Any, active: bool = True) -> None:
    """The heartbeat of an open reply box. Presence is ephemeral, not a change to the
    record: it is not audited (publishing over someone is)."""
    if not active:
        ReplyPresence.objects.filter(mention=mention, user=user).delete()
        return
    ReplyPresence.objects.update_or_create(
        mention=mention,
        user=user,
        defaults={
            "label": (getattr(user, "display_name", "") or user.email)[:200],
            "expires_at": timezone.now() + PRESENCE_TTL,
        },
    )


def _collision_check(mention: Mention, actor: Any, *, confirm: bool) -> None:
    others = presence_others(mention, actor)
    if others and not confirm:
        names = ", ".join(others)
        raise ReplyRefused(
            "collision",
            f"{names} {'is' if len(others) == 1 else 'are'} replying to this mention right "
            "now. Check with them, or confirm to publish anyway.",
        )


# ---------------------------------------------------------------- small helpers


def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ReplyRefused("invalid", "The reply's text must be a string.", field="text")
    if len(text) > MAX_TEXT:
        raise ReplyRefused(
            "invalid", f"Keep the reply under {MAX_TEXT:,} characters.", field="text"
        )
    return text.replace("\x00", "").strip()


def _channel_for(mention: Mention, *, visibility: str, channel: str, contact: str) -> str:
    if visibility == Reply.Visibility.PUBLIC:
        api = mention.platform in API_PLATFORMS
        if channel in ("", Reply.Channel.PLATFORM) and api:
            return Reply.Channel.PLATFORM
        if channel in ("", Reply.Channel.MANUAL) and not api:
            return Reply.Channel.MANUAL
        raise ReplyRefused(
            "invalid", "A public reply goes where the person spoke.", field="channel"
        )
    if visibility != Reply.Visibility.PRIVATE:
        raise ReplyRefused("invalid", "Visibility is public or private.", field="visibility")
    if channel == Reply.Channel.PRIVATE_MESSAGE:
        if mention.platform != Platform.FACEBOOK or mention.kind != "comment":
            raise ReplyRefused(
                "invalid",
                "Private replies through the platform are for Facebook comments; use email "
                "or phone with a named contact.",
                field="channel",
            )
        return channel
    if channel in (Reply.Channel.EMAIL, Reply.Channel.PHONE):
        if not contact.strip():
            raise ReplyRefused("invalid", "Name the contact (who, and where).", field="contact")
        return channel
    raise ReplyRefused("invalid", "Private: private_message, email or phone.", field="channel")


def _personal(problems: list[guards.Problem]) -> bool:
    return any(p.code == "personal_data" for p in problems)


def _lock_conversation(mention: Mention) -> None:
    """Two responders publishing at once must not both pass the Rule of Two: the
    count and the change happen under the conversation's (else the mention's) lock."""
    if mention.conversation_id:
        Conversation.objects.select_for_update().filter(pk=mention.conversation_id).first()
    else:
        Mention.objects.select_for_update().filter(pk=mention.pk).first()


def _transition(reply: Reply, verb: str) -> ReplyRefused:
    code = (
        "too_late"
        if reply.status in (Reply.Status.PUBLISHING, Reply.Status.PUBLISHED)
        else ("invalid_transition")
    )
    return ReplyRefused(code, f"A {reply.get_status_display().lower()} reply cannot be {verb}.")


def _fresh(reply: Reply) -> Reply:
    reply.refresh_from_db()
    return reply


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
