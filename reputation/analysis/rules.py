"""Phrase rules (English and Norwegian bokmål), compiled once at import.

A text is prepared once (`prepare`):
- `low`: lower-cased, typographic quotes unified, letters spaced out with single
  separators joined ("k i l l  y o u" -> "kill you": a double space still separates
  words), whitespace collapsed. Used for spam, questions and severity, where digits
  and "$" carry meaning.
- `norm`: `low` with cheap evasion tricks undone: accented look-alike letters ("ŷou",
  "ţo": NFKD, combining marks dropped, æøå kept), leetspeak (k1ll, b!tch, $hoot) and
  stretched letters ("diiiie" -> "die"). Used for threats and harassment. Stretching
  is squeezed to one letter, so patterns spell doubled letters as `l{1,2}` (kil{1,2}).
- `tokens`: the set of words of `norm`.

Speed: Python's regex engine tries every alternative at every position, so scanning
a review with ~45 threat patterns cost ~0.3 ms. Instead every rule names *anchor*
words, at least one of which any match must contain, and a rule's regex only runs when
an anchor is among the text's tokens (a set lookup). Most reviews contain no anchor of
most rules, so most regexes never run. When adding a pattern, list its anchors: a
pattern whose anchors are wrong silently never fires (the tests catch this per rule).
A rule may also name `also` words, one of which must be present too (a wish rule needs
"hope"/"wish" and a violent word): the regex then runs only when both kinds occur.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------
# Preparation
# ---------------------------------------------------------------------------------------
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_SPACED_OUT = re.compile(r"\b(?:[a-zæøå0-9][ .\-_*]){2,}[a-zæøå0-9]\b")  # k i l l, k.i.l.l
_SPACED_SEPARATOR = re.compile(r"[ .\-_*]")
_MASK_IN_WORD = re.compile(r"(?<=[a-zæøå])[!|](?=[a-zæøå])")  # b!tch, k|ll
_DOLLAR_IN_WORD = re.compile(r"(?<=[a-z])\$|\$(?=[a-z])")  # a$$hole, $hoot
# Leetspeak is undone only in words that mix letters and digits/symbols ("k1ll", "sh0ot",
# "@sshole"), so that numbers ("12 gauge", "24/7") keep their meaning.
_LEETABLE = re.compile(r"[\d@]")
# A whole run of word characters holding both a letter and a digit/symbol. Anchored at
# run starts: the unanchored form retried its leading [\w@$]* at every position and was
# a fifth of all analysis time on texts with dates or prices.
_MIXED_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-zæøå])(?=[\w@$]*[\d@$])[\w@$]+")
_STRETCHED = re.compile(r"([a-zæøå])\1{2,}")  # diiiie -> die
_LONG_RUN = re.compile(r"([a-z0-9])\1{9,}")  # aaaaaaaaaa, 1111111111
# Punctuation -> space, so that str.split() yields the words (much faster than a regex).
_PUNCT_TO_SPACE = str.maketrans(
    {c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u2013\u2014\u2026\u00ab\u00bb\u201c\u201d"}
)


@dataclass(frozen=True, slots=True)
class Prepared:
    low: str
    norm: str
    tokens: frozenset[str]
    token_list: tuple[str, ...]
    stretched: bool  # the text had a letter repeated 3+ times


def _join_spaced(match: re.Match[str]) -> str:
    return _SPACED_SEPARATOR.sub("", match.group(0))


_SPACED_WORD = re.compile(r"(?<!\S)\S[.\-_*]\S[.\-_*]\S")  # a word like "k.i.l.l"


def _maybe_spaced_out(words: list[str], low: str) -> bool:
    """Cheap pre-check for `_SPACED_OUT`: three one-letter words in a row, or a word
    like "k.i.l.l" (the regex itself costs as much as the rest of preparation). Both
    tests start with a C-level filter, as most texts pass neither."""
    lengths = list(map(len, words))
    if lengths.count(1) >= 3:
        run = 0
        for length in lengths:
            run = run + 1 if length == 1 else 0
            if run == 3:
                return True
    if "." in low or "-" in low or "_" in low or "*" in low:
        return _SPACED_WORD.search(low) is not None
    return False


def lower(text: str) -> str:
    low = text.lower()
    if not low.isascii() or "`" in low:
        low = low.translate(_QUOTES)  # str.translate is slow; most text needs nothing
    words = low.split()
    if _maybe_spaced_out(words, low):
        words = _SPACED_OUT.sub(_join_spaced, low).split()
    return " ".join(words)


def _unleet(match: re.Match[str]) -> str:
    return match.group(0).translate(_LEET)


# Letters NFKD may change: anything outside ASCII and æøå (a C-level pre-check; most
# Norwegian text has nothing else and skips normalisation).
_FOLDABLE = re.compile(r"[^\x00-\x7fæøåÆØÅ\u2018\u2019]")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(low: str) -> str:
    """Accents and look-alike letters folded to plain letters ("ŷou" -> "you", "ţo" ->
    "to", full-width "ｋｉｌｌ" -> "kill"), keeping Norwegian æ, ø and å (NFKD splits å into
    a + ring, which is put back). Only for the threat/harassment view of the text."""
    if low.isascii() or not _FOLDABLE.search(low):
        return low
    if "ı" in low:  # dotless i has no decomposition
        low = low.replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", low)
    if decomposed == low:
        return low
    if "a\u030a" in decomposed:
        decomposed = decomposed.replace("a\u030a", "\x00")
        return _COMBINING.sub("", decomposed).replace("\x00", "å")
    return _COMBINING.sub("", decomposed)


def prepare(text: str) -> Prepared:
    low = lower(text)
    norm = fold(low)
    norm = _MIXED_WORD.sub(_unleet, norm) if _LEETABLE.search(norm) else norm
    if "!" in norm or "|" in norm:
        norm = _MASK_IN_WORD.sub("i", norm)
    if "$" in norm:
        norm = _DOLLAR_IN_WORD.sub("s", norm)
    norm, stretched = _STRETCHED.subn(r"\1", norm)
    token_list = tuple(norm.translate(_PUNCT_TO_SPACE).split())
    return Prepared(low, norm, frozenset(token_list), token_list, bool(stretched))


# ---------------------------------------------------------------------------------------
# Rules with anchors
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rule:
    anchors: frozenset[str]  # run only if one of these words is a token of the text
    substrings: tuple[str, ...]  # ... or one of these occurs anywhere in the text
    pattern: re.Pattern[str]
    # and, if not empty, one of these words is a token too: a second word every match
    # needs ("hope" and a violent word), so that common anchors do not run the regex
    also: frozenset[str] = frozenset()


class RuleSet:
    """Rules indexed by anchor word: finding the rules to run costs one dict lookup per
    token of the text instead of one set intersection per rule."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        by_word: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            for word in rule.anchors:
                by_word.setdefault(word, []).append(i)
        self._by_word = {w: tuple(ix) for w, ix in by_word.items()}
        self._words = frozenset(self._by_word)
        self._by_substring = [(sub, i) for i, r in enumerate(rules) for sub in r.substrings]

    def applicable(self, prep: Prepared, text: str) -> list[Rule]:
        hits: set[int] = set()
        by_word = self._by_word
        # The C-level intersection leaves only the few anchor tokens to visit in Python.
        for token in prep.tokens & self._words:
            hits.update(by_word[token])
        for sub, i in self._by_substring:
            if i not in hits and sub in text:
                hits.add(i)
        rules = self.rules
        tokens = prep.tokens
        return [
            rules[i]
            for i in sorted(hits)
            if not rules[i].also or not tokens.isdisjoint(rules[i].also)
        ]


def _set(words: str) -> frozenset[str]:
    """Word set from a space-separated list (keeps long word lists readable)."""
    return frozenset(words.split())


def _w(words: str) -> str:
    """Regex alternation from space-separated words ("a b" -> "(?:a|b)"); an escaped
    space ("blow\\ up") stays inside one alternative."""
    parts = re.split(r"(?<!\\)\s+", words.strip())
    return "(?:" + "|".join(p.replace("\\ ", " ") for p in parts) + ")"


def _forms(words: str) -> set[str]:
    """Inflected and squeezed forms of English verbs, for anchors (a superset is fine)."""
    out: set[str] = set()
    for w in words.split():
        stem = w[:-1] if w.endswith("e") else w
        for form in (w, w + "s", w + "es", w + "d", stem + "ed", stem + "ing"):
            out.update((form, re.sub(r"(.)\1", r"\1", form)))
        out.update((w + w[-1] + "ed", w + w[-1] + "ing"))  # stab -> stabbed
    return out


def _rule(
    anchors: str | set[str],
    pattern: str,
    substrings: tuple[str, ...] = (),
    also: str | set[str] = "",
) -> Rule:
    words = set(anchors.split()) if isinstance(anchors, str) else anchors
    second = set(also.split()) if isinstance(also, str) else also
    return Rule(frozenset(words), substrings, re.compile(pattern), frozenset(second))


def run_rules(rules: RuleSet, prep: Prepared, text: str, limit: int = 3) -> list[str]:
    """Distinct matched phrases of the rules that apply, in rule order, at most `limit`."""
    found: list[str] = []
    for rule in rules.applicable(prep, text):
        for match in rule.pattern.finditer(text):
            phrase = match.group(0).strip(" .,!?")
            if phrase and phrase not in found:
                found.append(phrase)
                if len(found) >= limit:
                    return found
    return found


