"""Choosing and caching the analyser.

The class comes from the Django setting REPUTATION_ANALYSER (a dotted path) when Django
settings are configured, else the default. Loading the default costs about a second
(VADER lexicon, language model), so each class is built once per process.
"""

from __future__ import annotations

import os
import threading

from django.utils.module_loading import import_string

from .base import Analyser, Analysis

DEFAULT_ANALYSER = "reputation.analysis.default.DefaultAnalyser"

_lock = threading.Lock()
_instances: dict[str, Analyser] = {}


def configured_path() -> str:
    """The dotted path of the analyser class to use, honouring Django settings if any."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:  # pragma: no cover - Django is a project dependency
        return DEFAULT_ANALYSER
    if not (settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE")):
        return DEFAULT_ANALYSER
    try:
        path = getattr(settings, "REPUTATION_ANALYSER", "") or ""
    except (ImproperlyConfigured, ImportError):
        # A settings module that cannot be loaded is not our business to report: the
        # analyser has no dependency on it, so fall back to the default.
        return DEFAULT_ANALYSER
    return path.strip() or DEFAULT_ANALYSER


def get_analyser() -> Analyser:
    """The process-wide analyser (built on first use, then cached per configured class)."""
    path = configured_path()
    analyser = _instances.get(path)
    if analyser is None:
        with _lock:  # two threads must not both pay the ~1 s load
            analyser = _instances.get(path)
            if analyser is None:
                analyser = import_string(path)()
                if not isinstance(analyser, Analyser):
                    raise TypeError(f"REPUTATION_ANALYSER {path!r} does not implement Analyser")
                _instances[path] = analyser
    return analyser


def analyse(text: str, *, rating: int | None = None) -> Analysis:
    """Analyse one text with the configured analyser."""
    return get_analyser().analyse(text, rating=rating)


def clear_cache() -> None:
    """Forget built analysers (tests that change REPUTATION_ANALYSER use this)."""
    with _lock:
        _instances.clear()
