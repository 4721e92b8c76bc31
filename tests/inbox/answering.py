"""Mentions to answer, shared by the reply tests (services, API, pages, isolation)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone

from inbox.models import Author, Conversation, Mention, SocialAccount

LOCATION = "accounts/108/locations/2001"
GOOGLE_API = "https://mybusiness.googleapis.com/v4/"
GRAPH_API = "https://graph.facebook.com/v25.0/"
X_API = "https://api.x.com/2/"
PAGE_ID = "104998877665544"
_ids = itertools.count(1)


def account(platform: str = "google", **fields) -> SocialAccount:
    defaults = {
        "google": {"external_id": LOCATION, "display_name": "Alpha Dental, Oslo"},
        "facebook": {"external_id": PAGE_ID, "display_name": "Alpha Dental on Facebook"},
        "x": {
            "external_id": "1500000000000000001",
            "display_name": "Alpha on X",
            "handle": "@alphadental",
        },
        "yelp": {"external_id": "alpha-dental-oslo", "display_name": "Alpha on Yelp"},
        "instagram": {
            "external_id": "17841400000000001",
            "display_name": "Alpha IG",
            "handle": "alphadental",
        },
    }[platform]
    values = {**defaults, "poll_state": {"token": f"{platform}-token"}, **fields}
    found = SocialAccount.objects.filter(
        platform=platform, external_id=values["external_id"]
    ).first()
    return found or SocialAccount.objects.create(platform=platform, **values)


def mention(
    platform: str = "google",
    *,
    text: str = "Waited 50 minutes and nobody said sorry.",
    category: str = "complaint",
    sentiment: float = -0.4,
    marker: str = "",
    kind: str | None = None,
    author_key: str | None = None,
    conversation: Conversation | None = None,
    acct: SocialAccount | None = None,
    **fields,
) -> Mention:
    n = next(_ids)
    acct = acct or account(platform)
    now = timezone.now()
    author, _ = Author.objects.get_or_create(
        platform=platform,
        key=author_key or f"person-{n}",
        defaults={"name": "Kari Nordmann", "marker": marker},
    )
    if marker and author.marker != marker:
        Author.objects.filter(pk=author.pk).update(marker=marker)
        author.marker = marker
    external_id = f"{n}{int(now.timestamp())}" if platform != "google" else f"rev{n}x{now:%H%M%S%f}"
    conversation = conversation or Conversation.objects.create(
        platform=platform,
        root_external_id=external_id,
        account=acct,
        started_at=now,
        last_activity_at=now,
    )
    return Mention.objects.create(
        account=acct,
        platform=platform,
        external_id=external_id,
        kind=kind or ("review" if platform in ("google", "yelp") else "comment"),
        author=author,
        author_name=author.name,
        conversation=conversation,
        text=text,
        url=fields.pop(
            "url", "https://www.yelp.com/biz/alpha?hrid=1" if platform == "yelp" else ""
        ),
        posted_at=now - dt.timedelta(minutes=5),
        category=category,
        sentiment=sentiment,
        due_at=now + dt.timedelta(minutes=55),
        **fields,
    )


def review_name(m: Mention) -> str:
    return f"{m.account.external_id}/reviews/{m.external_id}"


class FakePlatform:
    """A fake platform server (a thread in the test process): Google Business Profile
    under /v4/ (GET a review with our reply once one was stored, PUT its reply) and the
    Graph API under /graph/ (POST a reply comment, GET the comment's replies). It records
    every request. `stall` holds a PUT's answer ("after": Google has stored the reply;
    "before": it has not yet) until `release` is set."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.replies: dict[str, str] = {}
        self.comments: dict[str, list[dict]] = {}
        self.stall = ""
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the worker that asked is dead

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                parent = self.path.removeprefix("/graph/").split("/")[0]
                thread = fake.comments.setdefault(parent, [])
                comment = {"id": f"{parent}_{len(thread) + 1}", "message": body.get("message", "")}
                thread.append(comment)
                self._json(200, {"id": comment["id"]})

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                if self.path.startswith("/graph/"):
                    parent = self.path.removeprefix("/graph/").split("/")[0]
                    self._json(200, {"data": fake.comments.get(parent, [])})
                    return
                name = self.path.removeprefix("/v4/").split("?")[0]
                review = {"name": name, "reviewId": name.rsplit("/", 1)[-1], "starRating": "TWO"}
                if name in fake.replies:
                    review["reviewReply"] = {"comment": fake.replies[name]}
                self._json(200, review)

            def do_PUT(self) -> None:
                fake.requests.append(("PUT", self.path))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name = self.path.removeprefix("/v4/").removesuffix("/reply")
                stall = fake.stall
                if stall == "before":
                    fake.release.wait(30)
                fake.replies[name] = body["comment"]
                if stall == "after":
                    fake.release.wait(30)
                self._json(200, {"comment": body["comment"], "updateTime": "2026-12-01T10:00:00Z"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v4/"

    @property
    def graph(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/graph/"

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.requests if m == method)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
