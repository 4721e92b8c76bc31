"""The visible response clock: "due in 12 min", "overdue by 1 h 5 min"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from inbox.models import Mention

register = template.Library()


def _span(delta: dt.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


@register.simple_tag
def response_clock(mention) -> str:
    if mention.status == Mention.Status.HISTORY and not mention.due_at:  # say why there is no clock
        return mark_safe('<span class="pill history">imported history</span>')  # noqa: S308
    if mention.first_response_at or not mention.due_at:
        return mark_safe('<span class="muted">—</span>')  # noqa: S308 - constant
    left = mention.due_at - timezone.now()
    local = timezone.localtime(mention.due_at)
    if left.total_seconds() < 0:
        return format_html(
            '<span class="clock overdue" title="due {}">overdue by {}</span>',
            local.strftime("%H:%M %Z, %d %b"),
            _span(left),
        )
    css = "clock soon" if left <= dt.timedelta(minutes=15) else "clock"
    return format_html(
        '<span class="{}" title="due {}">due in {}</span>',
        css,
        local.strftime("%H:%M %Z, %d %b"),
        _span(left),
    )


@register.simple_tag
def highlighted(text: str, problems: list) -> str:
    """The reply's text with the guards' phrases marked (blocks and warnings apart)."""
    spans = sorted(
        (p["start"], p["end"], p["severity"], p["code"])
        for p in problems or ()
        if isinstance(p, dict) and p.get("end", 0) > p.get("start", 0)
    )
    out, pos = [], 0
    for start, end, severity, code in spans:
        if start < pos or end > len(text):
            continue  # overlapping or stale: the first one is shown
        out.append(escape(text[pos:start]))
        out.append(
            format_html(
                '<mark class="{} {}" title="{}">{}</mark>', severity, code, code, text[start:end]
            )
        )
        pos = end
    out.append(escape(text[pos:]))
    return mark_safe("".join(str(part) for part in out))  # noqa: S308 - every part escaped


@register.filter
def get_item(mapping: dict, key: str):  # noqa: ANN201
    return mapping.get(key, "") if mapping else ""


@register.filter
def replace_sort(querystring: str, sort: str) -> str:
    """The same filters, another sort order (cursor dropped: it belongs to the old order)."""
    from urllib.parse import parse_qsl, urlencode

    params = [(k, v) for k, v in parse_qsl(querystring) if k not in ("sort", "cursor")]
    return urlencode([*params, ("sort", sort)])


@register.simple_tag
def stars(rating: int | None) -> str:
    """★★★☆☆ for 3 of 5 (the same markup as inbox/_stars.html, without an include per row)."""
    if not rating:
        return mark_safe('<span class="muted">—</span>')  # noqa: S308 - constant
    filled = max(0, min(5, int(rating)))
    return format_html(
        '<span class="stars" title="{} of 5">{}</span>', filled, "★" * filled + "☆" * (5 - filled)
    )
