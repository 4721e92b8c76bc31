"""A real web server and a real headless Chromium for browser tests.

The server is a separate process on the session's test database, so it only sees
committed data: browser tests seed through `django_db_blocker.unblock()`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail(
            "Chromium is not installed: run `make test` (it installs it), "
            "or apt-get install chromium"
        )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.port = port
        self.process = process

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


def start_server(extra_env: dict[str, str] | None = None) -> LiveServer:
    """`extra_env` overrides the server's environment (e.g. the worker tests serve with
    reputation.settings, whose tasks go to the real broker instead of running inline)."""
    port = free_port()
    env = {
        **os.environ,
        # The test settings: the same hasher as the users the tests created.
        "DJANGO_SETTINGS_MODULE": "reputation.settings_test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "PORT": str(port),
        "DEBUG": "true",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"web server exited: {process.stderr.read().decode()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return LiveServer(port, process)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("web server did not start within 30 s")


def demo_remove() -> None:
    """Undo a committed `demo_seed` so later tests start from the shared cast only."""
    from reputation.demo import FJORD, GLOW
    from tenants.models import Agency, Practice, User

    for practice in Practice.objects.filter(slug__in=[FJORD.slug, GLOW.slug]):
        schema = practice.schema_name
        practice.delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    User.objects.filter(email__endswith=".test").filter(models_q_demo_emails()).delete()
    Agency.objects.filter(slug="northlight").delete()


def models_q_demo_emails():
    from django.db.models import Q

    return (
        Q(email__endswith="@demo.test")
        | Q(email__endswith="@fjord-dental.test")
        | Q(email__endswith="@glow.test")
    )


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