# ---------------------------------------------------------------------------------------
# Threats (to people or premises). Recall first: a missed threat is the worst error.
# Hyperbole is excluded by *structure*, not by a list of idioms: a threat needs an
# intent/modal construction AND a human or premises target ("I will kill you"), so
# "the wait killed me", "killer service", "this pain is killing me" and "I'd kill for
# their cheesecake" (target "for ...") never match.
# ---------------------------------------------------------------------------------------
# Person nouns a threat can be aimed at, singular and plural (`_plural` adds s/es):
# clinic roles, kin, generic people words, the groups hate speech targets, and insults
# used as nouns. A determiner and up to two modifiers may precede ("that trans person",
# "the next gay person", "their fucking doctor").
_PERSON_NOUNS = (
    "doctor dr dentist nurse staff owner receptionist manager surgeon hygienist therapist "
    "employee worker boss family kid wife husband daughter son mother mom mum dad father "
    "girlfriend boyfriend man woman guy girl boy lady gentleman person human baby patient "
    "client customer neighbou?r friend folk bitch bastard idiot cunt whore asshole fucker "
    "pig dog muslim jew christian catholic immigrant migrant refugee foreigner arab mexican "
    "gay lesbian homosexual transgender tranny queer feminist liberal conservative democrat "
    "republican leftist nationalist protester protestor rioter cop officer politician "
    "journalist animal savage rat nigger nigga faggot fag retard kike spic chink paki wetback "
    "gook raghead towelhead team crew gang desk"
)
_IRREGULAR_PLURALS = "people men women children ladies babies families police scum vermin"
_PERSON = _w(" ".join(f"{n}(?:s|es)?" for n in _PERSON_NOUNS.split()) + " " + _IRREGULAR_PLURALS)
# Groups named without a determiner: "kill immigrants", "get rid of gay people".
_GROUP = (
    r"(?:[\w-]+ )?(?:people|persons|folks|women|men|children|kids|humans|muslims|jews|"
    r"christians|immigrants|migrants|refugees|foreigners|arabs|mexicans|gays|lesbians|"
    r"homosexuals|transgenders|trannies|queers|feminists|liberals|leftists|protesters|"
    r"protestors|rioters|cops|niggers|niggas|faggots|fags|retards|kikes|spics|chinks|pakis)"
)
_PLACE = _w(
    "place clinic office building shop store practice house home salon spa business "
    "restaurant hospital surgery premises establishment joint dump cars? school windows? "
    "tires tyres"
)
_DET = _w(
    "the this that your ur yo their his her those these ya a an any every each all some thy "
    r"one\ of\ (?:the|those|these|your) every\ single all\ of\ (?:the|these|those)"
)
# Pronouns end at a word boundary: without it "u" matched the start of "underlying"
# and "us" ("shoot us a message"), "ya"/"yo" of "yard"/"your", "her" of "here".
_PRON = r"(?:you|u|ya|yall|y'all|you all|him|her|them|em|thee)\b"
# A human target: pronoun, everyone/someone, determiner + person noun, a group, a name.
_HUMAN = (
    rf"(?:{_PRON}|every(?:one|body|1)\b|(?:some|any)(?:one|body)\b"
    r"|every (?:last |single )?one of (?:you|u|them|(?:those|these|the) (?:[\w-]+ ){0,2}?\w+|\w+)\b"
    r"|who(?:m)?ever\b|(?:the )?(?:whole )?lot of (?:you|u|ya|them)\b"
    r"|all of (?:you|u|them)\b"
    rf"|{_DET} (?:[\w-]+ ){{0,2}}{_PERSON}\b|{_GROUP}\b|dr\.? \w+|(?:mr|mrs|ms)\.? \w+)"
)
_TARGET = rf"(?:{_HUMAN}|{_DET} (?:\w+ )?{_PLACE}\b)"
# What may follow a target without making the phrase harmless: "shoot you a message",
# "burn you a copy", "kick them out of the practice", "hurt the doctor's reputation".
_NOT_HARM = (
    r"(?! (?:a|an|some|over|me|us) (?:\w+ )?(?:message|e-?mail|mail|text|note|line|dm|pm|call|"
    r"look|reply|copy|cd|link|invite|quote|smile|glance|letter|review)s?\b| out of\b|')"
)
# Words that may sit between the subject and the violent verb ("I will fucking kill",
# "we're gonna come back and burn"). Negations are deliberately absent ("I would never").
_MODAL = _w(
    "'ll 'd 'm 're 'ma ll d m re will wil would could shall shalt should might am are gonna "
    "gona going gon finna to want wanna about plan intend swear promise just really literally "
    "fucking fuckin fkn definitely personally gladly happily totally actually come coming and "
    "back go then so i gotta have need must can myself ourselves find track you down keep "
    "start one day soon"
)
_VIOLENT_WORDS = (
    "kill murder shoot stab strangle choke beat bash punch hurt rape slit slaughter butcher "
    "torch burn bomb blow gut behead hang lynch execute break smash kick attack assault "
    "poison torture drown mutilate maim massacre exterminate decapitate smack slap whack "
    "stomp suffocate smother castrate crucify shank eradicate"
)
_VIOLENT = _w(
    r"kil{1,2} murder sho{1,2}t stab{1,2} strangle choke beat bash punch hurt rape slit "
    r"slaughter butcher torch burn bomb blow\ up gut{1,2} behead hang lynch execute break smash "
    r"kick attack assault poison run\ over pepper\ spray mace tase taze torture drown mutilate "
    r"maim massacre exterminate decapitate smack slap{1,2} whack stomp suffocate smother "
    r"castrate crucify shank eradicate"
)
_INFL = r"(?:s|es|ed|d|en|ing|in)?"
_VIOLENT_ANCHORS = _forms(_VIOLENT_WORDS) | _set(
    "kil shot burnt broke broken hung beaten blew blown run ran pepper mace tase taze "
    "stabin slapin killin shootin beatin"
)
# Verbs only aimed at people count: "eradicate those people", not "eradicate the infection".
_HUMAN_ONLY_VERBS = _w(r"eradicate exterminate eliminate wipe\ out")
# "get rid of" / "put an end to" a person is also how a patient says "stop using this
# dentist": only a group counts ("get rid of those people", "put an end to all X").
_GROUP_TARGET = (
    rf"(?:{_GROUP}|(?:all|those|these|every|each|any)(?: of (?:the|those|these))? "
    rf"(?:[\w-]+ ){{0,2}}?{_PERSON})\b"
)
_SUBJECT_WORDS = "i we ima imma ill im let lets me"
_SUBJECT = (
    r"\b(?:i|we|ima|imma|i'ma|ill|im|let's|lets|let us"
    r"|me and my (?:\w+ )?(?:boys|friends|brothers?))\b"
)
_BODY = _w(
    "throats? necks? heads? faces? skulls? legs? arms? jaws? knees? kneecaps? bones balls "
    "ass(?:es)? eyes? brains? guts hands? fingers? noses? spines? genitals"
)
_BODY_WORDS = (
    "throat throats neck necks head heads face faces skull skulls leg legs arm arms jaw jaws "
    "knee knees kneecap kneecaps bones balls ass asses eye eyes brain brains guts hand hands "
    "finger fingers nose noses spine spines genitals"
)
_BODY_VERB = (
    "cut slit break snap smash crush rip bash punch kick stab shoot blow cave sever chop "
    "slice slash gouge tear stomp mutilate wring"
)
_BODY_VERB_RE = _w(_BODY_VERB.replace("stab", "stab{1,2}").replace("shoot", "sho{1,2}t"))
_BODY_ANCHORS = _forms(_BODY_VERB) | _set("broke broken tore torn shot stabbed cutting")
# Violent past participles, for passive, normative and wished forms ("should be shot",
# "ought to be executed", "I wish they would be shot"). "fired" (dismissed) is absent on
# purpose; "shot down" (an idea), "hung up" (a phone) and "executed properly" (a plan)
# are excluded after the participle.
_PARTICIPLE = (
    r"(?:shot(?! down)|killed|hanged|hung(?! up| out| on)|murdered|stabbed|lynched|beaten|"
    r"executed(?! (?:properly|correctly|well|better|carefully|quickly|flawlessly|as|on|by|in|"
    r"with|according))|burn(?:ed|t) (?:at the stake|alive|to death)|tortured|gassed|"
    r"exterminated|slaughtered|strangled|drowned|beheaded|decapitated|castrated|raped|"
    r"butchered|massacred|mutilated|maimed|crucified|stoned(?: to death)|lined up and shot|"
    r"hunted down|skinned alive|run over|put to death|nuked|bombed|put in (?:the|a|their|his|"
    r"her) (?:ground|graves?)|put six feet under|taken out back(?: and shot)?|strung up)"
)
_PARTICIPLE_ANCHORS = _set(
    "taken strung "
    "shot killed hanged hung murdered stabbed lynched beaten executed burned burnt tortured "
    "gassed exterminated slaughtered strangled drowned beheaded decapitated castrated raped "
    "butchered massacred mutilated maimed crucified stoned lined hunted skinned run put "
    "nuked bombed"
)
_PLACE_DET = _w("the this that your ur their his her those these ya")
_PREMISES_VERB = _w(
    r"burn(?:s|ing)? torch(?:es|ing)? fire\ ?bomb(?:s|ing)? bomb(?:s|ing)? blow(?:s|ing)?\ up "
    r"sho{1,2}t(?:s|ing)?\ up set\ fire\ to set\ on\ fire"
)
_PREMISES_ANCHORS = "burn burns burning torch torches torching firebomb bomb bombs bombing blow "
_PREMISES_ANCHORS += "blows blowing shoot shot shoots shooting set fire"
_WEAPON = _w(
    r"guns? rifles? shotguns? pistols? knife knives machetes? axes? (?:baseball\ )?bats? bomb "
    r"ak ak-?47 ar-?15 glock 12\ gauge weapons? explosives? crowbars? hammers? acid"
)
_WEAPON_ANCHORS = "gun guns rifle shotgun pistol knife knives machete axe bat bomb ak ak47 weapon "
_WEAPON_ANCHORS += (
    "weapons explosive explosives ar15 ar glock gauge rifles shotguns pistols machetes "
)
_WEAPON_ANCHORS += "axes bats baseball crowbar crowbars hammer hammers acid"
_YOU_WILL = (
    r"(?:you|u|ya)(?:'ll|ll| will| wil|'re going to| are going to| r going to| re going to|"
    r"'re gonna| are gonna| gonna| going to)"
)

