"""Errors every layer may raise and the API turns into a 4xx answer."""

from __future__ import annotations

from typing import Any


class PayloadError(ValueError):
    """A payload the adapter cannot turn into mentions: the caller answers 4xx.

    `field` names the offending field (dotted path) so the error can say what to fix.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "field": self.field}
