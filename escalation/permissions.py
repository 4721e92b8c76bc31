"""Who may do what: the service functions check it, so web pages and the API agree."""

from __future__ import annotations

from typing import Any

from escalation.errors import Forbidden
from tenants.selectors import current_practice, practice_role_for, role_at_least

# An API key is the practice's integration, not a person: it may draft (responder's
# work) and upload the customer list, never approve or override (those need a person).
API_KEY_ROLE = "responder"


class Operator:
    """Someone with a shell on the server (a management command): may do anything a
    manager may. Audited under this label."""

    pk = None
    is_operator = True

    def __init__(self, label: str) -> None:
        self.label = label

    def __str__(self) -> str:
        return self.label


def is_api_key(actor: Any) -> bool:
    return actor is not None and hasattr(actor, "key") and not hasattr(actor, "email")


def actor_role(actor: Any) -> str | None:
    if actor is None:
        return None
    if is_api_key(actor):
        return API_KEY_ROLE
    return practice_role_for(user=actor, practice=current_practice())


def require_role(actor: Any, minimum: str, *, api_key_ok: bool = False) -> None:
    if isinstance(actor, Operator):
        return
    if api_key_ok and is_api_key(actor):
        return
    if not role_at_least(actor_role(actor), minimum):
        raise Forbidden(f"This needs the {minimum} role or higher.")
