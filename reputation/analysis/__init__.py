"""Text analysis for mentions: language, sentiment, category, severity, evidence.

    from reputation.analysis import analyse
    analyse("I will burn this place down", rating=1)
    # Analysis(language='en', sentiment=-0.5, category='threat', severity=3,
    #          evidence=['threat: "burn this place down"'])

The analyser is pluggable (Django setting REPUTATION_ANALYSER, a dotted path to a class
implementing `Analyser`); the rules of the default one are documented in `default.py`.
"""

from .base import CATEGORIES, Analyser, Analysis
from .registry import analyse, get_analyser

__all__ = ["CATEGORIES", "Analyser", "Analysis", "analyse", "get_analyser"]
