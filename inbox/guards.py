"""The playbook's guards on a reply, as pure functions: text and facts in, problems out.

No database, no network: the services (inbox.replies) gather the facts (earlier replies
of the practice, public replies already made to this author in this conversation,
the author's marker, the mention's category and sentiment, the practice's thresholds)
and `manage.py check_reply` runs the same checks on JSON lines.

Each problem has a stable `code`, a `severity` ("block": refused until changed, unless
a manager may override it; "warn": shown, not refused), the `phrase` with its `start`
and `end` offsets in the reply, and a `suggestion`. Codes:

- phi (block, public replies): confirms the person is a patient or client, or names
  their treatment, visit or appointment dates, health, medication, insurance, costs or
  records. Private replies get `personal_data` (warn) instead: marked, not blocked.
- rule_of_two (block, overridable): a third public reply to one author in one
  conversation.
- do_not_engage (block, overridable): the author is marked a troll (or blocked).
- cooling_off (warn): the mention is a threat, harassment or strongly negative, so the
  reply waits the practice's cooling-off before it is sent.
- excuse_first, hostile, script (warn): empathy, not scripts.
- empty, too_long (block).

The phrase lists live in inbox/guard_phrases.toml; tests/inbox/data/ holds the
evaluation sets that measure blocks and false blocks.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

BLOCK, WARN = "block", "warn"
PUBLIC, PRIVATE = "public", "private"
# Codes a manager may override with a written reason. The privacy guard is never
# overridden: such a reply is reworded.
OVERRIDABLE = frozenset({"rule_of_two", "do_not_engage"})
MAX_PUBLIC_REPLIES = 2
# Platform limits on a reply's length (characters).
MAX_LENGTH = {"x": 280, "instagram": 2200, "google": 4096, "facebook": 8000}
DEFAULT_MAX_LENGTH = 10_000
HOSTILE_CATEGORIES = frozenset({"threat", "harassment"})
DO_NOT_ENGAGE_MARKERS = frozenset({"troll", "blocked"})

PHRASES_FILE = Path(__file__).with_name("guard_phrases.toml")


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    severity: str
    phrase: str = ""
    start: int = 0
    end: int = 0
    suggestion: str = ""

    @property
    def blocks(self) -> bool:
        return self.severity == BLOCK

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the checks need to know besides the text; defaults: nothing known."""

    visibility: str = PUBLIC
    platform: str = ""
    mention_text: str = ""
    mention_category: str = ""
    mention_sentiment: float | None = None
    strong_negative_threshold: float = -0.6
    # Earlier replies of the practice (any mention), for the script check.
    previous: Sequence[str] = ()
    # Public replies already made (or on their way) to this author in this conversation,
    # at the desk or on the platform.
    public_replies_before: int = 0
    author_marker: str = ""


def reply_check(text: str, facts: Facts | None = None) -> list[Problem]:
    """Every problem of `text` as a reply, blocks first, then in text order."""
    facts = facts or Facts()
    lang = reply_language(text, facts.mention_text)
    problems: list[Problem] = []
    if not text.strip():
        problems.append(Problem("empty", BLOCK, suggestion=_say("empty", lang)))
        return problems
    limit = MAX_LENGTH.get(facts.platform, DEFAULT_MAX_LENGTH)
    if len(text) > limit:
        problems.append(
            Problem(
                "too_long",
                BLOCK,
                phrase=text[limit:][:80],
                start=limit,
                end=len(text),
                suggestion=f"{_say('too_long', lang)} ({len(text)} / {limit})",
            )
        )
    public = facts.visibility != PRIVATE
    for start, end in phi_spans(text):
        if public:
            problems.append(Problem("phi", BLOCK, text[start:end], start, end, _say("phi", lang)))
        else:
            problems.append(
                Problem(
                    "personal_data", WARN, text[start:end], start, end, _say("personal_data", lang)
                )
            )
    if public and facts.public_replies_before >= MAX_PUBLIC_REPLIES:
        problems.append(Problem("rule_of_two", BLOCK, suggestion=_say("rule_of_two", lang)))
    if facts.author_marker in DO_NOT_ENGAGE_MARKERS:
        problems.append(Problem("do_not_engage", BLOCK, suggestion=_say("do_not_engage", lang)))
    if needs_cooling_off(facts):
        problems.append(Problem("cooling_off", WARN, suggestion=_say("cooling_off", lang)))
    if found := excuse_first(text):
        problems.append(
            Problem("excuse_first", WARN, *found, suggestion=_say("excuse_first", lang))
        )
    for start, end in hostile_spans(text):
        problems.append(
            Problem("hostile", WARN, text[start:end], start, end, _say("hostile", lang))
        )
    if found := script_match(text, facts.previous):
        problems.append(Problem("script", WARN, *found, suggestion=_say("script", lang)))
    return sorted(problems, key=lambda p: (p.severity != BLOCK, p.start))


