"""Production fails closed, passes `check --deploy`, and serves pages, static files and
the API from gunicorn with the production settings."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.core.management import call_command
from django.db import connection

from tests.browser import ROOT, free_port

pytestmark = pytest.mark.django_db

SECRETS = {
    "SECRET_KEY": "prod-test-" + "k" * 50,
    "META_APP_SECRET": "prod-test-meta-secret",
    "META_VERIFY_TOKEN": "prod-test-verify",
    "GOOGLE_PUBSUB_TOKEN": "prod-test-pubsub",
    "CUSTOMER_HASH_KEY": "prod-test-customer-key",
    "TOKEN_ENCRYPTION_KEY": "prod-test-token-key",
    "EMAIL_HOST": "smtp.invalid",
}


def _env(**overrides: str) -> dict[str, str]:
    # Not the test run's own settings: no secrets, no mail backend, and not the async
    # override the browser tests set (check --deploy rightly refuses it).
    dropped = {*SECRETS, "EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DJANGO_SETTINGS_MODULE": "reputation.settings", "DEBUG": "false"})
    env.update(overrides)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_its_secrets_production_refuses_to_start_and_names_each(db):
    result = _manage("check", env=_env())
    assert result.returncode == 1
    for name in SECRETS:
        assert name in result.stderr, name
    assert "Traceback" not in result.stderr
    assert "README, section Deploying" in result.stderr


def test_a_console_mail_backend_is_refused_in_production(db):
    env = _env(**SECRETS, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    result = _manage("check", env=env)
    assert result.returncode == 1
    assert "threat alerts would never reach anyone" in result.stderr


def test_the_deploy_check_is_clean_with_production_settings(db):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_env(**SECRETS))
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory, django_db_setup, django_db_blocker):
    """gunicorn in another process sees committed rows only: set up outside any test's
    transaction, and undone afterwards."""
    from tenants.models import Practice
    from tenants.services import api_key_create

    static = tmp_path_factory.mktemp("static")
    env = _env(
        **SECRETS,
        DATABASE_NAME=connection.settings_dict["NAME"],
        STATIC_ROOT=str(static),
        SECURE_SSL_REDIRECT="false",  # no TLS proxy in front in this test...
        TRUST_X_FORWARDED_PROTO="true",  # ...but requests say they came through one
        WEB_CONCURRENCY="2",
    )
    collected = _manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)  # the shared cache of production
        api_key, key = api_key_create(practice=Practice.objects.get(slug="alpha"), name="prod")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "reputation.wsgi",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.2)
    yield port, key
    process.terminate()
    process.wait(timeout=15)
    with django_db_blocker.unblock():
        api_key.delete()


def test_gunicorn_serves_a_page_a_static_file_and_the_api(gunicorn):
    port, key = gunicorn
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.get("/login/", headers={"Host": "localhost", "X-Forwarded-Proto": "https"})
        assert login.status_code == 200
        assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        css = re.search(r'href="(/static/reputation/app\.[0-9a-f]{12}\.css)"', login.text)
        assert css, "the page links the hashed stylesheet"
        static = http.get(css.group(1), headers={"Host": "localhost"})
        assert static.status_code == 200 and "--accent" in static.text
        assert "max-age=315360000" in static.headers["Cache-Control"]
        api = http.get(
            "/api/v1/mentions/",
            headers={"Host": "alpha.localhost", "Authorization": f"Api-Key {key}"},
        )
        assert api.status_code == 200 and "results" in api.json()
        docs = http.get("/api/docs/", headers={"Host": "alpha.localhost"})
        assert docs.status_code == 200
        assert "cdn" not in docs.text.lower()  # Swagger UI from our own static files
