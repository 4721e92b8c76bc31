"""Refusals with a stable code, the same for the web pages and the API."""

from __future__ import annotations


class Refused(Exception):
    """A change that is not allowed: a transition from the wrong state, a missing
    field, a role too low. `code` is stable (clients may rely on it); `message` is for
    people; `status` is the HTTP status the API answers with."""

    status = 409

    def __init__(self, code: str, message: str, *, field: str = "", status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        elif field:
            self.status = 400

    def as_dict(self) -> dict[str, str]:
        data = {"error": self.message, "code": self.code}
        if self.field:
            data["field"] = self.field
        return data


class Forbidden(Refused):
    status = 403

    def __init__(self, message: str, *, code: str = "forbidden"):
        super().__init__(code, message, status=403)