def blocking(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocks]


def needs_cooling_off(facts: Facts) -> bool:
    """A reply to a threat, harassment or a strongly negative mention is never sent in anger."""
    if facts.mention_category in HOSTILE_CATEGORIES:
        return True
    return (
        facts.mention_sentiment is not None
        and facts.mention_sentiment <= facts.strong_negative_threshold
    )


def suggested_openings(text: str = "", mention_text: str = "") -> list[str]:
    """Ways to open a reply, to write on from. Never a whole canned answer."""
    return list(_phrases()["suggestions"][f"openings_{reply_language(text, mention_text)}"])


# ---------------------------------------------------------------- the checks


def phi_spans(text: str) -> list[tuple[int, int]]:
    """Spans of `text` that disclose a person's care, health, money or records."""
    spans = [m.span() for pattern in _compiled()["phi"] for m in pattern.finditer(text)]
    rules = _compiled()
    for sentence_start, sentence in _sentences(text):
        if rules["date_anchor"].search(sentence):
            for m in rules["date"].finditer(sentence):
                spans.append((sentence_start + m.start(), sentence_start + m.end()))
        if rules["money_anchor"].search(sentence):
            for m in rules["money"].finditer(sentence):
                spans.append((sentence_start + m.start(), sentence_start + m.end()))
    return _merge(spans)


def excuse_first(text: str) -> tuple[str, int, int] | None:
    """An excuse or blame in the opening (first two sentences) before any acknowledgement."""
    sentences = _sentences(text)[:2]
    if not sentences:
        return None
    opening_end = sentences[-1][0] + len(sentences[-1][1])
    opening = text[:opening_end]
    rules = _compiled()
    excuse = rules["excuse"].search(opening)
    if excuse is None:
        return None
    ack = rules["acknowledge"].search(opening)
    if ack is not None and ack.start() < excuse.start():
        return None
    return excuse.group(0), excuse.start(), excuse.end()


def hostile_spans(text: str) -> list[tuple[int, int]]:
    """The reply's own hostile or sarcastic words, shouting, and a pile of '!!'."""
    rules = _compiled()
    spans = [m.span() for m in rules["hostile"].finditer(text)]
    spans += [m.span() for m in _SHOUTING.finditer(text)]
    spans += [m.span() for m in _EXCLAIMS.finditer(text)]
    return _merge(spans)


def script_match(
    text: str, previous: Sequence[str], *, threshold: float = 0.6
) -> tuple[str, int, int] | None:
    """A near copy of an earlier reply: shared word 3-grams (Jaccard) at or above
    `threshold`; the phrase is the longest stretch the two share."""
    mine = _shingles(text)
    if len(mine) < 4:
        return None  # "Thank you!" twice is not a script
    best, best_score = None, 0.0
    for earlier in previous:
        theirs = _shingles(earlier)
        if not theirs:
            continue
        score = len(mine & theirs) / len(mine | theirs)
        if score > best_score:
            best, best_score = earlier, score
    if best is None or best_score < threshold:
        return None
    matcher = difflib.SequenceMatcher(None, text.lower(), best.lower(), autojunk=False)
    match = matcher.find_longest_match(0, len(text), 0, len(best))
    return text[match.a : match.a + match.size], match.a, match.a + match.size