THREAT_EN = [
    # "I will kill you", "we're gonna come back and shoot the doctor"
    _rule(
        _VIOLENT_ANCHORS,
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} {_VIOLENT}{_INFL} "
        rf"(?:(?:up|down|out|at|on|off|in|into|the fuck out of|the hell out of) )?{_TARGET}"
        rf"{_NOT_HARM}(?: down| to the ground| to death)?",
        also=_SUBJECT_WORDS,
    ),
    # verbs that are only threats when aimed at people: "we should get rid of X", "let's
    # eradicate those X", "we are going to put an end to all X", "make those X suffer"
    _rule(
        "eradicate eradicating exterminate exterminating eliminate eliminating rid end wipe "
        "make suffer bleed",
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:{_HUMAN_ONLY_VERBS}{_INFL} "
        rf"(?:all )?{_HUMAN}|(?:get rid of|put an end to) {_GROUP_TARGET}|put an end to {_PRON}"
        rf"|make {_HUMAN} (?:suffer|bleed|scream|beg for (?:mercy|death)))"
        rf"{_NOT_HARM}",
    ),
    # by proxy: "I'll have the doctor killed", "we will get him beaten up"
    _rule(
        _PARTICIPLE_ANCHORS | _set("hurt"),
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:have|get|see) {_HUMAN} "
        rf"(?:{_PARTICIPLE}|beaten up|hurt|taken out)\b",
        also=_SUBJECT_WORDS,
    ),
    # ending a life: "I want to end every X's life", "arrange to have your life terminated"
    _rule(
        "life lives",
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:end|take|terminate) "
        r"(?:your|ur|his|her|their|thy|every|all|those|these|that|the|a|an)(?: [\w-]+){0,2}?"
        r"(?:'s|s')? li(?:fe|ves)\b(?! savings| insurance| sentence| policy| support)"
        r"|\b(?:have|get|see) (?:your|ur|his|her|their) li(?:fe|ves) (?:terminated|ended|taken)\b",
    ),
    # spaced-out words joined by normalisation: "k i l l y o u" -> "killyou"
    _rule(
        "",
        r"\b(?:i(?:wil{1,2}|l{1,2}|am|m)?(?:gonna|goingto)?)?(?:kil{1,2}|murder|sho{1,2}t|stab|"
        r"rape)(?:you|u|ya|yall|him|her|them)\b",
        substrings=("kil", "murder", "shot", "shoot", "stab", "rape"),
    ),
    _rule(
        "destroy end ruin finish",
        r"\b(?:i|we)(?:'ll| will|ll| am going to|'m going to|'m gonna| am gonna) "
        r"(?:destroy|end|ruin|finish) (?:you|u|ya|him|her|them)\b(?! off (?:with|the))",
    ),
    # "I'll come back with a gun", "we will bring a knife"
    _rule(
        _WEAPON_ANCHORS,
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:bring|brings|bringing|carry|get|"
        rf"grab|load|pull out|show up with|come back with|coming back with|come with|"
        rf"coming with|return with|be back with|be (?:outside|there|waiting)(?: \w+){{0,2}}? with)"
        rf"(?: a| my| the| our| some)? {_WEAPON}\b",
    ),
    # sentence-initial dropped subject: "gonna kill you", "about to burn this place",
    # and the bare "kill you" / "shoot u all" of short abusive posts
    _rule(
        _VIOLENT_ANCHORS,
        rf"(?:^|[.!?,] )(?:gonna|going to|finna|about to) {_VIOLENT} {_TARGET}{_NOT_HARM}",
        also="gonna going finna about",
    ),
    _rule(
        "kil kill killl murder shot shoot stab rape",
        r"(?:^|[.!?,] )(?:kil{1,2}|murder|sho{1,2}t|stab|rape) (?:you|u|ya|yall|y'all)\b",
    ),
    # body-part violence: "slit your throat", "break your legs"
    _rule(
        _BODY_ANCHORS,
        rf"\b{_BODY_VERB_RE}{_INFL} (?:off |of |in |out |open )?(?:both |all )?"
        rf"(?:your|ur|yo|his|her|their|there|thier|thy|thine) (?:[\w-]+ ){{0,2}}?{_BODY}\b"
        # "wring that nurse's neck"
        rf"|\b{_BODY_VERB_RE}{_INFL} (?:off |in |out )?(?:that|the|this|your|his|her|their) "
        rf"(?:[\w-]+ ){{0,2}}?\w+'s {_BODY}\b"
        # "snap that X neck of yours", "snap the necks of all those X"
        rf"|\b{_BODY_VERB_RE}{_INFL} (?:that|this|the) (?:[\w-]+ ){{0,2}}?{_BODY} of "
        r"(?:yours|his|hers|theirs|(?:all |every |each )?(?:those|these|the|you|them)\b)",
        also=_BODY_WORDS,
    ),
    # passive: "if only X like you all had their throats cut"
    _rule(
        "cut slit slashed smashed bashed broken crushed snapped ripped blown caved kicked "
        "chopped severed gouged",
        rf"\b(?:had|have|has|get|gets|got|getting) (?:their|your|ur|his|her|thy) "
        rf"(?:[\w-]+ ){{0,2}}?{_BODY} (?:cut|slit|slashed|smashed|bashed|broken|crushed|snapped|"
        r"ripped|blown|caved|kicked|chopped|severed|gouged)\b",
    ),
    # "beat a protesters ass", "kick every one of their asses"
    _rule(
        "beat kick whoop whup",
        r"\b(?:beat|kick|whoop|whup)(?:ing)? (?:a|the|some|every|these|those|that|this) "
        r"(?:\w+ ){0,2}?\w+(?:'s|s'|s)? (?:ass|asses|arse)\b",
    ),
    _rule(
        "bullet knife blade bat",
        rf"\b(?:bullet|knife|blade|bat) (?:in|through|into) (?:your|ur|his|her|their) {_BODY}\b",
    ),
    _rule(
        "beat beating choke choking strangle squeeze kick knock",
        r"\b(?:beat|beating|choke|choking|strangle|squeeze|kick|knock) (?:the )?(?:living )?"
        r"(?:shit|crap|hell|life|daylights) out of\b",
    ),
    # "put a bullet in that dentist", "slap the smile off your face", "knock your teeth out"
    _rule(
        "bullet bullets knife blade rounds slug",
        rf"\b(?:put|pump|stick|plant|sink|bury|shoot)\w* (?:a |some |\d+ )?(?:bullets?|knife|"
        rf"blade|rounds|slugs?) (?:in|into|through) (?:{_HUMAN}|(?:your|ur|his|her|their) "
        rf"{_BODY})"
        # "the receptionist gets a knife in the ribs" ("a knife in the back" is an idiom)
        r"|\b(?:gets?|getting|got|give \w+|deserves?) (?:a |some )?(?:knife|bullet|blade|bat|"
        r"brick)s? (?:in|to|through) the (?:ribs|head|face|chest|gut|belly|neck|throat|skull|"
        r"heart|knees?)\b",
    ),
    # "put that dentist in a body bag", "will be found in a ditch"
    _rule(
        "bag grave ditch",
        r"\b(?:in|into) a (?:body ?bag|shallow grave)\b"
        r"|\b(?:will|'ll|gonna|going to) be found (?:dead|in a (?:ditch|river|dumpster))\b",
    ),
    # veiled: "you'd better pray I don't find you"
    _rule(
        "pray hope",
        r"\b(?:better|should) (?:pray|hope) (?:that )?(?:i|we) (?:don'?t|never|do not) (?:find|see|"
        r"catch|meet) (?:you|u|him|her|them)\b",
    ),
    _rule(
        "smile smirk grin teeth",
        r"\b(?:slap|wipe|knock|punch|smack)\w* (?:the|that) (?:smile|smirk|grin) off "
        r"(?:your|ur|his|her|their) face\b"
        r"|\bknock\w* (?:your|ur|his|her|their|thy) (?:\w+ )?(?:teeth|lights|block|head) "
        r"(?:out|in|off)\b",
    ),
    # "I'd like to punch the receptionist in the face"
    _rule(
        "punch punching hit hitting smack slap kick kicking stab shoot headbutt",
        rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}| like| love){{0,6}} (?:punch|hit|smack|slap|"
        rf"kick|stab|shoot|headbutt){_INFL} {_HUMAN} (?:right )?(?:in|on) (?:the|his|her|their|"
        rf"your|ur) {_BODY}",
        also=_SUBJECT_WORDS,
    ),
    # third person, future passive: "the receptionist is going to get stabbed"
    _rule(
        _PARTICIPLE_ANCHORS | _set("hurt"),
        rf"\b{_HUMAN} (?:is|are|'s|'re|will)(?: going to| gonna)? (?:get|be) (?:{_PARTICIPLE}|"
        r"hurt)\b(?! (?:by|with) (?:the|their|this|that) (?:prices?|bill|fees?|costs?))",
        also="going gonna will",
    ),
    # "your kids won't be safe" (reader-warning guard applies: "... won't be safe here")
    _rule(
        "safe",
        r"\b(?:you|u|your (?:kids|children|family|wife|husband|daughter|son|staff))"
        r"(?: will| won'?t|'re| are| aren'?t)(?: not| never)?(?: be)? safe\b"
        r"(?! (?:here|there|at|in|with|from (?:the|their)))",
    ),
    # commands and wishes against a group: "kill all protesters", "shoot these animals"
    _rule(
        "kill murder shoot stab slaughter hang lynch behead bomb gun mow torture drown "
        "exterminate gas nuke execute rape strangle massacre",
        r"\b(?:kill|murder|shoot|stab|slaughter|hang|lynch|behead|bomb|gun down|mow down|torture|"
        r"drown|exterminate|gas|nuke|execute|rape|strangle|massacre) "
        r"(?:all|every|these|those|each)(?: of)?(?: the| them| these| those)? ?"
        r"(?!(?:the|these|those|germs?|bacteria|bugs?|pests?|weeds?|pain|time|hair|mood|vibes?|nerves?|"
        r"calories|cells?|viruses?|odou?rs?|sorrows?|plans?|orders?|tasks?|photos?|pictures?|"
        r"pics?|shots?|e?mails?|messages?|lights?|fat|files?|records?|papers?|documents?|"
        r"candles?|insects?|mice|flies|mosquito(?:e?s)?|cockroach(?:es)?|ideas?)\b)\w+",
    ),
    # vehicles as weapons: "run them over", "should have ran these fucks over", "plow through"
    _rule(
        "run ran running runnin plow plough ram mow em",
        r"\b(?:run|ran|running|runnin|plow|plough|ram|mow)(?:'em| em| them| these \w+| those \w+|"
        r" all of (?:them|these|those)(?: \w+)?| every one of (?:them|these|those)(?: \w+)?|"
        r" you| u| yall)(?: \w+)? (?:over|down)\b"
        r"|\b(?:run|ran|running|runnin) over (?:them|these|those|the protesters|the crowd|people|"
        r"everyone|you|u|yall)\b",
        substrings=("'em over",),
    ),
    _rule("run ran running runnin", rf"\b(?:run|ran|running|runnin) {_HUMAN} over\b", also="over"),
    _rule(
        "drive drove driving plow plough ram mow",
        r"\b(?:drive|drove|driving|plow|plough|ram|mow) (?:right |straight )?"
        r"(?:through|thru|though|into) (?:them|em|these|those|the crowd|the protesters|people|"
        r"everyone)\b",
    ),
    # ultimatums: "move or get shot", "stop editing or die"
    _rule(
        "die smoked shot hit killed hurt stabbed",
        r"\b(?<!do )or (?:you )?(?:get|be) (?:smoked|shot|hit|run over|killed|hurt|stabbed)\b"
        r"|\b(?<!do )(?:or|then) (?:just )?(?:go )?(?:fucking )?die\b"
        r"(?! (?:laughing|trying|of|from|happy|old|young|in my sleep))",
    ),
    # weapon gestures: "*slowly grabs 12 gauge*", "loads my shotgun"
    _rule(
        _WEAPON_ANCHORS,
        rf"\b(?:grabs?|grabbing|reaches for|reaching for|loads?|loading|cocks?|racks?|pulls? out)"
        rf" (?:my |the |a |his |her |their )?{_WEAPON}",
    ),
    _rule(
        "safe harmed",
        r"\b(?:are|is|'re|re) not safe from (?:me|us)\b"
        r"|\bwill be (?:harmed|hurt|killed|shot) now\b",
    ),
    # premises: "burn this place down", "burn down the clinic", "bomb the office"
    _rule(
        _PREMISES_ANCHORS,
        rf"\b{_PREMISES_VERB} (?:down )?(?:it|{_PLACE_DET} (?:\w+ )?{_PLACE}"
        rf"|{_PLACE_DET} (?:whole )?\w+) (?:down|to the ground)\b",
    ),
    _rule(
        _PREMISES_ANCHORS,
        rf"\b{_PREMISES_VERB} (?:down )?{_PLACE_DET} (?:whole |fucking |damn )?(?:\w+ )?{_PLACE}\b",
    ),
    _rule(
        "burn burns burning", r"\bburn(?:s|ing)? (?:it|them|you|u|yall|everything) (?:all )?down"
    ),
    _rule(
        "bomb",
        r"\b(?:plant(?:ed|ing)?|place|leave|left|put|there(?:'s| is| will be)) (?:a )?"
        r"(?:pipe |car |nail )?bomb\b",
    ),
    _rule("threat", r"\b(?:bomb|terror|shooting) threat\b"),
    _rule("pipebomb pipe", r"\bpipe ?bomb"),
    # direct second-person threats
    _rule(
        "die hurt shot coming next bleed suffer",
        rf"\b(?:you|u|ya)(?: and (?:your|ur) \w+)?{_YOU_WILL[len('(?:you|u|ya)') :]}"
        r"(?: (?:fucking|soon|all|surely|definitely|slowly))? "
        r"(?:die|get hurt|get shot|get what'?s coming|be next|bleed|suffer)\b"
        r"(?! a (?:little|bit)| for (?:hours|ages|a while)| through"
        r"| in (?:the|that) (?:chair|queue))"
        r"(?! (?:of|from) (?:boredom|old age|laughter|laughing|embarrassment|shame|thirst|"
        r"hunger)| waiting| laughing| before| in (?:the|their|that) waiting)",
    ),
    _rule(
        "dead",
        r"\b(?:you|u)(?:'re| are| r|re) (?:so |fucking )?(?:dead|a dead (?:man|woman))\b"
        r"|\b(?:he|she|they)(?:'s| is|'re| are) (?:a )?dead (?:man|woman|men)\b"
        r"(?! (?:to me|inside|wrong|right|set|serious|tired|lucky|on|in|after))",
    ),
    _rule("next", r"\b(?:you|u)(?:'re| are| r|re) next(?= ?(?:[.!,]|$))"),
    _rule("meat", r"\bdead meat\b"),
    _rule("numbered", r"\byour days are numbered\b"),
    _rule("watch", r"\b(?:better )?watch (?:your|ur|yo) (?:back|six)\b"),
    _rule(
        "eye lights walking",
        r"\bsleep with one eye open\b|\b(?:better|should) sleep with the lights on\b"
        r"|\bdead (?:man|woman|men) walking\b",
    ),
    # "you're lucky I didn't kill you", "a lesson he won't survive", "want them dead",
    # "deserve a bullet", "I'll see to it that you suffer"
    _rule(
        "lucky",
        r"\blucky (?:i|we) (?:didn'?t|did not|don'?t|haven'?t) (?:kill|shoot|stab|hurt|beat|punch|"
        r"hit|smack|slap|strangle|choke)\w* (?:you|u|him|her|them)\b",
    ),
    _rule(
        "survive", r"\blesson (?:he|she|you|they|u)(?:'ll| will)? (?:won'?t|will not|never) survive"
    ),
    _rule(
        "dead",
        rf"\b(?:want|wants|wanted|need|needs|wish|like|see) {_HUMAN} dead\b(?! (?:serious|tired|"
        r"wrong|on|set))",
    ),
    _rule(
        "bullet bullets beating",
        r"\bdeserves? (?:a bullet|bullets|a (?:good |severe )?beating|the death penalty)\b",
    ),
    _rule(
        "sure see ensure",
        rf"\b(?:make sure|see to it|ensure) (?:that )?{_HUMAN} (?:never (?:walks?|breathes?|"
        rf"wakes? up) again|suffers?\b|(?:gets?|is|are) (?:hurt|{_PARTICIPLE}))",
    ),
    _rule(
        "where car school",
        r"\b(?:i|we) know where (?:you|u|he|she|they|the \w+|your \w+) "
        r"(?:live|lives|work|works|sleep|sleeps|park|parks|stay|stays)\b"
        r"|\b(?:i|we) know (?:what|which) (?:car|school) (?:you|u|your \w+) (?:drive|drives|"
        r"go to|goes to|attend|attends)\b",
    ),
    _rule(
        "coming",
        r"\b(?:i|we)(?:'m| am|'re| are|m|re) coming (?:for|after) (?:you|u|him|her|them|your)\b",
    ),
    _rule(
        "till until til",
        r"\bwait (?:till|until|til) (?:i|we) (?:get|find|catch|see) (?:you|u|him|her|them)\b",
    ),
    _rule("hands", r"\bget (?:my|our) hands on (?:you|u|him|her|them)\b"),
    # "X will die a horrible death at my hands", "you've signed your own death warrant"
    _rule(
        "hands warrant",
        r"\b(?:die|dies|death|killed|suffer)\b[^.!?]{0,40}\bat (?:my|our) hands\b"
        r"|\bsign(?:ed)? (?:your|ur|his|her|their) (?:own )?death warrant",
    ),
    # no violent verb, still a threat: "something bad will happen to you" (subject to the
    # reader-warning guard: "if you skip flossing, something bad will happen to you")
    _rule(
        "happen happened happens",
        r"\bsomething (?:bad|terrible|awful|nasty|unfortunate|horrible) (?:will|is going to|"
        r"gonna|might|could|is about to|is gonna) happen to (?:you|u|ya|him|her|them|"
        r"your (?:family|kids|children|wife|husband|daughter|son|loved ones))\b"
        r"|\bshame if something (?:bad )?(?:happened|were to happen|happens) to\b",
    ),
    _rule(
        "see coming",
        r"\b(?:you|u)(?: will|'ll| wil|ll)? (?:won'?t|will not|wont|never|will never|'ll never) "
        r"see (?:it|us|me|this) coming\b",
    ),
    _rule(
        "looking hunting searching",
        r"\b(?:i|we)(?:'ll| will| might| may|'re going to| are going to|'m going to| am going to|"
        r"'re gonna| are gonna|'m gonna)(?: \w+)? (?:start )?(?:looking|hunting|searching) for "
        r"(?:you|u|him|her|them)\b",
    ),
    _rule(
        "threat promise",
        r"\b(?:this|that|it)(?:'s| is) (?:a|not a|no|an actual|a real) threat(?= ?(?:[.!,]|$))"
        r"|\bnot a threat,? (?:it'?s |this is )?a promise",
    ),
    _rule("dead", r"\bsho{1,2}t(?:ing)? (?:you|u|him|her|them|em|every\w*) (?:all )?dead\b"),
    _rule(
        "waiting",
        r"\b(?:i|we)(?:'ll| will|ll) be waiting (?:for (?:you|u) )?(?:outside|in the parking|"
        r"after (?:work|your shift)|when you (?:get off|finish|leave)|at your (?:house|home|car))",
    ),
    _rule(
        "get",
        r"\b(?:i|we)(?:'ll| will|ll|'m going to| am going to) get (?:you|u|ya)"
        r"(?= ?(?:[.!,]|$| for| back| one day| soon| when| where))",
    ),
    _rule(
        "find hunt track",
        r"\b(?:i|we)(?:'ll| will|ll|'m going to| am going to) (?:find|hunt|track) "
        r"(?:you|u|ya|him|her|them)(?: down)?\b"
        rf"|{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:hunt|track) down {_HUMAN}",
    ),
    # "I'll set the doctor on fire", "put him in hospital", "pour acid on her face"
    _rule(
        "set fire hospital wheelchair coma morgue acid",
        rf"\bset (?:{_TARGET}) (?:on fire|alight|ablaze)\b|\bset fire to {_TARGET}"
        rf"|{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} put {_HUMAN} in (?:the |a )?"
        r"(?:hospital|wheelchair|coma|morgue|intensive care)\b"
        r"|\b(?:pour|throw|splash|toss|chuck)\w* (?:some )?acid (?:on|in|at|into|over)\b",
    ),
    # wishing or inciting death/violence
    _rule(
        "hope",
        r"\b(?:i )?hope (?:you|u|he|she|they|(?:your|the|his|her|their) [\w']+)(?: \w+){0,2} "
        r"(?:(?:die|dies)\b(?! down| off| out)|rot|burns?(?! the| some| off)|(?:chokes?|bleeds?|"
        r"burns?|starves?|freezes?) to death|gets? (?:cancer|shot|"
        r"killed|raped|hurt|stabbed))\b",
    ),
    # wishes: "I wish all X would be shot", "i hope you get bowel cancer", "I hope someone
    # cuts off your hands", "I would love to see those X suffer"
    _rule(
        "hope hoping hopes wish wishes wishing pray praying",
        rf"\b(?:hope|hoping|wish|wishing|pray|praying)(?: that)? (?:he|she|they|\w+ like you|"
        rf"{_HUMAN})(?: [\w']+){{0,3}}? (?:(?:gets?|got|be|are|were|was|is|getting) (?:all |\w+ )?"
        rf"(?:{_PARTICIPLE}|cancer|aids|hit by a (?:car|bus|truck|train))|(?:die|dies|died|rot|"
        r"rots|suffer|suffers|drop dead|croak)\b(?! down| off| out| of (?:boredom|laughter)))",
        also=_PARTICIPLE_ANCHORS
        | _set("die dies died dead rot rots cancer aids suffer suffers croak hit"),
    ),
    _rule(
        "hope hoping hopes wish wishes wishing pray praying",
        rf"\b(?:hope|wish|pray)\w*(?: that)? (?:some(?:one|body)|somebody|a \w+) "
        rf"(?:\w+ )?(?:{_VIOLENT}|cut|put an end to){_INFL} (?:off |of )?{_HUMAN}",
        also=_VIOLENT_ANCHORS | _set("cut cuts end"),
    ),
    _rule(
        _PARTICIPLE_ANCHORS | _set("suffer bleed die dead burn hang"),
        rf"\b(?:love|like|want|wanna|going|glad|happy) to see {_HUMAN} "
        r"(?:suffer|bleed|die|dead|burn|hang|(?:get |be )?(?:shot|killed|hanged|hung|executed|"
        r"murdered|tortured))\b",
    ),
    _rule(
        "die",
        r"\b(?:go|should|deserve to|deserves to|deserved to|need to|needs to|ought to|must) "
        r"(?:all |just |fucking )?die\b(?! (?:of|from|laughing|trying|waiting|for))",
    ),
    _rule("die", r"\bdie in a (?:fire|hole|ditch)\b"),
    _rule(
        "someone somebody",
        r"\bsome(?:one|body) (?:should|needs to|ought to|will|is going to|gonna) "
        r"(?:kill|shoot|stab|burn|bomb|hurt|beat|murder|hang)\b"
        r"(?! (?:the|this|that)(?: \w+)? (?:pain|time|music|mood|vibe|lights?|idea|plan)\b)"
        # more verbs, aimed at people: "if only someone would strangle those X"
        rf"|\bsome(?:one|body) (?:should|needs to|ought to|will|would|is going to|gonna|has to|"
        rf"must|could|better|please)(?: just| really| finally| fucking| go| come and)* "
        rf"(?:{_VIOLENT}|snap|cut|put an end to|get rid of) (?:off |the \w+ of (?:all )?)?{_HUMAN}",
    ),
    # normative and passive: "X ought to be executed", "should be burned at the stake",
    # "who deserved to be shot dead", "should have been hanged"
    _rule(
        _PARTICIPLE_ANCHORS,
        r"\b(?:should|shall|must|ought to|deserves?|deserved|deserving|needs?|has|have|gotta|"
        rf"had better)(?: to)?(?: (?:all|just|each|really|fucking|have|be|also|simply|"
        rf"publicly|literally))* (?:be|get|been) (?:\w+ (?:up |out )?and )?{_PARTICIPLE}\b",
        also="should shall must ought deserve deserves deserved deserving need needs has have "
        "gotta had",
    ),
    # counterfactual and conditional: "X like you would all be dead", "better off without
    # you", "if only those X were eradicated"
    _rule(
        "dead without",
        r"(?<!\bwe )(?<!\bi )\b(?:would|should|will|'d) all be dead\b"
        r"|\blike (?:you|u|them)(?: all)? (?:would|should|'d|will)(?: all)? be dead\b"
        r"|\bworld (?:would|will) be (?:a )?better (?:off|place) without (?:you|u|them|people"
        r"|(?:\w+ ){1,2}like (?:you|u|them))\b",
    ),
    _rule(
        _PARTICIPLE_ANCHORS | _set("eradicated wiped eliminated dead"),
        rf"\bif (?:all |only )?(?:those|these|all|the) (?:[\w-]+ ){{0,2}}?{_PERSON} (?:were|was|"
        rf"got|would be|could be|are)(?: all| just)? (?:{_PARTICIPLE}|eradicated|wiped out|"
        r"eliminated|dead)\b",
        also="if",
    ),
    # gerund as a norm: "murdering an X like you should be decriminalised"
    _rule(
        "killing murdering raping shooting stabbing lynching hanging torturing beating",
        r"\b(?:killing|murdering|raping|shooting|stabbing|lynching|hanging|torturing|beating) "
        r"(?:a|an|the|those|these|all|every|any) (?:[\w-]+ ){0,4}?(?:should|must|ought to) "
        r"(?:be (?:legal|legali[sz]ed|decriminali[sz]ed|allowed|encouraged|mandatory|rewarded|"
        r"a sport)|not be (?:illegal|a crime|punished|prosecuted)|n't be (?:illegal|a crime|"
        r"punished|prosecuted))\b",
    ),
    # "death to all X", "execution is the only solution for those X"
    _rule("death", r"(?<!to )\bdeath to (?!(?:be|do|say|see|me|us|it)\b)\w+"),
    _rule(
        "solution answer option cure",
        r"\b(?:execution|extermination|genocide|killing them|death|a bullet|mass murder|"
        r"the gas chamber|the rope)s? (?:is|are|would be) the (?:only|final|best|real) "
        r"(?:solution|answer|option|cure)\b",
    ),
    # premises and property: "throw a brick through ur window", "slash your tires"
    _rule(
        "brick bricks rock rocks stone stones molotov acid",
        r"\b(?:throw|throws|threw|throwing|toss|chuck|put|hurl)\w* (?:a |some )?(?:brick|rock|"
        r"stone|molotov|cocktail|acid)s? (?:through|at|into|in|on) (?:your|ur|yo|the|their|his|"
        r"her|this|that)\b",
    ),
    # veiled threats: subject to the reader-warning guard in threat_matches()
    _rule(
        "regret sorry pay",
        r"\b(?:you|u|ya|you all|yall|your (?:kids|children|family|wife|husband|daughter|son))"
        r"(?:'ll| will|ll|'re going to| are going to) (?:regret|be sorry|pay)\b"
        r"(?! (?:booking|going|choosing|coming|paying|using|visiting|"
        r"buying|trusting|it if|for (?:it|the|their|a |parking)|the (?:price|bill)|through|extra|"
        r"more|double|twice|less|full|out of|a (?:fortune|lot)|\$?\d))",
    ),
]

