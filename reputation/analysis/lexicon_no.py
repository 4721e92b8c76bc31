"""A small Norwegian (bokmål) sentiment lexicon for reviews, scored the way VADER scores.

Valences use VADER's scale (-4 .. +4) so Norwegian and English scores are comparable,
and the compound score uses VADER's normalisation x / sqrt(x^2 + 15).

Norwegian specifics handled:
- Negation comes before *or right after* the word because of verb-second word order:
  "ikke bra" but also "anbefales ikke", "var ikke fornøyd".
- Intensifiers ("veldig", "svært", "utrolig") and the productive "kjempe-"/"super-"
  prefix ("kjempefornøyd", "superhyggelig").
- Common inflections are listed explicitly (frekk/frekke/frekt) instead of stemming:
  a stemmer would cost more than the dictionary lookups and misfire on short words.
"""

from __future__ import annotations

import math
import re

# word -> valence. Grouped by root; inflected forms share the root's valence.
_GROUPS: dict[float, str] = {
    -3.4: "katastrofe katastrofal katastrofalt grusom grusomt grusomme horribel horribelt "
    "horrible elendig elendige verst verste svindel svindlere svindlet forferdelig "
    "forferdelige forferdet helvete jævlig jævla",
    -3.0: "dritt drittservice drittsted uforskammet uforskammede ubrukelig ubrukelige "
    "livsfarlig skandale skandaløst skandaløs frekk frekke frekt feilbehandling "
    "feilbehandlet sjokkerende avskyelig",
    -2.5: "dårlig dårlige dårligere dårligst uprofesjonell uprofesjonelt uprofesjonelle "
    "uhøflig uhøflige uhøflighet arrogant arrogante respektløs respektløst lurt lurte "
    "skuffet skuffende skuffelse skuffelsen sint sinte rasende kaos kaotisk infeksjon "
    "betennelse smerte smerter smertefull vondt vond vonde sjokkert ødelagt ødela "
    "ødelagte faen kjip kjipt",
    -2.0: "irritert irriterende treg tregt trege overpriset sur sure slurvete slurv "
    "nedlatende ignorert ignorerte klage klager problem problemer feil mislykket utrygg "
    "ubehagelig ubehagelige stressende hånlig ufin ufint",
    -1.2: "dyr dyrt dyre kald kaldt middelmådig middels rotete rot glemt glemte forsinket "
    "forsinkelse avlyst avbestilt ventetid ventet usikker",
    0.9: "ok grei greit greie",
    1.2: "fin fint fine pen pent rask raskt raske",
    2.0: "bra god godt gode hyggelig hyggelige vennlig vennlige blid blide hjelpsom "
    "hjelpsomme fornøyd trygg trygt rolig grundig grundige effektiv effektivt ryddig "
    "behagelig smertefri smertefritt imøtekommende punktlig takknemlig",
    2.6: "flott flotte super supert dyktig dyktige profesjonell profesjonelt profesjonelle "
    "anbefale anbefaler anbefales anbefalt anbefalinger takk omsorgsfull omsorgsfulle "
    "empatisk lyttet nøye glad glade førsteklasses topp toppen",
    3.2: "fantastisk fantastiske utmerket utmerkede perfekt strålende glimrende nydelig "
    "herlig herlige beste best enestående kjempefornøyd",
}
LEXICON: dict[str, float] = {w: v for v, words in _GROUPS.items() for w in words.split()}

_INTENSIFIERS: dict[str, float] = {
    "veldig": 0.293,
    "svært": 0.293,
    "utrolig": 0.293,
    "ekstremt": 0.293,
    "skikkelig": 0.293,
    "virkelig": 0.293,
    "helt": 0.2,
    "så": 0.2,
    "altfor": 0.293,
    "totalt": 0.293,
    "litt": -0.293,
    "ganske": -0.1,
}
_NEGATORS = frozenset(["ikke", "ikkje", "aldri", "ingen", "intet", "inga", "ingenting", "verken"])
# "Ikke" right after these words negates them (V2 order: "anbefales ikke").
_PREFIXES = ("kjempe", "super", "mega", "drit")
_N_SCALAR = -0.74  # VADER's factor for a negated word
_TOKEN = re.compile(r"[a-zæøåéü]+")


def score(text: str) -> tuple[float, list[tuple[str, float]]]:
    """Return (compound in [-1, 1], [(phrase, valence)] that contributed)."""
    tokens = _TOKEN.findall(text.lower())
    total = 0.0
    hits: list[tuple[str, float]] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        valence = LEXICON.get(tok)
        phrase = tok
        if valence is None:
            if not tok.startswith(_PREFIXES):
                continue
            # "kjempefornøyd", "superhyggelig", "drittdårlig": prefix boosts the root.
            for prefix in _PREFIXES:
                if tok.startswith(prefix) and tok[len(prefix) :] in LEXICON:
                    root = LEXICON[tok[len(prefix) :]]
                    valence = root + (0.6 if root > 0 else -0.6)
                    if prefix == "drit":  # "dritbra" is praise, "dritdårlig" is not
                        valence = root * 1.3
                    break
            if valence is None:
                continue
        if i > 0 and tokens[i - 1] in _INTENSIFIERS:
            boost = _INTENSIFIERS[tokens[i - 1]]
            valence += boost if valence > 0 else -boost
            phrase = f"{tokens[i - 1]} {tok}"
        before = tokens[max(0, i - 3) : i]
        after = tokens[i + 1 : i + 2] if i + 1 < n else []
        if any(t in _NEGATORS for t in before) or any(t in _NEGATORS for t in after):
            valence *= _N_SCALAR
            neg = next((t for t in before if t in _NEGATORS), None)
            phrase = f"{neg} {phrase}" if neg else f"{phrase} {after[0]}"
        total += valence
        hits.append((phrase, round(valence, 2)))
    if "!" in text and total:
        # VADER's exclamation emphasis, capped the same way (max 3 marks, 0.292 each).
        emphasis = min(text.count("!"), 3) * 0.292
        total += emphasis if total > 0 else -emphasis
    compound = total / math.sqrt(total * total + 15) if total else 0.0
    return compound, hits
