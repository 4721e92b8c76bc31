"""First-response deadlines, optionally counted in business hours only."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from inbox.models import InboxSettings

NO_REPLY_CATEGORIES = {"harassment", "spam"}  # trolls are not fed; spam is not answered


def response_minutes(category: str, settings: InboxSettings) -> int | None:
    if category in NO_REPLY_CATEGORIES:
        return None
    return {
        "threat": settings.threat_minutes,
        "complaint": settings.complaint_minutes,
        "question": settings.question_minutes,
        "praise": settings.praise_minutes,
    }.get(category, settings.other_minutes)


def due_at(
    *, category: str, start: dt.datetime, settings: InboxSettings, tz_name: str
) -> dt.datetime | None:
    minutes = response_minutes(category, settings)
    if minutes is None:
        return None
    # A threat is answered now, whatever the hour.
    if not settings.business_hours_only or category == "threat":
        return start + dt.timedelta(minutes=minutes)
    return _add_business_minutes(start, minutes, settings, ZoneInfo(tz_name))


def _add_business_minutes(
    start: dt.datetime, minutes: int, settings: InboxSettings, tz: ZoneInfo
) -> dt.datetime:
    weekdays = {int(d) for d in settings.business_weekdays.split(",") if d.strip()}
    if not weekdays:
        return start + dt.timedelta(minutes=minutes)
    opens, closes = settings.business_day_start, settings.business_day_end
    if isinstance(opens, str):
        opens = dt.time.fromisoformat(opens)
    if isinstance(closes, str):
        closes = dt.time.fromisoformat(closes)
    cursor = start.astimezone(tz)
    remaining = dt.timedelta(minutes=minutes)
    for _ in range(366):  # a year of days is plenty; avoids an endless loop on odd settings
        day_open = cursor.replace(hour=opens.hour, minute=opens.minute, second=0, microsecond=0)
        day_close = cursor.replace(hour=closes.hour, minute=closes.minute, second=0, microsecond=0)
        if cursor.weekday() in weekdays and cursor < day_close:
            begin = max(cursor, day_open)
            available = day_close - begin
            if remaining <= available:
                return (begin + remaining).astimezone(dt.UTC)
            remaining -= available
        next_day = (cursor + dt.timedelta(days=1)).date()
        cursor = dt.datetime.combine(next_day, opens, tzinfo=tz)
    return start + dt.timedelta(minutes=minutes)