_NO_PERSON = _w(
    "deg dere han ham henne dem alle legen tannlegen sykepleieren personalet eieren sjefen "
    "resepsjonisten damen mannen jævelen fitta hora kjerringa familien\\ din barna\\ dine"
)
# any person or group: "en innvandrer", "alle muslimer", "de jævla folka"
_NO_PERSON = (
    rf"(?:{_NO_PERSON}|(?:en|ei|et|noen|hver) av (?:dere|dem|de)\b"
    rf"|(?:en|ei|et|alle|hver|disse|de|dem|dere) (?:[\w-]+ ){{0,2}}?(?:person|"
    r"personer|folk|folka|mann|menn|kvinne|kvinner|dame|damer|barn|unger|innvandrere?|"
    r"innvandrerne|muslimer|muslimene|muslim|jøder|jødene|jøde|homser|homsene|homse))"
)
_NO_PLACE = _w(
    "stedet klinikken kontoret huset bygget salongen butikken praksisen lokalet lokalene "
    "bilen dritten sjappa"
)
_NO_SUBJ = r"\b(?:jeg|je|eg|æ|vi|me)\b"
_NO_MODAL = _w(
    "skal ska kommer til å a vil kan må tenker har lyst bare faen jævla personlig gå komme "
    "og tilbake finne gjerne snart ha lyst\\ til"
)
_NO_VIOLENT_VERBS = (
    "drepe drep skyte skyt knivstikke stikke banke denge slå kverke voldta skade ta finne "
    "knuse sprenge brenne tenne kaste torturere henge kvele drukne halshugge utrydde"
)
_NO_VIOLENT = _w(
    _NO_VIOLENT_VERBS.replace("tenne", "tenne\\ på").replace("kaste", "kaste\\ stein\\ på")
)

