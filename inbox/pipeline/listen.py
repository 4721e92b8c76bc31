"""Listening rules: which texts are about this practice even without an @handle."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable


def _fold(text: str) -> str:
    # Case- and accent-insensitive, so "Tannlegesenteret" matches "tannlegesenteret"
    # and "Smile Clinic" matches "smile clinic"; Norwegian letters are kept as they are.
    return unicodedata.normalize("NFKC", text).casefold()


@dataclasses.dataclass(frozen=True)
class ListeningMatch:
    matched: tuple[str, ...]
    excluded_by: tuple[str, ...]

    @property
    def is_relevant(self) -> bool:
        return bool(self.matched) and not self.excluded_by


class Listener:
    """Compiled rules of one practice; build once per batch, not per mention."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        include, exclude = [], []
        for kind, term in rules:
            term = term.strip()
            if not term:
                continue
            (exclude if kind == "exclusion" else include).append(term)
        self.include = include
        self.exclude = exclude
        self._include_re = self._compile(include)
        self._exclude_re = self._compile(exclude)

    @staticmethod
    def _compile(terms: list[str]) -> re.Pattern[str] | None:
        if not terms:
            return None
        # Whole words only ("Ava" must not match "available"); longest first so the
        # evidence names the most specific term.
        alternatives = "|".join(
            re.escape(_fold(t)) for t in sorted(set(terms), key=len, reverse=True)
        )
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def match(self, text: str) -> ListeningMatch:
        folded = _fold(text)
        matched = tuple(dict.fromkeys(self._include_re.findall(folded))) if self._include_re else ()
        excluded = (
            tuple(dict.fromkeys(self._exclude_re.findall(folded))) if self._exclude_re else ()
        )
        return ListeningMatch(matched=matched, excluded_by=excluded)
