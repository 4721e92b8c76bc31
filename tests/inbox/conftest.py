"""Shared inbox test set-up.

Feed fetches resolve their host name (the SSRF guard): no test may ask the real DNS.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

# A public address (example.com's) that host names resolve to unless a test says
# otherwise. Nothing connects to it: respx or a mock network answers first.
PUBLIC_ADDRESS = "93.184.215.14"

Answer = list[str] | OSError | Callable[[], list[str]]


class FakeDNS:
    """Stands in for socket.getaddrinfo. `answers[name]`: the addresses, an OSError to
    raise, or a callable returning the addresses (a different answer each time)."""

    def __init__(self, real: Callable) -> None:
        self.real = real
        self.answers: dict[str, Answer] = {}
        self.lookups: list[str] = []

    def __call__(self, host, port=None, family=0, type=0, proto=0, flags=0):  # noqa: A002
        name = host.decode() if isinstance(host, bytes) else host
        try:
            ipaddress.ip_address(name)
            numeric = True
        except ValueError:
            numeric = False
        if numeric or name in (None, "localhost"):  # no DNS query: the real function
            return self.real(host, port, family, type, proto, flags)
        self.lookups.append(name)
        answer = self.answers.get(name, [PUBLIC_ADDRESS])
        if isinstance(answer, OSError):
            raise answer
        if callable(answer):
            answer = answer()
        port = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "platforms"
GOOGLE_API = "https://mybusiness.googleapis.com/v4/"


@pytest.fixture
def google(cast, tenant) -> dict:
    """Alpha's connected GBP location, and what a Pub/Sub push about one review needs:
    the push body ("note"), the review Google returns for it and that review's URL."""
    from inbox.models import SocialAccount
    from inbox.services import social_account_save

    note = json.loads((FIXTURES / "google" / "pubsub_push.json").read_text())
    data = json.loads(base64.b64decode(note["message"]["data"]))
    review = json.loads((FIXTURES / "google" / "review.json").read_text())
    review["name"] = data["review"]
    with tenant(cast.alpha):
        social_account_save(
            account=SocialAccount(
                platform="google",
                external_id=data["location"],
                display_name="GBP",
                owner=cast.alice,
                poll_state={"token": "ya29.token"},
            )
        )
    return {"note": note, "review": review, "url": GOOGLE_API + data["review"]}