THREAT_NO = [
    # "jeg skal drepe ...", "jeg kommer til å drepe": killing needs no named target
    _rule(
        "drepe drep myrde livet skyte",
        rf"{_NO_SUBJ}(?: {_NO_MODAL}){{1,6}} (?:drepe|drep|myrde|ta livet av|skyte ned)\b",
    ),
    _rule(
        _NO_VIOLENT_VERBS,
        rf"{_NO_SUBJ}(?: {_NO_MODAL}){{1,6}} {_NO_VIOLENT} "
        rf"(?:opp |ned |ihjel |livet av )?(?:{_NO_PERSON}|{_NO_PLACE})\b",
    ),
    # "jeg skal knuse trynet ditt", "slå inn kjeften hans"
    _rule(
        "knuse slå sparke knekke kutte banke",
        r"\b(?:knuse|slå inn|sparke inn|knekke|kutte over|banke inn) (?:trynet|ansiktet|fjeset|"
        r"kjeften|hodet|skallen|beina|armene|nakken|halsen|strupen) (?:ditt|din|dine|hans|"
        r"hennes|deres)\b",
    ),
    _rule("brenn brenne brenner", r"\bbrenne?r? (?:ned|opp)\b(?! i (?:munnen|halsen))"),
    _rule(
        "brenne sprenge bombe tenne sette knuse",
        rf"\b(?:brenne|sprenge|bombe|tenne på|sette fyr på|knuse) (?:ned )?{_NO_PLACE}\b",
    ),
    _rule("bombe", r"\b(?:legge|plante|sette|plassere) (?:ut )?(?:en )?bombe\b"),
    _rule("bombetrussel bombetrusel", r"\bbombe ?trus(?:el|sel)\b"),
    _rule(
        "hvor",
        r"\bvet hvor (?:du|dere|han|hun|legen|tannlegen|de) (?:bor|jobber|holder til|sover)\b",
    ),
    _rule(
        "angre svi dø betale",
        r"\b(?:du|dere) (?:skal|kommer til å|vil) (?:få )?(?:angre|svi|dø|betale for dette)\b",
    ),
    _rule("angre svi", r"\bkommer (?:du|dere) til å (?:angre|få svi)\b"),
    _rule("svi juling bank", r"\b(?:skal|du|dere) få(?:r)? (?:svi|juling|bank)\b"),
    # "jeg skal sørge for at du aldri går igjen"
    _rule(
        "sørge",
        r"\bsørge for at (?:du|dere|han|hun|legen|tannlegen) (?:aldri (?:går|våkner|puster) "
        r"(?:igjen|mer)|lider|dør|blir (?:skadet|drept|skutt))\b",
    ),
    _rule("død døde dødt", r"\b(?:du|dere) (?:er|e) (?:død|døde|et dødt)\b"),
    _rule(
        "dør dauer",
        r"\b(?:håper|ønsker) (?:at )?(?:du|dere|han|hun|legen|tannlegen) (?:\w+ )?(?:dør|dauer)\b",
    ),
    # normative: "burde skytes", "bør henges", "fortjener å bli drept", "burde blitt skutt"
    _rule(
        "skytes drepes henges brennes henrettes tortureres utryddes skutt drept hengt "
        "henrettet torturert utryddet knivstukket voldtatt dø banket slått juling død døde",
        r"\b(?:burde|bør|skulle|må|fortjener å|fortjente å)(?: (?!ikke\b)\w+){0,2}? "
        r"(?:(?:bli|blitt|ha blitt) )?(?:skytes|drepes|henges|brennes|henrettes|tortureres|"
        r"utryddes|skutt|drept|hengt|henrettet|torturert|utryddet|knivstukket|voldtatt|"
        r"banket opp|slått ihjel|juling)\b"
        r"|\bfortjen(?:er|te) å dø\b"
        r"|\b(?:burde|bør|fortjener å) (?:\w+ )?(?:ligge|være|vært|bli) (?:død|døde|drept)\b",
    ),
    # wishes: "jeg håper du dør", "skulle ønske dere var døde", "håper legen får kreft"
    _rule(
        "dør dauer døde død skutt drept voldtatt påkjørt overkjørt knivstukket kreft",
        r"\b(?:håper|ønsker|skulle ønske)(?: at)? (?:du|dere|han|hun|de|dem|\w+en|alle \w+)"
        r"(?: \w+){0,2}? (?:dør|dauer|døde|var døde?|blir (?:skutt|drept|voldtatt|påkjørt|"
        r"overkjørt|knivstukket)|får kreft)\b",
    ),
    # "død over alle X", commands against groups: "drep alle", "skyt dem"
    _rule("død", r"\bdød over (?:alle |de |dere |disse )?\w+"),
    _rule(
        "drep skyt heng knivstikk brenn voldta utrydd",
        r"\b(?:drep|skyt|heng|knivstikk|brenn|voldta|utrydd) (?:alle|dem|de|disse|dere|"
        r"hver eneste)\b(?! (?:bakteriene|bakterier|ugresset|smertene|tankene|kalorier|"
        r"kaloriene|bildene|filene|papirene))",
    ),
    # veiled: "noe vondt kommer til å skje med deg" (reader-warning guard applies)
    _rule(
        "skje hende skulderen talte komme",
        r"\bnoe (?:vondt|galt|ille|fælt|stygt) (?:kommer til å|vil|skal|kan) (?:skje|hende) "
        r"(?:med )?(?:deg|dere|familien din|barna dine)\b"
        r"|\bse (?:deg|dere) over skulderen\b|\bdagene dine er talte\b"
        r"|\b(?:du|dere) (?:kommer ikke til å|vil ikke) se det komme\b",
    ),
    # "pass deg" is a threat; "pass deg for X" ("beware of X") is a warning to readers.
    _rule(
        "pass", r"\bpass (?:deg|dere) vel\b|\bpass (?:deg|ryggen din)\b(?! for\b)|\bpass dere bare"
    ),
]

