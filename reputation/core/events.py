"""Domain events: a lower floor says what happened, higher floors react.

`inbox` must not import `escalation` (it stands below it), yet a threat arriving in the
inbox opens a police escalation draft. So the inbox emits "mention.threat" and the
handlers listed for it in `settings.DOMAIN_EVENT_HANDLERS` (dotted paths, set at the
top floor) run at once, in the caller's schema and transaction: what they write commits
or rolls back with the change that caused it. Handlers take keyword arguments of plain
values (ids), must be idempotent (a replay emits again) and quick; slow work they
enqueue. No signals: the list of handlers is in one place, and explicit.

Events in use (name: keyword arguments):
- "mentions.created": ids (new mentions of one batch)
- "mention.threat": id (a mention is, or has become, a threat on the clock)
- "mention.removed_on_platform": id (the platform no longer shows it)
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)


@cache
def _handler(path: str):
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def event_emit(name: str, **payload: Any) -> None:
    for path in getattr(settings, "DOMAIN_EVENT_HANDLERS", {}).get(name, ()):
        _handler(path)(**payload)
