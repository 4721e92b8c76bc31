"""Language identification: py3langid restricted to the languages our clinics see.

Restricting the model matters twice: fewer wrong guesses among 97 languages for short
reviews, and Norwegian vs Danish, which the n-gram model often confuses on short
bokmål text. We resolve that confusion with a handful of spelling markers that differ
between the two written languages (meg/mig, noe/noget, etter/efter, takk/tak ...) and,
when the evidence is even, a prior towards Norwegian, the product's home market.

Speed: the n-gram model walks the text byte by byte in Python (~0.15 ms for a review).
Text that is plainly English or Norwegian by its function words ("the", "and", "og",
"ikke" ...) is decided without it; only unclear text pays for the model.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Languages the identifier may answer. Norwegian is "no" (bokmål) and "nn" (nynorsk)
# in the model; both are reported as "no". Others are the neighbours and the
# languages most often seen in reviews of Norwegian/European clinics.
LANGUAGES: tuple[str, ...] = (
    "en",
    "no",
    "nn",
    "da",
    "sv",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pt",
    "pl",
    "fi",
    "is",
    "ru",
    "uk",
    "ar",
    "tr",
    "so",
    "ur",
)
_ALIASES = {"nn": "no", "nb": "no"}

UNDETERMINED = "und"
_MIN_LETTERS = 8  # below this the n-gram evidence is noise ("ok", "Takk!")
_MIN_CONFIDENCE = 0.30


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Spellings that only one of the two written languages uses (lower-case, whole words).
_NO_MARKERS = _words(
    "meg deg seg noe noen mye veldig etter dere enn nå hva ikkje eg kva kor fikk gikk ble blir "
    "takk sykehus tannlege tannlegen sier fått kjempe kjempefornøyd riktig sånn slik spørsmål "
    "fremdeles fortsatt igjen"
)
_DA_MARKERS = _words(
    "mig dig sig noget nogen meget efter jer end nu hvad fik gik blev bliver tak sygehus "
    "tandlæge siger fået rigtig sådan igen spørgsmål stadig"
)
# Function words for the fast path. Words shared with a neighbour are left out ("i" is
# also Norwegian, "for"/"at"/"to" too, "was"/"will" are German, ...).
_EN_STOP = _words(
    "the and is of my you it with not have they this that were are but very your we had "
    "there been would from just what when our their them she he his"
)
_SCANDI_STOP = _words(
    "og ikke jeg det er på en et til som med av har var å meg dere den vi de om men eller "
    "hos fra også kan skal når hva bare veldig etter"
)
_SV_MARKERS = _words("och inte jag är att mycket också mig dig vad nu")
_OTHER_STOP = _words(
    "und der die das nicht ist ich sehr le la les est je pas très une el los y es muy pero que una"
)
_WORD = re.compile(r"[a-zæøåäöéü]+")

# What each function word counts for, as bits (an English stop word is never also
# counted as Scandinavian, a Norwegian marker never as "other"): one dict lookup per
# word instead of up to six set lookups.
_EN, _SCANDI, _NO_MARK, _OTHER = 1, 2, 4, 8
_FUNCTION_WORD_CODES = {
    word: (_EN if word in _EN_STOP else _SCANDI if word in _SCANDI_STOP else 0)
    | (
        _NO_MARK
        if word in _NO_MARKERS
        else _OTHER
        if word in _DA_MARKERS or word in _SV_MARKERS or word in _OTHER_STOP
        else 0
    )
    for word in _EN_STOP | _SCANDI_STOP | _NO_MARKERS | _DA_MARKERS | _SV_MARKERS | _OTHER_STOP
}
# _MIN_LETTERS letters anywhere (stops at the 8th: far cheaper than counting them all)
_ENOUGH_LETTERS = re.compile(rf"(?:[^\W\d_][\W\d_]*){{{_MIN_LETTERS}}}")


class LanguageDetector:
    """Callable `detect(text) -> iso code`; load once, reuse (the model load is ~1 s)."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        ident.set_languages([lang for lang in languages if lang in ident.labels])
        # The model ships as float16; the per-text feature gather + matmul runs about
        # twice as fast on float32 (the restricted table is ~8 MB as float32).
        ident.nb_ptc = np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)
        self._ident = ident

    def detect(self, text: str) -> str:
        if not _ENOUGH_LETTERS.search(text[:600]):
            return UNDETERMINED
        quick = self._by_function_words(text)
        if quick:
            return quick
        # The model is a bag of byte n-grams: the first ~600 characters decide as well
        # as the whole text and keep the cost of long posts bounded.
        ranked = self._ident.rank(text[:600])
        probs: dict[str, float] = {}
        for lang, p in ranked:
            code = _ALIASES.get(lang, lang)
            probs[code] = probs.get(code, 0.0) + p
        best = max(probs, key=probs.__getitem__)
        if best in ("no", "da") or (probs.get("no", 0) + probs.get("da", 0)) > 0.5:
            best = self._norwegian_or_danish(text, probs, best)
        if probs[best] < _MIN_CONFIDENCE and best not in ("no", "da"):
            return UNDETERMINED
        return best

    @staticmethod
    def _by_function_words(text: str) -> str | None:
        """English or Norwegian decided by function words alone, or None if unclear.

        Most reviews are plainly one of the two; counting a few dozen function words
        settles those for ~5% of the n-gram model's cost. Anything mixed, short or in a
        neighbouring language (Danish, Swedish, German...) goes to the model.
        """
        codes = Counter(
            filter(None, map(_FUNCTION_WORD_CODES.get, _WORD.findall(text[:600].lower())))
        )
        en = scandi = no_marks = other = 0
        for code, n in codes.items():
            en += n if code & _EN else 0
            scandi += n if code & _SCANDI else 0
            no_marks += n if code & _NO_MARK else 0
            other += n if code & _OTHER else 0
        if en >= 3 and scandi + other <= 1 and en >= 3 * (scandi + other):
            return "en"
        if scandi >= 3 and no_marks >= 1 and other == 0 and en <= 1:
            return "no"
        return None

    @staticmethod
    def _norwegian_or_danish(text: str, probs: dict[str, float], best: str) -> str:
        words = _WORD.findall(text.lower())
        no_hits = sum(1 for w in words if w in _NO_MARKERS)
        da_hits = sum(1 for w in words if w in _DA_MARKERS)
        if no_hits > da_hits:
            return "no"
        if da_hits > no_hits:
            return "da"
        # Even evidence: the model's own odds, tilted towards Norwegian (home market,
        # and the model's Danish/Norwegian boundary is unreliable on short bokmål).
        p_no, p_da = probs.get("no", 0.0), probs.get("da", 0.0)
        if best in ("no", "da"):
            return "no" if p_no * 2.0 >= p_da else "da"
        return best