THREAT_RULES = RuleSet(THREAT_EN + THREAT_NO)

# Veiled threats that reviewers also use as warnings to *other readers*: "Don't book
# here, you'll regret it!". Such a match only counts if the sentence has no
# reader-warning cue before it.
_SOFT_THREAT = re.compile(r"\b(?:regret|be sorry|pay|angre|svi|happen|skje|hende|safe)\b")
_READER_WARNING = re.compile(
    r"\b(?:don'?t|do not|avoid|stay away|if you|or you|otherwise|trust me|believe me|"
    r"never (?:go|book)|anyone who|whoever|go elsewhere|hvis|om du|ikke gå|unngå|styr unna|"
    r"finn et annet)\b"
)


def threat_matches(prep: Prepared) -> list[str]:
    norm = prep.norm
    found: list[str] = []
    for rule in THREAT_RULES.applicable(prep, norm):
        for match in rule.pattern.finditer(norm):
            phrase = match.group(0).strip(" .,!?")
            if _SOFT_THREAT.search(phrase):
                start = max(norm.rfind(".", 0, match.start()), norm.rfind("!", 0, match.start()))
                if _READER_WARNING.search(norm, start + 1, match.start()):
                    continue
            # keep the most complete phrase: "jeg skal drepe deg" replaces "jeg skal drepe"
            if any(phrase in seen for seen in found):
                continue
            found = [seen for seen in found if seen not in phrase]
            found.append(phrase)
    return found


