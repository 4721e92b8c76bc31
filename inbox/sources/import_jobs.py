"""History imports from the web: the uploaded file is kept, then imported by a worker
through the same `import_file` as `manage.py import_mentions` (the same checks, chunks
stored raw first), with its progress on a row the page polls."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.utils import timezone

from inbox.models import ImportJob
from inbox.sources import importing
from reputation.audit.services import audit_record
from reputation.core.errors import Refused
from reputation.core.tasks import enqueue
from tenants.selectors import actor_role, current_practice, role_at_least

log = logging.getLogger(__name__)

REJECTED_KEPT = 200  # rejected rows listed on the page (all are counted)


def import_job_create(*, upload: UploadedFile, fmt: str, account: str, actor: Any) -> ImportJob:
    """Keep the uploaded file and queue its import. Manager or above; the format and
    account are checked now, so the person hears at once what is wrong."""
    if not role_at_least(actor_role(actor, current_practice()), "manager"):
        raise Refused("forbidden", "Only a manager or above can import history.")
    name = Path(upload.name or "upload").name[:200]
    fmt = fmt or importing.EXTENSIONS.get(Path(name).suffix.lower(), "")
    if not fmt:
        raise Refused("format_needed", "Choose the file's format.", status=400)
    if upload.size and upload.size > settings.IMPORT_MAX_BYTES:
        raise Refused(
            "too_large",
            f"The file is larger than {settings.IMPORT_MAX_BYTES // 1_000_000} MB: import it"
            " with `manage.py import_mentions` on the server.",
            status=413,
        )
    try:
        importing.options_check(fmt=fmt, account=account)
    except importing.ImportFileError as exc:
        message = str(exc).replace("--account", "the account")
        raise Refused("bad_options", message, status=400) from None
    folder = Path(settings.IMPORT_UPLOAD_DIR) / connection.schema_name
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{uuid.uuid4().hex}-{name}"
    with stored.open("wb") as out:
        for part in upload.chunks():
            out.write(part)
    job = ImportJob.objects.create(
        created_by=actor if getattr(actor, "email", None) else None,
        file_name=name,
        stored_path=str(stored),
        format=fmt,
        account=account,
        bytes_total=stored.stat().st_size,
    )
    audit_record(
        action="import.queued",
        actor=actor,
        obj=job,
        data={"file": name, "format": fmt, "bytes": job.bytes_total},
    )
    enqueue("inbox.sources.import_jobs.import_job_run", job.pk)
    return job


def import_job_run(job_id: int) -> str:
    """The worker: claim the job (once), import, record the outcome. Safe to run twice."""
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=now
    ):
        return "not queued"
    job = ImportJob.objects.get(pk=job_id)
    done = 0
    last_write = 0.0

    def progress(nbytes: int) -> None:
        nonlocal done, last_write
        done += nbytes
        if time.monotonic() - last_write > 0.5:  # the page polls; no row per chunk
            ImportJob.objects.filter(pk=job_id).update(bytes_done=done)
            last_write = time.monotonic()

    try:
        report = importing.import_file(
            job.stored_path, fmt=job.format, account=job.account, progress=progress
        )
    except importing.ImportFileError as exc:
        return _finish(job, status=ImportJob.Status.FAILED, error=str(exc))
    except Exception as exc:  # kept on the job for the person who uploaded it
        log.exception("import job %s failed", job_id)
        return _finish(job, status=ImportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    summary = {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "duplicates": report.duplicates,
        "skipped": report.skipped,
        "ignored": report.ignored,
        "rejected_count": len(report.rejected),
        "rejected": [{"line": r.line, "reason": r.reason} for r in report.rejected[:REJECTED_KEPT]],
        "failed_chunks": [
            {"lines": f"{c.first_line}-{c.last_line}", "error": c.failed[:300]}
            for c in report.failed_chunks
        ],
        "warnings": report.warnings,
    }
    return _finish(job, status=ImportJob.Status.DONE, report=summary, bytes_done=job.bytes_total)


def _finish(job: ImportJob, *, status: str, **fields: Any) -> str:
    ImportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)
    audit_record(
        action=f"import.{status}",
        obj=job,
        data={k: v for k, v in fields.items() if k in ("error",)}
        | {k: fields.get("report", {}).get(k) for k in ("rows", "created", "rejected_count")},
    )
    Path(job.stored_path).unlink(missing_ok=True)  # the rows are stored raw by now
    return status
