#!/usr/bin/env bash
# Start the django-q2 worker and the web app; Ctrl-C stops both (PostgreSQL keeps
# running: `make stop` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export PORT
# Commands run beside the app (create_api_key) read the port from here.
echo "$PORT" > .run-port

$PY manage.py worker &
worker=$!
trap 'echo; echo "==> Stopping the web app and the worker"; kill $worker 2>/dev/null; wait $worker 2>/dev/null; exit 0' INT TERM

cat <<MSG

  Reputation desk is starting.

  Main page (agencies, practice list): http://localhost:$PORT/
  Fjord Dental Clinic inbox:           http://fjord-dental.localhost:$PORT/
  Glow Aesthetics inbox:               http://glow-aesthetics.localhost:$PORT/
  API docs (per practice):             http://fjord-dental.localhost:$PORT/api/docs/
  Django admin:                        http://localhost:$PORT/admin/

  Demo logins (password: demo-pass-2026)
    owner@fjord-dental.test      owner of Fjord Dental Clinic
    manager@fjord-dental.test    manager at Fjord Dental Clinic
    responder@fjord-dental.test  responder at Fjord Dental Clinic
    owner@glow.test              owner of Glow Aesthetics
    responder@glow.test          responder at Glow Aesthetics
    agency@demo.test             Northlight Marketing: both clinics, with a switcher
    admin@demo.test              platform administrator (Django admin)

  *.localhost resolves to this machine in Chrome, Firefox and curl; no DNS set-up.
  Ctrl-C stops the web app and the worker; 'make stop' stops PostgreSQL.

MSG
$PY manage.py runserver "127.0.0.1:$PORT" &
web=$!
trap 'echo; echo "==> Stopping the web app and the worker"; kill $web $worker 2>/dev/null; wait $web $worker 2>/dev/null; rm -f .run-port; exit 0' INT TERM
wait $web
kill $worker 2>/dev/null || true