# ---------------------------------------------------------------------------------------
# Harassment: insults, slurs and trolling aimed at people.
# STRONG terms are abuse whatever else the text says. MILD terms ("idiot", "jævla")
# are also what angry but genuine patients write, so they only make a text harassment
# when it has no substantive complaint (see has_substance). Ambiguous English words
# ("jerk" chicken, "dust", "cope", "ugly building") are left out on purpose.
# ---------------------------------------------------------------------------------------
STRONG_ABUSE_WORDS = _set(
    "nigger niggers nigga niggas niggah faggot faggots fagot fagots fag fags retard "
    "retards retarded tranny trannies cunt cunts whore whores slut sluts kys bitch bitches "
    "kike kikes spic spics chink chinks paki pakis wetback wetbacks gook gooks raghead "
    "ragheads towelhead towelheads motherfucker motherfuckers motherfucking "
    "hore horer horen hora horunge fitte fitter fitta fittetryne kukhue kukhode kuksuger "
    "pikkhode rasshøl rævhøl mongo mongoloid neger negre soper homse pakkis"
)
STRONG_ABUSE_PHRASES = RuleSet(
    [
        # Incitement to self-harm is harassment (severity high), not a threat: it does not
        # say that anyone will harm the staff (see default.py).
        _rule(
            "yourself urself self yoself wrists wrist bleach bridge cliff roof building",
            r"\b(?:kil{1,2}|hang|neck|shoot|off) (?:your|ur|yo) ?self\b"
            r"|\b(?:slit|cut|slash) (?:your|ur|yo) wrists?\b|\bdrink (?:some )?bleach\b"
            r"|\bjump (?:off|from) (?:a|the) (?:bridge|cliff|roof|building)\b",
        ),
        _rule(
            "cow slag twat bitch",
            r"\b(?:stupid|fucking|fat|ugly|dumb|lazy|old|crazy|psycho) (?:bitch|cow|slag|twat)\b",
        ),
        _rule("suck eat hell", r"\b(?:suck my (?:dick|cock)|eat shit|go to hell|rot in hell)\b"),
        _rule("fuck", r"\bf[u*]ck (?:you|u|ya|off|yourself|urself)\b", substrings=("f*ck",)),
        _rule("", r"\bc\*nts?\b|\bb\*tch(?:es)?\b", substrings=("c*nt", "b*tch")),
        _rule(
            "selv helvete heng",
            r"\b(?:ta livet av deg selv|drep deg selv|heng deg(?! på| med| inn| etter| fast)|"
            r"dra til helvete|brenn i helvete)\b",
        ),
        _rule(
            "jævla", r"\bjævla (?:idiot|hore|fitte|kjerring|taper|dust|tulling|mongo|svin|kuk)\w*"
        ),
    ]
)
MILD_ABUSE_WORDS = _set(
    "idiot idiots moron morons moronic imbecile imbeciles cretin cretins stupid dumbass "
    "loser losers clown clowns scumbag scumbags scum asshole assholes arsehole arseholes "
    "dickhead dickheads prick pricks douche douchebag douchebags twat twats wanker wankers "
    "tosser tossers fatso idioter idioten tulling tullinger dumming teit tapere jævel "
    "jævler jævla jævlig faen fuck drittsekk drittsekker kjerring kuk pikk"
)
MILD_ABUSE_PHRASES = RuleSet(
    [
        _rule(
            "shut life cares cry dumb piece kjeft munn",
            r"\b(?:shut up|get a life|nobody cares|cry more|dumb ass|piece of shit|hold kjeft|"
            r"hold munn)\b",
        ),
    ]
)


def abuse_matches(prep: Prepared, strong: bool) -> list[str]:
    words = STRONG_ABUSE_WORDS if strong else MILD_ABUSE_WORDS
    phrases = STRONG_ABUSE_PHRASES if strong else MILD_ABUSE_PHRASES
    found = list(dict.fromkeys(t for t in prep.token_list if t in words))[:3]
    if len(found) < 3:
        found += run_rules(phrases, prep, prep.norm, limit=3 - len(found))
    return found


# Words that show the writer is describing an actual experience (the "substance" of a
# complaint) rather than only attacking someone.
SUBSTANCE_WORDS = _set(
    "appointment booked booking wait waited waiting hour hours minutes bill billed charge "
    "charged price cost paid pay refund money treatment procedure cleaning filling tooth "
    "teeth pain visit result results botox filler laser skin scar insurance cancelled "
    "canceled rude called told said prescription infection injection crown implant canal "
    "xray consultation session massage facial receptionist service time timen ventet "
    "ventetid timebestilling betalt betale pris penger regning faktura behandling "
    "behandlingen tann tenner fylling rens konsultasjon smerte smerter vondt resultat "
    "resultatet avbestilt resepsjon resepsjonen resepsjonisten undersøkelse"
)
SUBSTANTIVE_WORD_COUNT = 25


def has_substance(prep: Prepared) -> bool:
    return len(prep.token_list) >= SUBSTANTIVE_WORD_COUNT or not SUBSTANCE_WORDS.isdisjoint(
        prep.tokens
    )


# ---------------------------------------------------------------------------------------
# Spam: scored, a text is spam at SPAM_THRESHOLD. Strong cues score 2, weak cues 1:
# a link alone is not spam (patients link photos), a promo pattern alone is.
# ---------------------------------------------------------------------------------------
SPAM_THRESHOLD = 2
SPAM_STRONG = RuleSet(
    [
        _rule(
            "followers likes views subscribers subs reviews",
            r"\b(?:buy|get|gain|cheap|free) (?:\d+k? )?(?:real )?(?:instagram |ig |tiktok |yt )?"
            r"(?:followers|likes|views|subscribers|subs|reviews|5 ?star reviews)\b",
        ),
        _rule(
            "crypto cryptocurrency bitcoin btc ethereum usdt forex binary nft",
            r"\b(?:crypto(?:currency)?|bitcoin|btc|ethereum|usdt|forex|binary options?|nft)\b"
            r".{0,60}\b(?:invest|profit|earn|trading|returns?|income|signals?|wallet)|"
            r"\b(?:invest\w*|profit|earn|trading|returns?|income)\b.{0,60}\b"
            r"(?:crypto(?:currency)?|bitcoin|btc|ethereum|usdt|forex)\b",
        ),
        _rule(
            "earn make",
            r"\b(?:earn|make) \$?\d[\d,]*k?\$? (?:usd |dollars |kr )?(?:per|a|each|every|/) ?"
            r"(?:day|week|hour|month)\b",
        ),
        _rule("home", r"\b(?:work|working) from home\b.{0,40}\b(?:earn|income|\$|money)"),
        _rule("passive", r"\bpassive income\b"),
        _rule("check", r"\bcheck (?:out )?my (?:profile|page|channel|bio|account|videos?)\b"),
        _rule("visit see", r"\b(?:visit|see) my (?:profile|page|channel|bio)\b"),
        _rule(
            "dm message inbox text contact",
            r"\b(?:dm|message|inbox|text|contact) me (?:for|on|at|via)\b",
        ),
        _rule("bio", r"\blink in (?:my )?bio\b"),
        _rule(
            "whatsapp telegram",
            r"\b(?:whatsapp|telegram|wa\.me|t\.me)\b.{0,30}(?:\+?\d[\d ]{6,}|@\w+)",
            substrings=("wa.me", "t.me"),
        ),
        _rule(
            "casino betting jackpot viagra cialis onlyfans daddy",
            r"\b(?:casino|betting|jackpot|viagra|cialis|onlyfans|sugar daddy)\b",
        ),
        _rule("area", r"\b(?:singles|girls|women) in your area\b"),
        _rule(
            "congratulations claim",
            r"\b(?:congratulations,? you(?:'ve| have)? won|claim your (?:prize|reward|gift))\b",
        ),
        _rule(
            "følgere likes visninger", r"\b(?:kjøp|gratis) (?:\w+ )?(?:følgere|likes|visninger)\b"
        ),
        _rule(
            "tjen tjene",
            r"\b(?:tjen|tjene) (?:\d+ ?(?:kr|kroner) )?(?:penger )?(?:hjemmefra|raskt)\b",
        ),
        _rule("sjekk", r"\bsjekk (?:ut )?(?:profilen|siden|kanalen) min\b"),
    ]
)
_TLDS = "com net org io ly ru xyz info biz shop top site online click link"
SPAM_WEAK = RuleSet(
    [
        # one cue for "has a link", however many links (patients link several photos)
        _rule(
            "",
            rf"https?://\S+|\bwww\.\S+|\b[a-z0-9-]+\.{_w(_TLDS)}(?:/\S*)?\b",
            substrings=("http", "www.", *(f".{tld}" for tld in _TLDS.split())),
        ),
        _rule(
            "code rabattkode",
            r"\b(?:promo|discount|coupon|referral|rabatt) ?code\b|\brabattkode\b|\buse code\b",
        ),
        _rule("click", r"\bclick (?:here|the link|below)\b"),
        _rule("follow subscribe sub", r"\b(?:follow|subscribe to|sub to) (?:me|my)\b"),
        _rule(
            "free offer act trial guaranteed",
            r"\b(?:100% (?:free|guaranteed)|limited (?:time )?offer|act now|free trial)\b",
        ),
    ]
)
# The same word (or pair of words) five times in a row: "wiki NOOBS wiki NOOBS ..."
_REPEAT = re.compile(r"\b(\w+(?: \w+)?)(?: \1\b){4,}")


