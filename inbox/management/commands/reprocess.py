from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from inbox.models import RawPayload
from inbox.pipeline.accept import raw_payload_reprocess
from inbox.sources import deliveries as routing
from tenants.models import Practice, WebhookDelivery


class Command(BaseCommand):
    help = (
        "Re-process stored payloads that failed (or the given ones). Safe to repeat: "
        "mentions de-duplicate. Also re-routes service-wide webhook deliveries."
    )

    def add_arguments(self, parser):
        parser.add_argument("practice", nargs="?", help="Practice slug; all practices if omitted")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="RawPayload id")
        parser.add_argument(
            "--status",
            default="failed",
            choices=["failed", "pending", "processing", "all"],
            help="Which payloads to re-process when no --id is given (default: failed)",
        )
        parser.add_argument(
            "--deliveries",
            action="store_true",
            help="Also re-route failed webhook deliveries (e.g. after connecting a page)",
        )

    def handle(self, *args, **opts):
        practices = Practice.objects.exclude(schema_name="public")
        if opts["practice"]:
            practices = practices.filter(slug=opts["practice"])
            if not practices:
                raise CommandError(
                    f"No practice '{opts['practice']}'. Practices: "
                    + ", ".join(
                        Practice.objects.exclude(schema_name="public").values_list(
                            "slug", flat=True
                        )
                    )
                )
        if opts["deliveries"]:
            failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED)
            for delivery in tqdm(list(failed), desc="webhook deliveries", unit="delivery"):
                routing.delivery_reroute(delivery=delivery)
        totals = {"processed": 0, "failed": 0, "busy": 0}
        for practice in practices:
            with tenant_context(practice):
                rows = RawPayload.objects.order_by("pk")
                if opts["ids"]:
                    rows = rows.filter(pk__in=opts["ids"])
                elif opts["status"] != "all":
                    rows = rows.filter(status=opts["status"])
                for raw in tqdm(list(rows), desc=practice.slug, unit="payload"):
                    raw = raw_payload_reprocess(raw=raw)
                    if raw.status == RawPayload.Status.PROCESSING:
                        totals["busy"] += 1  # a worker has it right now: left to it
                        continue
                    totals[
                        "processed" if raw.status == RawPayload.Status.PROCESSED else "failed"
                    ] += 1
                    if raw.status != RawPayload.Status.PROCESSED:
                        self.stderr.write(f"{practice.slug} payload {raw.pk}: {raw.error[:300]}")
        self.stdout.write(
            f"Re-processed {totals['processed']} payload(s); {totals['failed']} still failing."
        )
        if totals["busy"]:
            self.stdout.write(
                f"{totals['busy']} payload(s) were being processed by a worker; left to it."
            )
        if totals["failed"]:
            self.stdout.write("Fix the cause shown above (or the payload), then run this again.")
