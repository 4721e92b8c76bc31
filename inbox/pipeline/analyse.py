"""Step 5: language, sentiment, category, severity and the evidence for them.

The analyser itself is `reputation.analysis` (no database); this step feeds it the
mentions of a batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from inbox.platforms.base import NormalisedMention
from reputation.analysis import Analyser, Analysis, get_analyser

__all__ = ["analyse_batch", "analyse_one", "get_analyser"]


def _stars(rating: int | None) -> int | None:
    # Adapters validate ratings; this keeps a stray value from failing a whole batch.
    return rating if isinstance(rating, int) and 1 <= rating <= 5 else None


def analyse_batch(analyser: Analyser, items: Iterable[NormalisedMention]) -> list[Analysis]:
    return [analyser.analyse(nm.text, rating=_stars(nm.rating)) for nm in items]


def analyse_one(nm: NormalisedMention) -> Analysis:
    return get_analyser().analyse(nm.text, rating=_stars(nm.rating))
