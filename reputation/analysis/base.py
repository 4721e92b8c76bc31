"""The analyser contract: the result type and the protocol every analyser implements."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

CATEGORIES: tuple[str, ...] = (
    "threat",
    "harassment",
    "complaint",
    "question",
    "praise",
    "spam",
    "other",
)

SEVERITY_NONE, SEVERITY_LOW, SEVERITY_HIGH, SEVERITY_CRITICAL = 0, 1, 2, 3

# Evidence prefix of the second tier: violent words aimed at someone, below a threat.
POSSIBLE_THREAT = "possible threat: "


@dataclasses.dataclass(frozen=True)
class Analysis:
    """What the analyser concluded about one text, and why."""

    language: str  # ISO 639-1 ("en", "no", ...) or "und"
    sentiment: float  # -1 (very negative) .. 1 (very positive)
    category: str  # one of CATEGORIES
    severity: int  # 0 none, 1 low, 2 high, 3 critical
    evidence: list[str]  # human-readable phrases that decided category/severity

    def __post_init__(self) -> None:
        # Fail loudly at the source: a bad Analysis would otherwise surface much later
        # as a confusing database or UI error.
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if not SEVERITY_NONE <= self.severity <= SEVERITY_CRITICAL:
            raise ValueError(f"severity out of range: {self.severity!r}")
        if not -1.0 <= self.sentiment <= 1.0:
            raise ValueError(f"sentiment out of range: {self.sentiment!r}")

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "sentiment": self.sentiment,
            "category": self.category,
            "severity": self.severity,
            "evidence": list(self.evidence),
        }


@runtime_checkable
class Analyser(Protocol):
    def analyse(self, text: str, *, rating: int | None = None) -> Analysis: ...

    def analyse_many(self, texts: Iterable[str]) -> list[Analysis]: ...
