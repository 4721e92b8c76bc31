"""`manage.py worker`: the django-q2 cluster, made to stop cleanly when every one of its
processes gets SIGTERM at once.

systemd's default stop (KillMode=control-group) and some container runtimes send SIGTERM
to every process of a service together. django-q2's sentinel takes SIGTERM with the
default action (it dies at once), so the cluster's main process is left waiting: it
hung for over 60 s here (bench: PITFALLS). A SIGTERM to the main process alone stops it
in about 2 s, through the sentinel's orderly stop. So here the sentinel ignores SIGTERM
(it still stops when the main process tells it to), and the processes it starts get the
default action back: they exit at once, and any task they held is delivered again by the
ORM broker (at least once; our tasks are safe to run twice).
"""

from __future__ import annotations

import signal
import uuid
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_q import cluster


def _child(target: Any, *args: Any) -> Any:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return target(*args)


def _patch_sentinel() -> None:
    if getattr(cluster.Sentinel, "_repdesk_patched", False):
        return
    start = cluster.Sentinel.start

    def sentinel_start(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        start(self)

    def sentinel_spawn_process(self, target, *args):  # noqa: ANN001, ANN202
        # django-q2 1.11's spawn_process, with the child started through _child. Its
        # bookkeeping keys on the target (workers are pooled and timed), so it is
        # redone here rather than wrapped; tests/test_worker_stop.py fails if it drifts.
        process = cluster.get_mp_context().Process(
            target=_child, args=(target, *args), name=f"Process-{uuid.uuid4().hex}"
        )
        process.daemon = True
        if target == cluster.worker:
            process.daemon = cluster.Conf.DAEMONIZE_WORKERS
            process.timer = args[2]
            self.pool.append(process)
        process.start()
        return process

    cluster.Sentinel.start = sentinel_start
    cluster.Sentinel.spawn_process = sentinel_spawn_process
    cluster.Sentinel._repdesk_patched = True


class Command(BaseCommand):
    help = "Run the background worker (the django-q2 cluster) with a clean stop on SIGTERM."

    def handle(self, *args: Any, **options: Any) -> None:
        _patch_sentinel()
        call_command("qcluster")
