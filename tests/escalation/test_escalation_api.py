"""The REST API and the evidence pack: same services, stable codes, never a 500."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command

from escalation.evidence import pack_verify
from escalation.models import Escalation, PlatformReport
from reputation.audit.models import AuditEvent
from tests.conftest import client_for
from tests.escalation.conftest import NEGATIVE, THREAT, arrive


@pytest.fixture
def api(cast):
    def as_user(user):
        return client_for("alpha.localhost", user)

    return as_user


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_escalations_over_the_api_with_refusals_as_json(cast, alpha, api):
    threat = arrive("t1", THREAT)
    negative = arrive("n1", NEGATIVE, rating=1)
    body = api(cast.vera).get("/api/v1/escalations/").json()
    assert [(e["kind"], e["auto_opened"]) for e in body["results"]] == [("police", True)]
    escalation_id = body["results"][0]["id"]
    refused = post(api(cast.bob), "/api/v1/escalations/", {"mention": negative.pk, "kind": "legal"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "justification_required"
    assert (
        post(
            api(cast.vera), "/api/v1/escalations/", {"mention": negative.pk, "kind": "insurer"}
        ).json()["code"]
        == "forbidden"
    )
    created = post(
        api(cast.bob), "/api/v1/escalations/", {"mention": negative.pk, "kind": "insurer"}
    )
    assert created.status_code == 201 and created.json()["status"] == "open"
    url = f"/api/v1/escalations/{escalation_id}/transitions/"
    out_of_order = post(api(cast.bob), url, {"action": "case_reference", "reference": "X"})
    assert out_of_order.status_code == 409 and out_of_order.json()["code"] == "transition_refused"
    assert post(api(cast.bob), url, {"action": "fly"}).status_code == 400
    assert (
        post(api(cast.bob), url, {"action": "contact", "who": "Police", "how": "phone"}).json()[
            "status"
        ]
        == "contacted"
    )
    done = post(api(cast.bob), url, {"action": "case_reference", "reference": "2026-1"})
    assert done.json()["case_reference"] == "2026-1"
    assert (
        post(
            api(cast.bob), "/api/v1/escalations/", {"mention": 999999, "kind": "police"}
        ).status_code
        == 400
    )
    assert api(cast.bob).get("/api/v1/escalations/999999/").status_code == 404
    assert threat.pk == Escalation.objects.get(pk=escalation_id).mention_id


def test_platform_reports_over_the_api(cast, alpha, api):
    mention = arrive("r1", NEGATIVE, rating=1)
    created = post(
        api(cast.bob),
        "/api/v1/platform-reports/",
        {"mention": mention.pk, "reason": "spam", "grounds": "Not a patient"},
    )
    assert created.status_code == 201
    url = f"/api/v1/platform-reports/{created.json()['id']}/transitions/"
    assert (
        post(api(cast.bob), url, {"action": "appeal", "grounds": "x"}).json()["code"]
        == "transition_refused"
    )
    assert (
        post(api(cast.bob), url, {"action": "submit", "reference": "G-1"}).json()["status"]
        == "submitted"
    )
    assert post(api(cast.bob), url, {"action": "removed"}).json()["status"] == "removed"
    listed = api(cast.vera).get("/api/v1/platform-reports/").json()["results"]
    assert [r["status"] for r in listed] == ["removed"]


def test_customer_import_answers_a_summary_without_identifiers(cast, alpha, api):
    csv = "name,email\nKari Nordmann,kari@example.no\nZed,\n"
    response = api(cast.alice).post("/api/v1/customers/import/", data=csv, content_type="text/csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["customers"], body["rejected"], body["rejections"]) == (
        1,
        1,
        [[3, "no name of two words, valid email or possible phone number"]],
    )
    assert b"Kari" not in response.content and b"example.no" not in response.content
    assert (
        api(cast.bob)
        .post("/api/v1/customers/import/", data=csv, content_type="text/csv")
        .status_code
        == 403
    )
    bad = api(cast.alice).post(
        "/api/v1/customers/import/", data="a;b\n1;2\n", content_type="text/csv"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_csv"
    mention = arrive("r1", NEGATIVE, rating=1, author_name="Kari Nordmann")
    check = api(cast.vera).get(f"/api/v1/mentions/{mention.pk}/customer-check/").json()
    assert (check["status"], check["reason"]) == ("customer", "name matches one customer")


def test_an_evidence_pack_is_complete_checked_and_its_hash_audited(
    cast, alpha, api, tmp_path, capsys
):
    threat = arrive("t1", THREAT)
    escalation = Escalation.objects.get(mention=threat)
    response = api(cast.vera).get(f"/api/v1/escalations/{escalation.pk}/evidence-pack/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    pack = response.content
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        mention = json.loads(zf.read("mention.json"))
    assert {
        "mention.json",
        "mention.html",
        "author.json",
        "escalation.json",
        "audit.json",
        "manifest.json",
    } <= names
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json"}
    assert mention["posted_at_utc"].endswith("Z") and mention["text"] == THREAT
    import hashlib

    event = AuditEvent.objects.filter(action="evidence_pack.downloaded").get()
    assert event.data["sha256"] == hashlib.sha256(pack).hexdigest()
    assert pack_verify(pack) == []
    path = tmp_path / "pack.zip"
    path.write_bytes(pack)
    call_command("verify_pack", str(path))
    assert "every file matches" in capsys.readouterr().out
    tampered = bytearray(pack)
    tampered[len(tampered) // 3] ^= 0x01
    path.write_bytes(bytes(tampered))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_pack", str(path))
    assert exit_.value.code == 1
    assert "DIFFERS" in capsys.readouterr().out


def test_a_pack_with_a_changed_file_names_it():
    files = {"a.txt": b"hello"}
    import hashlib

    manifest = {
        "files": [{"path": "a.txt", "sha256": hashlib.sha256(b"hello").hexdigest(), "size": 5}]
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a.txt", b"hellO")
        zf.writestr("extra.txt", b"x")
        zf.writestr("manifest.json", json.dumps(manifest))
    problems = pack_verify(buffer.getvalue())
    assert (
        problems[0].startswith("a.txt: SHA-256 ")
        and problems[1] == "extra.txt: in the pack but not in the manifest"
    )
    assert files
    assert pack_verify(b"not a zip") == ["not a readable ZIP file: File is not a zip file"]


def test_a_report_pack_has_the_raw_payload_as_received(cast, alpha, api):
    from inbox.models import RawPayload

    raw = RawPayload.objects.create(
        source="api:mention", platform="google", body='{"exact": "bytes ✓"}'
    )
    mention = arrive("r1", NEGATIVE, rating=1)
    type(mention).objects.filter(pk=mention.pk).update(raw=raw)
    report = PlatformReport.objects.create(
        mention=mention, platform="google", reason="spam", grounds="g"
    )
    pack = api(cast.bob).get(f"/api/v1/platform-reports/{report.pk}/evidence-pack/").content
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        assert zf.read("raw/payload.txt") == '{"exact": "bytes ✓"}'.encode()
        assert json.loads(zf.read("report.json"))["reason"] == "spam"


def test_any_changed_byte_of_a_pack_fails_verification(cast, alpha, api):
    threat = arrive("t1", THREAT)
    escalation = Escalation.objects.get(mention=threat)
    pack = api(cast.alice).get(f"/api/v1/escalations/{escalation.pk}/evidence-pack/").content
    assert pack_verify(pack) == []
    for position in range(0, len(pack), max(1, len(pack) // 97)):
        tampered = bytearray(pack)
        tampered[position] ^= 0x01
        assert pack_verify(bytes(tampered)), position
