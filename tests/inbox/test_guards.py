"""The reply guards as pure functions (no database), and how well the privacy guard
does on the evaluation sets in tests/inbox/data/."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox.guards import Facts, phi_spans, reply_check, suggested_openings

DATA = Path(__file__).resolve().parent / "data"
# Thresholds: a reply naming someone's care gets through at most 1 time in 20; a safe
# reply is wrongly blocked at most 1 time in 20.
MIN_BLOCK_RATE = 0.95
MAX_FALSE_BLOCK_RATE = 0.05


def codes(text: str, **facts) -> list[str]:
    return [p.code for p in reply_check(text, Facts(**facts))]


def rates(name: str) -> tuple[float, float, list[str], list[str]]:
    rows = [json.loads(line) for line in (DATA / name).read_text().splitlines() if line]
    unsafe = [r for r in rows if r["unsafe"]]
    safe = [r for r in rows if not r["unsafe"]]
    missed = [r["id"] for r in unsafe if not phi_spans(r["text"])]
    false_blocks = [r["id"] for r in safe if phi_spans(r["text"])]
    return (
        1 - len(missed) / len(unsafe),
        len(false_blocks) / len(safe),
        missed,
        false_blocks,
    )


@pytest.mark.parametrize("name", ["phi_cases.jsonl", "phi_holdout.jsonl"])
def test_the_privacy_guard_blocks_patient_details_and_rarely_safe_replies(name):
    block_rate, false_rate, missed, false_blocks = rates(name)
    print(f"{name}: block rate {block_rate:.1%}, false-block rate {false_rate:.1%}")
    assert block_rate >= MIN_BLOCK_RATE, f"missed: {missed}"
    assert false_rate <= MAX_FALSE_BLOCK_RATE, f"falsely blocked: {false_blocks}"


def test_a_phi_problem_carries_the_phrase_its_offsets_and_a_safe_wording():
    text = "Hi Kari. Your insurance did not cover the implant."
    (problem,) = reply_check(text)
    assert (problem.code, problem.severity) == ("phi", "block")
    assert text[problem.start : problem.end] == problem.phrase == "Your insurance"
    assert "please call us" in problem.suggestion.lower()


def test_norwegian_replies_get_norwegian_suggestions():
    (problem,) = reply_check("Takk for at du skrev. Rotfyllingen din gikk fint.")
    assert problem.phrase == "Rotfyllingen din"
    assert problem.suggestion.startswith("Vi tar alle henvendelser på alvor")
    assert suggested_openings(mention_text="Vi ventet i en time")[0].startswith("Takk")


def test_private_replies_are_marked_personal_data_not_blocked():
    assert codes("Your root canal is booked.", visibility="private") == ["personal_data"]


def test_rule_of_two_counts_public_replies_only():
    assert codes("We hear you.", public_replies_before=1) == []
    assert codes("We hear you.", public_replies_before=2) == ["rule_of_two"]
    assert codes("We hear you.", public_replies_before=2, visibility="private") == []


def test_cooling_off_for_threats_harassment_and_strongly_negative_posts():
    assert codes("We hear you.", mention_category="threat") == ["cooling_off"]
    assert codes("We hear you.", mention_category="harassment") == ["cooling_off"]
    assert codes("We hear you.", mention_sentiment=-0.61) == ["cooling_off"]
    assert codes("We hear you.", mention_sentiment=-0.59) == []
    assert codes("We hear you.", mention_sentiment=-0.3, strong_negative_threshold=-0.2) == [
        "cooling_off"
    ]


def test_do_not_engage_for_trolls():
    assert codes("Thanks.", author_marker="troll") == ["do_not_engage"]
    assert codes("Thanks.", author_marker="advocate") == []


def test_excuses_before_acknowledging_are_warned():
    (problem,) = reply_check("Unfortunately we were very busy. Sorry for the wait.")
    assert (problem.code, problem.severity, problem.phrase) == (
        "excuse_first",
        "warn",
        "Unfortunately",
    )
    assert codes("We're sorry for the wait. Unfortunately we were short-staffed.") == []
    assert codes("Du burde ha ringt først. Beklager.") == ["excuse_first"]


def test_a_hostile_or_sarcastic_reply_is_warned():
    assert codes("Nice try. Our lawyers will be in touch.") == ["hostile", "hostile"]
    assert codes("Dette er løgn, og vi kontakter advokat.") == ["hostile", "hostile"]
    assert codes("YOU ARE WRONG AGAIN") == ["hostile"]
    assert codes("Thank you for the kind words!") == []


def test_a_near_copy_of_an_earlier_reply_is_warned():
    earlier = ["Thank you for your feedback, we will look into this and get back to you soon."]
    (problem,) = reply_check(
        "Thank you for your feedback, we will look into this and get back to you.",
        Facts(previous=earlier),
    )
    assert problem.code == "script" and problem.start == 0 and problem.end > 40
    assert codes("Thanks, Maria! Lovely to hear.", previous=earlier) == []


def test_empty_and_too_long():
    assert codes("   ") == ["empty"]
    assert codes("x" * 281, platform="x") == ["too_long"]


def test_check_reply_reads_json_lines_and_writes_one_line_each(monkeypatch):
    lines = [
        {"id": 1, "text": "Your root canal went fine.", "visibility": "public"},
        {"id": "b", "text": "Your root canal went fine.", "visibility": "private"},
        {
            "id": 3,
            "text": "Thank you for your feedback, we will look into this and get back to you.",
            "mention": "I will burn your clinic down, you will pay",
            "previous": [
                "Thank you for your feedback, we will look into this and get back to you."
            ],
        },
    ]
    stdin = io.BytesIO(("\n".join(json.dumps(line) for line in lines) + "\n").encode())
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    out = io.StringIO()
    call_command("check_reply", stdout=out)
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {
        "id": 1,
        "blocked": True,
        "problems": [
            {
                "code": "phi",
                "severity": "block",
                "phrase": "Your root canal",
                "start": 0,
                "end": 15,
                "suggestion": first["problems"][0]["suggestion"],
            }
        ],
    }
    assert second["blocked"] is False and second["problems"][0]["code"] == "personal_data"
    assert third["blocked"] is False
    assert {p["code"] for p in third["problems"]} == {"cooling_off", "script"}


def test_check_reply_answers_a_bad_line_and_goes_on(monkeypatch):
    from django.core.management.base import CommandError

    stdin = io.BytesIO(b'not json\n{"id": 2, "text": "Thanks!"}\n{"text": 5}\n')
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_reply", stdout=out, stderr=err)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r.get("error", "") != "" for r in rows] == [True, False, True]
    assert rows[1] == {"id": 2, "blocked": False, "problems": []}
