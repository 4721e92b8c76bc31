"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py reputation.wsgi`.

Every value can be overridden from the environment (GUNICORN_CMD_ARGS works too).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers: the views are short and database-bound; 2 per core plus one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, finish requests in flight for at most this long, then exit (systemd and
# container runtimes wait 10 s by default before SIGKILL).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "8"))
keepalive = 5
# Recycle workers now and then: each connection grows with every practice schema it
# touches (about 1.5 MB each).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
