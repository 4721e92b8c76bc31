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


class Refused(Exception):
    """A rule said no: a permission, a guard or a transition that is not allowed.

    `code` is stable (clients and tests rely on it), `message` says why and what to do.
    The API answers it with `status` and `{"error": message, "code": code}`; pages show
    the message.
    """

    status = 403

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code}