def spam_matches(prep: Prepared) -> tuple[list[str], list[str]]:
    """(strong cues, weak cues) found in the text."""
    strong = run_rules(SPAM_STRONG, prep, prep.low)
    if len(prep.token_list) >= 5 and Counter(prep.token_list).most_common(1)[0][1] >= 5:
        repeat = _REPEAT.search(prep.norm)
        if repeat:
            strong.append(repeat.group(0)[:40])
    # Weak cues count once per kind (first match of each rule), not once per occurrence.
    weak = []
    for rule in SPAM_WEAK.applicable(prep, prep.low):
        match = rule.pattern.search(prep.low)
        if match:
            weak.append(match.group(0).strip(" .,!?"))
    if prep.stretched:
        run = _LONG_RUN.search(prep.low)
        if run:
            weak.append(run.group(0)[:20])
    return strong, weak


# ---------------------------------------------------------------------------------------
# Questions (asked of the practice): a question mark, an interrogative opening of a
# sentence or clause ("Do you ...", "Kan jeg ..."), or an asking phrase.
# ---------------------------------------------------------------------------------------
_OPENERS = _set(
    "do does did can could would will is are was were how what when where why which who may "
    "should have has any kan har er tar finnes må trenger hvordan hvor hva når hvilke hvem "
    "gjør får blir skal"
)
_OPENER_OBJECTS = _set(
    "you i we they it there the your this u one anyone someone much many long often soon "
    "late early jeg man dere du vi det en de mye lenge mange er åpner stenger koster"
)
_CLAUSE = re.compile(r"[.!?,;:\n]+ ?")
QUESTION_PHRASES = RuleSet(
    [
        _rule(
            "much many possible wondering anyone tell accept offer open price",
            r"\b(?:how much|how many|is it possible|i was wondering|i'm wondering|does anyone know|"
            r"could you tell|can you tell|do you (?:take|accept|offer|have|do)|are you open|"
            r"what are your|what is the price)\b",
        ),
        _rule(
            "mye lenge koster lurer dere jeg man mulig",
            r"\b(?:hvor mye|hvor lenge|hva koster|lurer på|har dere|tar dere|kan jeg|kan man|"
            r"er det mulig)\b",
        ),
    ]
)


# Questions that are really complaints in disguise ("Why did you charge me twice?").
_RHETORICAL = re.compile(
    r"\s*(?:why|how (?:could|dare|can you|is it|come)|what the|who the|is this how|is that how|"
    r"are you (?:serious|kidding|joking)|hvorfor|hvordan kunne|hvordan tør)\b"
)


def is_request(question: str) -> bool:
    """True for a genuine request ("is there a slot today?"), not a rhetorical question."""
    return not _RHETORICAL.match(question)


def question_evidence(prep: Prepared) -> str | None:
    """The question sentence (or the interrogative phrase) that makes a text a question."""
    low = prep.low
    mark = low.find("?")
    if mark >= 0:
        start = max(low.rfind(c, 0, mark) for c in ".!?\n") + 1
        return low[start : mark + 1].strip()
    for clause in _CLAUSE.split(low):
        first, _, rest = clause.partition(" ")
        if first in _OPENERS and rest.partition(" ")[0] in _OPENER_OBJECTS:
            return clause.strip()
    phrases = run_rules(QUESTION_PHRASES, prep, low, limit=1)
    return phrases[0] if phrases else None


# ---------------------------------------------------------------------------------------
# Complaint severity: legal, regulatory or health-harm words make a complaint high.
# ---------------------------------------------------------------------------------------
SEVERITY = re.compile(
    r"\b(?:lawyers?|attorneys?|solicitors?|sue|suing|sued|lawsuit|legal action|court|"
    r"malpractice|negligen(?:ce|t)|infection|infected|sepsis|abscess|hospitali[sz]ed|"
    r"hospital|emergency room|a&e|injur(?:y|ed|ies)|nerve damage|permanent damage|"
    r"scarred|scarring|disfigured|botched|allergic reaction|bleeding|burns? on my|"
    r"report(?:ed|ing)? (?:you|them|this|it) to|health (?:board|department|inspector)|"
    r"(?:dental|medical) (?:board|council)|regulator|ombudsman|police|fraud|"
    r"advokat(?:en)?|saksøke|søksmål|rettssak|politianmeld\w*|"
    r"anmeld(?:e|er|t) (?:dere|deg|klinikken|legen|tannlegen|saken|forholdet|det)|"
    r"helsetilsynet|statsforvalteren|fylkeslegen|pasientombud\w*|npe|erstatning|"
    r"feilbehandl\w*|infeksjon|betennelse|legevakt(?:en)?|sykehus(?:et)?|blødning|"
    r"nerveskade|varig skade|skadet|politiet|svindel)\b"
)


# Going to a lawyer, a regulator or the police is a complaint however calmly it is said
# ("Someone should report this clinic to Helsetilsynet"): a subset of SEVERITY without
# the words that are often neutral ("hospital", "court", "police station").
ESCALATION = re.compile(
    r"\b(?:lawyers?|attorneys?|solicitors?|sue|suing|lawsuit|legal action|malpractice|"
    r"negligen(?:ce|t)|report(?:ed|ing)? (?:you|them|this|it|the \w+) to|"
    r"health (?:board|department|inspector)|(?:dental|medical) (?:board|council)|"
    r"regulator|ombudsman|advokat(?:en)?|saksøke|søksmål|politianmeld\w*|"
    r"anmeld(?:e|er|t) (?:dere|deg|klinikken|legen|tannlegen|saken|forholdet|det)|"
    r"helsetilsynet|statsforvalteren|fylkeslegen|pasientombud\w*|feilbehandl\w*)\b"
)


def escalation_matches(prep: Prepared) -> list[str]:
    return list(dict.fromkeys(m.group(0) for m in ESCALATION.finditer(prep.low)))[:2]


# ---------------------------------------------------------------------------------------
# Possible threats: the second tier. The threat rules need a whole construction and catch
# about a third of real threats on unseen text (bench/ANALYSIS.md, blind set). What they
# miss usually still pairs a plainly violent word with someone other than the writer
# ("let them die", "do away with them ... hang him"). That pairing alone is too loose to
# email anyone, but it is shown to staff as "check this" (see default.py). Words that are
# also everyday clinic language (shot, burn, hurt, bleed, injection) are left out.
# ---------------------------------------------------------------------------------------
VIOLENCE_WORDS = _forms(
    "kill murder shoot stab strangle lynch behead decapitate slaughter massacre "
    "exterminate execute torture rape maim mutilate hang bomb shank butcher"
) | _set(
    "die dead hanged hung bullet bullets gun guns knife knives "
    "rifle shotgun pistol noose coffin grave drepe drep drept skyte skyt knivstikke "
    "voldta henge hengt død døde døden kule gevær kniv"
)
# A squeezed "shoot" is a flu shot; "hung up on me"; and "died", "death" are how serious
# complaints about care are told ("my father died after ..."), not threats.
VIOLENCE_WORDS -= {"shot", "hung", "died", "death", "døde", "døden"}
HINT_TARGETS = _set(
    "you your yours u ya yall him his he her hers she them they their theirs those these "
    "everyone everybody all whole lot people dentist doctor doc nurse staff receptionist "
    "owner manager hygienist surgeon family kids wife husband deg dere du han hun ham "
    "henne dem de alle tannlegen legen sykepleieren eieren"
)
# Violent words in idioms that are not about anyone ("to die for", "kill for a coffee",
# "dead tired", "killing it", "dying to see").
_HINT_IDIOM = re.compile(
    r"\b(?:to die for|(?:kill|die) for (?:a|an|their|the|some)\b|dead (?:tired|serious|"
    r"easy|on|quiet|end|rude|slow|busy|right|cheap|good|nice|friendly|helpful|proud)|"
    r"killing it|killed it|dying to|bored to death|scared to death|"
    r"death (?:grip|metal)|drop dead gorgeous|dead ringer)"
)
HINT_WINDOW = 4


def threat_hint(prep: Prepared) -> str | None:
    """The first violent word within HINT_WINDOW words of someone other than the writer,
    as "word ... target" text, or None."""
    violent = prep.tokens & VIOLENCE_WORDS
    if not violent or not prep.tokens & HINT_TARGETS:
        return None
    if _HINT_IDIOM.search(prep.norm):
        return None
    # Within one clause: "the wait killed me, but the hygienist was lovely" pairs nobody.
    for clause in _CLAUSE.split(prep.norm):
        words = clause.translate(_PUNCT_TO_SPACE).split()
        for i, word in enumerate(words):
            if word not in violent:
                continue
            lo, hi = max(0, i - HINT_WINDOW), min(len(words), i + HINT_WINDOW + 1)
            for j in range(lo, hi):
                if words[j] in HINT_TARGETS:
                    a, b = min(i, j), max(i, j)
                    return " ".join(words[a : b + 1])
    return None


def severity_matches(prep: Prepared, limit: int = 2) -> list[str]:
    out: list[str] = []
    for match in SEVERITY.finditer(prep.low):
        if match.group(0) not in out:
            out.append(match.group(0))
            if len(out) == limit:
                break
    return out