def reply_language(text: str, mention_text: str = "") -> str:
    """Which language to suggest in ("no" or "en"): the reply's own, else the mention's."""
    for sample in (text, mention_text):
        words = re.findall(r"[a-zæøå]+", sample.lower())
        no = sum(1 for w in words if w in _function_words("no"))
        en = sum(1 for w in words if w in _function_words("en"))
        if no > en:
            return "no"
        if en > no:
            return "en"
    return "en"


# ---------------------------------------------------------------- plumbing

_SHOUTING = re.compile(r"\b[A-ZÆØÅ]{3,}(?:\s+[A-ZÆØÅ]{3,}){2,}\b")
_EXCLAIMS = re.compile(r"[!?]*![!?]*!+[!?]*")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    "januar|februar|mars|mai|juni|juli|desember|oktober"
)
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag"
)
_DATE = (
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+)?(?:{_MONTHS})\b"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    r"|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b"
    r"|the\s+\d{1,2}(?:st|nd|rd|th)\b"
    rf"|(?:(?:last|this|on|sist|på|forrige)\s+)?(?:{_WEEKDAYS})\b"
    r"|yesterday|last\s+(?:week|month|year)|i\s+går|forrige\s+uke)"
)
_MONEY = (
    r"(?:[$€£]\s?\d[\d,.]*"
    r"|\b\d[\d,. ]*\s?(?:kr\b|kroner\b|nok\b|usd\b|eur\b|euros?\b|dollars?\b))"
)


@cache
def _phrases() -> dict[str, Any]:
    with PHRASES_FILE.open("rb") as f:
        return tomllib.load(f)


@cache
def _function_words(lang: str) -> frozenset[str]:
    return frozenset(_phrases()["language"][lang].split())


def _alternation(items: Sequence[str]) -> str:
    # Longest first, so "root canal" wins over "root".
    return "|".join(sorted(items, key=len, reverse=True))


@cache
def _compiled() -> dict[str, Any]:
    data = _phrases()
    phi = data["phi"]
    flags = re.IGNORECASE
    en = _alternation(phi["en_terms"])
    no = _alternation(phi["no_terms"])
    words = r"(?:\s+[\w'’-]+){0,3}?"
    received = r"(?:had|got|received|underwent|were\s+given|were\s+prescribed)"
    term_en = rf"(?:{en})(?:e?s)?\b"
    phi_patterns = [
        rf"\b(?:your|yours){words}\s+{term_en}",
        rf"\b{term_en}{words}\s+(?:you|your\s+\w+)\s+{received}\b",
        rf"\byou\s+{received}{words}\s+{term_en}",
        rf"\b\w*(?:{no})\w*\s+(?:din|ditt|dine)\b",
        rf"\b(?:din|ditt|dine)(?:\s+\w+){{0,2}}?\s+\w*(?:{no})\w*",
        rf"\b\w*(?:{no})\w*(?:\s+\w+){{0,3}}?\s+du\s+(?:fikk|har\s+fått)\b",
        rf"\bdu\s+(?:fikk|har\s+fått)(?:\s+\w+){{0,3}}?\s+\w*(?:{no})\w*",
        rf"\b\w*(?:{no})\w*(?:\s+\w+){{0,3}}?\s+til\s+deg\b",
        *phi["en_patterns"],
        *phi["no_patterns"],
    ]
    excuse = data["excuse"]
    hostile = data["hostile"]
    return {
        "phi": [re.compile(p, flags) for p in phi_patterns],
        "date_anchor": re.compile(phi["date_anchor"], flags),
        "money_anchor": re.compile(phi["money_anchor"], flags),
        "date": re.compile(_DATE, flags),
        "money": re.compile(_MONEY, flags),
        "excuse": re.compile(rf"\b(?:{_alternation(excuse['en'] + excuse['no'])})\b", flags),
        "acknowledge": re.compile(
            rf"\b(?:{_alternation(excuse['acknowledge_en'] + excuse['acknowledge_no'])})\b", flags
        ),
        "hostile": re.compile(rf"\b(?:{_alternation(hostile['en'] + hostile['no'])})\b", flags),
    }


def _say(code: str, lang: str) -> str:
    return _phrases()["suggestions"][f"{code}_{lang}"]


def _sentences(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans as one, in text order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}
