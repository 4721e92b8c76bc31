"""Phrase rules (English and Norwegian bokmål), compiled once at import.

Two normalised views of a text are matched:
- `lower(text)`: lower-cased, typographic quotes unified, whitespace collapsed. Used
  for spam, questions and severity, where digits and "$" carry meaning.
- `obfuscation_free(text)`: additionally undoes cheap evasion tricks used to slip
  abuse past filters: leetspeak (k1ll, b1tch, 5hoot), letters spaced out
  ("k i l l"), and stretched letters ("diiiie"). Used for threats and harassment.

Each rule set is one alternation, so a text costs one regex scan per rule set.
Patterns are written against the normalised form: after stretch-squeezing, a doubled
letter may appear single ("killll" -> "kil"), hence spellings like `kil{1,2}`.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_SPACE = re.compile(r"\s+")
_MASK_IN_WORD = re.compile(r"(?<=[a-zæøå])[!|](?=[a-zæøå])")  # b!tch, k|ll
_DOLLAR_IN_WORD = re.compile(r"(?<=[a-z])\$|\$(?=[a-z])")  # a$$hole, $hoot
_SPACED_OUT = re.compile(r"\b(?:[a-zæøå0-9][ .\-_*]){2,}[a-zæøå0-9]\b")  # k i l l, k.i.l.l
_SPACED_SEPARATOR = re.compile(r"[ .\-_*]")
_STRETCHED = re.compile(r"([a-zæøå])\1{2,}")  # diiiie -> die


def _join_spaced(match: re.Match[str]) -> str:
    return _SPACED_SEPARATOR.sub("", match.group(0))


def lower(text: str) -> str:
    # Letters spaced out with single separators ("k i l l  y o u") are joined before
    # whitespace is collapsed, so a double space still separates the words.
    low = _SPACED_OUT.sub(_join_spaced, text.translate(_QUOTES).lower())
    return _SPACE.sub(" ", low).strip()


def obfuscation_free(low: str) -> str:
    """Undo leetspeak, spaced-out and stretched letters in an already `lower()` text."""
    text = low.translate(_LEET)
    text = _MASK_IN_WORD.sub("i", text)
    text = _DOLLAR_IN_WORD.sub("s", text)
    return _STRETCHED.sub(r"\1", text)


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# ---------------------------------------------------------------------------------------
# Threats (to people or premises). Recall first: a missed threat is the worst error.
# Hyperbole is excluded by *structure*, not by a list of idioms: a threat needs an
# intent/modal construction AND a human or premises target ("I will kill you"), so
# "the wait killed me", "killer service", "this pain is killing me" and "I'd kill for
# their cheesecake" (target "for ...") never match.
# ---------------------------------------------------------------------------------------
_PERSON = _alt(
    "doctors?",
    "dr",
    "dentists?",
    "nurses?",
    "staff",
    "owners?",
    "receptionists?",
    "managers?",
    "surgeons?",
    "hygienists?",
    "therapists?",
    "employees?",
    "workers?",
    "boss",
    "people",
    "family",
    "kids?",
    "children",
    "wife",
    "husband",
    "daughter",
    "son",
    "mother",
    "mom",
    "mum",
    "dad",
    "father",
    "girlfriend",
    "boyfriend",
    "man",
    "woman",
    "guy",
    "girl",
    "lady",
    "bitch(?:es)?",
    "bastards?",
    "idiots?",
    "cunts?",
    "whores?",
    "assholes?",
    "fuckers?",
    "pigs?",
    "dogs?",
)
_PLACE = _alt(
    "place",
    "clinic",
    "office",
    "building",
    "shop",
    "store",
    "practice",
    "house",
    "home",
    "salon",
    "spa",
    "business",
    "restaurant",
    "hospital",
    "surgery",
    "premises",
    "establishment",
    "joint",
    "dump",
    "car",
    "school",
)
_DET = _alt("the", "this", "that", "your", "ur", "their", "his", "her", "those", "these", "ya")
_TARGET = (
    r"(?:you|u|ya|yo|yall|y'all|you all|him|her|them|every(?:one|body|1)|all of (?:you|u|them)"
    rf"|{_DET} (?:\w+ )?{_PERSON}\b|{_DET} (?:\w+ )?{_PLACE}\b|dr\.? \w+|(?:mr|mrs|ms)\.? \w+)"
)
# Words that may sit between the subject and the violent verb ("I will fucking kill",
# "we're gonna come and burn"). Negations are deliberately absent ("I would never").
_MODAL = _alt(
    "'ll",
    "'d",
    "'m",
    "'re",
    "ll",
    "d",
    "m",
    "re",
    "will",
    "wil",
    "would",
    "could",
    "shall",
    "should",
    "might",
    "am",
    "are",
    "gonna",
    "gona",
    "going",
    "gon",
    "finna",
    "to",
    "want",
    "wanna",
    "about",
    "plan",
    "intend",
    "swear",
    "promise",
    "just",
    "really",
    "literally",
    "fucking",
    "fuckin",
    "fkn",
    "definitely",
    "personally",
    "gladly",
    "totally",
    "actually",
    "come",
    "coming",
    "and",
    "back",
    "go",
    "then",
    "so",
    "i",
    "gotta",
    "have",
    "need",
    "must",
    "can",
    "myself",
    "ourselves",
    "find",
    "track",
    "you",
    "down",
)
_VIOLENT = _alt(
    r"kil{1,2}",
    "murder",
    r"sho{1,2}t",
    "stab",
    "strangle",
    "choke",
    "beat",
    "bash",
    "punch",
    "hurt",
    "rape",
    "slit",
    "slaughter",
    "butcher",
    "torch",
    "burn",
    "bomb",
    "blow up",
    "gut",
    "behead",
    "hang",
    "lynch",
    "execute",
    "break",
    "smash",
    "kick",
    "attack",
    "assault",
    "poison",
    "run over",
)
_SUBJECT = r"\b(?:i|we|ima|imma|i'ma|ill|im|me and my (?:\w+ )?(?:boys|friends|brothers?))\b"
_BODY = _alt(
    "throat",
    "neck",
    "head",
    "face",
    "skull",
    "legs?",
    "arms?",
    "jaw",
    "knees?",
    "bones",
    "balls",
    "ass",
    "eyes?",
    "brains?",
    "guts",
)
_PREMISES_VERB = _alt(
    r"burn(?:s|ing)?",
    "torch(?:es|ing)?",
    "fire ?bomb(?:s|ing)?",
    "bomb(?:s|ing)?",
    "blow(?:s|ing)? up",
    r"sho{1,2}t(?:s|ing)? up",
    "set fire to",
    "set on fire",
)
_WEAPON = _alt(
    "gun",
    "rifle",
    "shotgun",
    "pistol",
    "knife",
    "machete",
    "axe",
    "bat",
    "bomb",
    "ak",
    "ak47",
    "weapon",
    "explosives?",
)

THREAT_EN = [
    # "I will kill you", "we're gonna come back and shoot the doctor"
    rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} {_VIOLENT}(?:s|ed|ing)? (?:\w+ )?{_TARGET}"
    r"(?: down| to the ground)?",
    # spaced-out words joined by normalisation: "k i l l y o u" -> "killyou"
    r"\b(?:i(?:wil{1,2}|l{1,2}|am|m)?(?:gonna|goingto)?)?(?:kil{1,2}|murder|sho{1,2}t|stab|rape)"
    r"(?:you|u|ya|yall|him|her|them)\b",
    r"\b(?:i|we)(?:'ll| will|ll| am going to|'m going to|'m gonna| am gonna) "
    r"(?:destroy|end|ruin) (?:you|u|ya|him|her|them)\b",
    # "I'll come back with a gun", "we will bring a knife"
    rf"{_SUBJECT}(?:'ll|'d|'m|'re)?(?: {_MODAL}){{0,6}} (?:bring|brings|bringing|carry|get|"
    rf"grab|load|pull out|show up with|come back with|coming back with|come with|coming with|"
    rf"return with)(?: a| my| the| our| some)? {_WEAPON}\b",
    # sentence-initial dropped subject: "gonna kill you", "imma burn this place"
    rf"(?:^|[.!?,] )(?:gonna|going to|finna|about to) {_VIOLENT} {_TARGET}",
    # body-part violence: "slit your throat", "break your legs", "put a bullet in your head"
    rf"\b(?:cut|slit|break|snap|smash|crush|rip|bash|punch|kick|stab|shoot|blow|cave) "
    rf"(?:off |in |out )?(?:your|ur|his|her|their) (?:\w+ )?{_BODY}\b",
    rf"\b(?:bullet|knife|blade|bat) (?:in|through|into) (?:your|ur|his|her|their) {_BODY}",
    r"\bbeat (?:the )?(?:shit|crap|hell|life|living daylights) out of\b",
    # premises: "burn this place down", "burn down the clinic", "bomb the office"
    rf"\b{_PREMISES_VERB} (?:down )?(?:it|{_DET} (?:\w+ )?{_PLACE}|{_DET} (?:whole )?\w+)"
    r" (?:down|to the ground)\b",
    rf"\b{_PREMISES_VERB} (?:down )?{_DET} (?:whole |fucking |damn )?(?:\w+ )?{_PLACE}\b",
    r"\bburn(?:s|ing)? (?:it|them|you|u|yall|everything) (?:all )?down\b",
    r"\b(?:plant(?:ed|ing)?|place|leave|left|put|there(?:'s| is| will be)) (?:a )?"
    r"(?:pipe |car |nail )?bomb\b",
    r"\b(?:bomb|terror|shooting) threat\b",
    r"\bpipe ?bomb",
    # direct second-person threats
    r"\b(?:you|u|ya)(?:'ll|ll| will| wil|'re going to| are going to| r going to| re going to|"
    r"'re gonna| are gonna| gonna| going to) (?:fucking )?(?:die|get hurt|get shot|"
    r"get what'?s coming|be next)\b",
    r"\b(?:you|u)(?:'re| are| r|re) (?:so |fucking )?(?:dead|a dead (?:man|woman))\b"
    r"(?! (?:to me|inside|wrong|right|set|serious|tired|lucky|on|in|after))",
    r"\b(?:you|u)(?:'re| are| r|re) next(?= ?(?:[.!,]|$))",
    r"\bdead meat\b",
    r"\byour days are numbered\b",
    r"\b(?:better )?watch (?:your|ur|yo) (?:back|six)\b",
    r"\bsleep with one eye open\b",
    r"\b(?:i|we) know where (?:you|u|he|she|they|the \w+|your \w+) "
    r"(?:live|lives|work|works|sleep|sleeps|park|parks|stay|stays)\b",
    r"\b(?:i|we)(?:'m| am|'re| are|m|re) coming (?:for|after) (?:you|u|him|her|them|your)\b",
    r"\bwait (?:till|until|til) (?:i|we) (?:get|find|catch|see) (?:you|u|him|her|them)\b",
    r"\bget (?:my|our) hands on (?:you|u|him|her|them)\b",
    r"\b(?:i|we)(?:'ll| will|ll) be waiting (?:for (?:you|u) )?(?:outside|in the parking)",
    r"\b(?:i|we)(?:'ll| will|ll|'m going to| am going to) get (?:you|u|ya)"
    r"(?= ?(?:[.!,]|$| for| back| one day| soon))",
    r"\b(?:i|we)(?:'ll| will|ll|'m going to| am going to) (?:find|hunt|track) "
    r"(?:you|u|ya|him|her|them)(?: down)?\b",
    # wishing or inciting death/violence
    r"\b(?:i )?hope (?:you|u|he|she|they|your \w+|the \w+)(?: \w+){0,2} "
    r"(?:die|dies|rot|burns?|gets? (?:cancer|shot|killed|raped|hurt|stabbed))\b",
    r"\b(?:go|should|deserve to|deserves to|need to|needs to|ought to) (?:fucking )?die\b",
    r"\bdie in a (?:fire|hole|ditch)\b",
    r"\bsomeone (?:should|needs to|ought to|will|is going to|gonna) "
    r"(?:kill|shoot|stab|burn|bomb|hurt|beat|murder|hang)\b",
    r"\b(?:should|deserves? to|needs? to|ought to) (?:be|get) "
    r"(?:shot|killed|hanged|hung|murdered|stabbed|lynched|beaten)\b",
    # veiled threats ("soft": see THREAT_SOFT_GUARD below)
    r"\b(?:you|u|ya|you all|yall)(?:'ll| will|ll|'re going to| are going to) "
    r"(?:regret|be sorry|pay)\b(?! (?:booking|going|choosing|coming|paying|using|visiting|"
    r"buying|trusting|it if|for (?:it|the|their|a )|the (?:price|bill)))",
]

_NO_PERSON = _alt(
    "deg",
    "dere",
    "han",
    "ham",
    "henne",
    "dem",
    "alle",
    "legen",
    "tannlegen",
    "sykepleieren",
    "personalet",
    "eieren",
    "sjefen",
    "resepsjonisten",
    "damen",
    "mannen",
    "jævelen",
    "fitta",
    "hora",
    "kjerringa",
    "familien din",
    "barna dine",
)
_NO_PLACE = _alt(
    "stedet",
    "klinikken",
    "kontoret",
    "huset",
    "bygget",
    "salongen",
    "butikken",
    "praksisen",
    "lokalet",
    "lokalene",
    "bilen",
    "dritten",
    "sjappa",
)
_NO_SUBJ = r"\b(?:jeg|je|eg|æ|vi|me)\b"
_NO_MODAL = _alt(
    "skal",
    "ska",
    "kommer",
    "til",
    "å",
    "a",
    "vil",
    "kan",
    "må",
    "tenker",
    "har",
    "lyst",
    "bare",
    "faen",
    "jævla",
    "personlig",
    "gå",
    "komme",
    "og",
    "tilbake",
    "finne",
)
_NO_VIOLENT_OBJ = _alt(
    "drepe",
    "drep",
    "skyte",
    "skyt",
    "knivstikke",
    "stikke",
    "banke",
    "denge",
    "slå",
    "kverke",
    "voldta",
    "skade",
    "ta",
    "finne",
    "knuse",
    "sprenge",
    "brenne",
    "tenne på",
    "kaste stein på",
)

THREAT_NO = [
    # "jeg skal drepe ...", "jeg kommer til å drepe": killing needs no named target
    rf"{_NO_SUBJ}(?: {_NO_MODAL}){{1,6}} (?:drepe|drep|myrde|ta livet av|skyte ned)\b",
    rf"{_NO_SUBJ}(?: {_NO_MODAL}){{1,6}} {_NO_VIOLENT_OBJ} "
    rf"(?:opp |ned |ihjel |livet av )?(?:{_NO_PERSON}|{_NO_PLACE})\b",
    r"\bbrenne?r? (?:ned|opp)\b(?! i (?:munnen|halsen))",
    rf"\b(?:brenne|sprenge|bombe|tenne på|sette fyr på|knuse) (?:ned )?{_NO_PLACE}\b",
    r"\b(?:legge|plante|sette|plassere) (?:ut )?(?:en )?bombe\b",
    r"\bbombe ?trus(?:el|sel)\b",
    r"\bvet hvor (?:du|dere|han|hun|legen|tannlegen|de) (?:bor|jobber|holder til|sover)\b",
    r"\b(?:du|dere) (?:skal|kommer til å|vil) (?:få )?(?:angre|svi|dø|betale for dette)\b",
    r"\bkommer (?:du|dere) til å (?:angre|få svi)\b",
    r"\bskal få (?:svi|juling|bank|kjeft som fortjent)\b",
    r"\b(?:du|dere) (?:er|e) (?:død|døde|et dødt)\b",
    r"\b(?:håper|ønsker) (?:at )?(?:du|dere|han|hun|legen|tannlegen) (?:\w+ )?(?:dør|dauer)\b",
    r"\bburde (?:\w+ )?(?:skytes|drepes|henges|brennes)\b",
    # "pass deg" is a threat; "pass deg for X" ("beware of X") is a warning to readers.
    r"\bpass (?:deg|dere) vel\b|\bpass (?:deg|ryggen din)\b(?! for\b)|\bpass dere bare\b",
]

THREAT = _compile(THREAT_EN + THREAT_NO)

# Veiled threats that reviewers also use as warnings to *other readers*: "Don't book
# here, you'll regret it!". Such a match only counts if the sentence has no
# reader-warning cue before it.
_SOFT_THREAT = re.compile(r"\b(?:regret|be sorry|pay|angre|svi)\b")
_READER_WARNING = re.compile(
    r"\b(?:don'?t|do not|avoid|stay away|if you|or you|otherwise|trust me|believe me|"
    r"never (?:go|book)|anyone who|whoever|go elsewhere|hvis|om du|ikke gå|unngå|styr unna|"
    r"finn et annet)\b"
)


def threat_matches(norm: str) -> list[str]:
    found = []
    for match in THREAT.finditer(norm):
        phrase = match.group(0).strip(" .,!?")
        if _SOFT_THREAT.search(phrase):
            start = max(norm.rfind(".", 0, match.start()), norm.rfind("!", 0, match.start()))
            if _READER_WARNING.search(norm, start + 1, match.start()):
                continue
        found.append(phrase)
    return found


# ---------------------------------------------------------------------------------------
# Harassment: insults, slurs and trolling aimed at people.
# STRONG terms are abuse whatever else the text says. MILD terms ("idiot", "jævla")
# are also what angry but genuine patients write, so they only make a text harassment
# when it has no substantive complaint (see SUBSTANCE).
# ---------------------------------------------------------------------------------------
HARASSMENT_STRONG = _compile(
    [
        r"\bnig{1,2}(?:er|a|ah|az|ers)\b",
        r"\bfag{1,2}(?:ot|ots|it|s)?\b",
        r"\bretard(?:s|ed)?\b",
        r"\btran{1,2}(?:y|ies)\b",
        r"\bc[u*]nts?\b",
        r"\bwhores?\b",
        r"\bsluts?\b",
        r"\bkys\b",
        r"\bkil{1,2} (?:your|ur|yo) ?self\b",
        r"\b(?:stupid|fucking|fat|ugly|dumb|lazy|old|crazy|psycho) (?:bitch|cow|slag|twat)\b",
        r"\bbitch(?:es)?\b",
        r"\bsons? of a bitch\b",
        r"\b(?:kike|spic|chink|paki|wetback|gook|raghead|towelhead)s?\b",
        r"\bmotherf[u*]ck(?:er|ers|ing)?\b",
        r"\b(?:suck my (?:dick|cock)|eat shit|go to hell|rot in hell)\b",
        r"\bf[u*]ck (?:you|u|ya|off|yourself|urself)\b",
        # Norwegian
        r"\b(?:hore|horer|horen|hora|horunge)\b",
        r"\b(?:fitte|fitter|fitta|fittetryne)\b",
        r"\b(?:kukhue|kukhode|kuksuger|pikkhode|rasshøl|rævhøl)\b",
        r"\b(?:mongo|mongoloid|neger|negre|soper|homse|pakkis)\b",
        r"\b(?:ta livet av deg selv|drep deg selv|dra til helvete|brenn i helvete)\b",
        r"\bjævla (?:idiot|hore|fitte|kjerring|taper|dust|tulling|mongo|svin|kuk)\w*\b",
    ]
)
HARASSMENT_MILD = _compile(
    [
        r"\b(?:idiots?|morons?|moronic|imbeciles?|cretins?|stupid|dumbass|dumb ass|losers?|"
        r"clowns?|scumbags?|scum|assholes?|arseholes?|jerks?|dickheads?|dicks?|pricks?|"
        r"douche(?:bag)?s?|twats?|wankers?|tossers?|pathetic|freaks?|ugly|fatso|piece of shit|"
        r"shut up|get a life|nobody cares|cry more|lol+ ok|ratio|cope|seethe)\b",
        r"\b(?:idiot|idioter|idioten|tulling|tullinger|dust|dumming|teit|taper|tapere|jævel|"
        r"jævler|jævla|jævlig|faen|fuck|drittsekk|drittsekker|kjerring|hold kjeft|"
        r"fuck deg|hold munn|kuk|pikk|svin)\b",
    ]
)
# Words that show the writer is describing an actual experience (the "substance" of a
# complaint) rather than only attacking someone.
SUBSTANCE = re.compile(
    r"\b(?:appointment|booked|booking|wait(?:ed|ing)?|hours?|minutes?|bill(?:ed)?|"
    r"charged?|price|cost|paid|pay|refund|money|treatment|procedure|cleaning|filling|"
    r"tooth|teeth|pain|visit|results?|botox|filler|laser|skin|scar|insurance|cancel(?:l?ed)?|"
    r"rude|called|told|said|prescription|infection|injection|crown|implant|root canal|"
    r"x-?ray|consultation|session|massage|facial|receptionist|service|waiting room|"
    r"time(?:n)?|ventet|ventetid|timebestilling|betalt|betale|pris|penger|regning|"
    r"faktura|behandling(?:en)?|tann|tenner|fylling|rens|konsultasjon|smerte(?:r)?|"
    r"vondt|resultat(?:et)?|avbestilt|resepsjon(?:en|isten)?|undersøkelse)\b"
)

# ---------------------------------------------------------------------------------------
# Spam: scored; a text is spam at SPAM_THRESHOLD. A link alone is not spam (patients
# link photos), a promo pattern alone is.
# ---------------------------------------------------------------------------------------
SPAM_THRESHOLD = 2
SPAM_STRONG = _compile(
    [
        r"\b(?:buy|get|gain|cheap|free) (?:\d+k? )?(?:real )?(?:instagram |ig |tiktok |youtube )?"
        r"(?:followers|likes|views|subscribers|subs|reviews|5 ?star reviews)\b",
        r"\b(?:crypto(?:currency)?|bitcoin|btc|ethereum|usdt|forex|binary options?|nft)\b"
        r".{0,60}\b(?:invest|profit|earn|trading|returns?|income|signals?|wallet)",
        r"\b(?:invest|profit|earn|trading|returns?|income)\b.{0,60}\b"
        r"(?:crypto(?:currency)?|bitcoin|btc|ethereum|usdt|forex)\b",
        r"\b(?:earn|make) \$?\d[\d,]*k?\$? (?:usd |dollars |kr )?(?:per|a|each|every|/) ?"
        r"(?:day|week|hour|month)\b",
        r"\b(?:work|working) from home\b.{0,40}\b(?:earn|income|\$|money)",
        r"\bpassive income\b",
        r"\bcheck (?:out )?my (?:profile|page|channel|bio|account|videos?)\b",
        r"\b(?:visit|see) my (?:profile|page|channel|bio)\b",
        r"\b(?:dm|message|inbox|text|contact) me (?:for|on|at|via)\b",
        r"\blink in (?:my )?bio\b",
        r"\b(?:whatsapp|telegram|wa\.me|t\.me)\b.{0,30}(?:\+?\d[\d ]{6,}|@\w+)",
        r"\b(?:casino|betting|jackpot|viagra|cialis|onlyfans|sugar daddy)\b",
        r"\b(?:singles|girls|women) in your area\b",
        r"\b(?:congratulations,? you(?:'ve| have)? won|claim your (?:prize|reward|gift))\b",
        r"\b(?:kjøp|gratis) (?:\w+ )?(?:følgere|likes|visninger)\b",
        r"\b(?:tjen|tjene) (?:\d+ ?(?:kr|kroner) )?(?:penger )?(?:hjemmefra|raskt)\b",
        r"\bsjekk (?:ut )?(?:profilen|siden|kanalen) min\b",
    ]
)
SPAM_WEAK = _compile(
    [
        r"https?://\S+|\bwww\.\S+",
        r"\b[a-z0-9-]+\.(?:com|net|org|io|ly|ru|xyz|info|biz|shop|top|site|online|click|link)"
        r"(?:/\S*)?\b",
        r"\b(?:promo|discount|coupon|referral|rabatt) ?code\b|\brabattkode\b|\buse code\b",
        r"\bclick (?:here|the link|below)\b",
        r"\b(?:follow|subscribe to|sub to) (?:me|my)\b",
        r"\b(?:100% (?:free|guaranteed)|limited (?:time )?offer|act now|free trial)\b",
        r"([a-z0-9])\1{9,}",  # aaaaaaaaaa / 1111111111
    ]
)
# The same word (or pair of words) five times in a row: "wiki NOOBS wiki NOOBS ..."
SPAM_REPEAT = re.compile(r"\b(\w+(?: \w+)?)(?: \1\b){4,}")

# ---------------------------------------------------------------------------------------
# Questions (asked of the practice).
# ---------------------------------------------------------------------------------------
QUESTION = _compile(
    [
        r"(?:^|[.!?] )(?:do|does|did|can|could|would|will|is|are|was|were|how|what|when|"
        r"where|why|which|who|may|should|have|has|any) (?:you|i|we|they|it|there|the|your|"
        r"this|a|an|u|one|anyone|someone|much|many|long|often|soon|late|early)\b",
        r"\b(?:how much|how long|how many|is it possible|i was wondering|i'm wondering|"
        r"does anyone know|could you tell|can you tell|do you (?:take|accept|offer|have|do)|"
        r"are you open|what are your|what is the price)\b",
        r"(?:^|[.!?] )(?:kan|har|er|tar|finnes|må|trenger|hvordan|hvor|hva|når|hvilke|hvem|"
        r"gjør|får|blir|skal) (?:jeg|man|dere|du|vi|det|en|de|mye|lenge|mange)\b",
        r"\b(?:hvor mye|hvor lenge|hva koster|lurer på|har dere|tar dere|kan jeg|kan man|"
        r"er det mulig)\b",
    ]
)
_QUESTION_SENTENCE = re.compile(r"[^.!?\n]{0,120}\?")

# ---------------------------------------------------------------------------------------
# Complaint severity: legal, regulatory or health-harm words make a complaint high.
# ---------------------------------------------------------------------------------------
SEVERITY = _compile(
    [
        r"\b(?:lawyers?|attorneys?|solicitors?|sue|suing|sued|lawsuit|legal action|court|"
        r"malpractice|negligen(?:ce|t)|infection|infected|sepsis|abscess|hospitali[sz]ed|"
        r"hospital|emergency room|\ber\b|a&e|injur(?:y|ed|ies)|nerve damage|permanent damage|"
        r"scarred|scarring|disfigured|botched|allergic reaction|bleeding|burns? on my|"
        r"report(?:ed|ing)? (?:you|them|this|it) to|health (?:board|department|inspector)|"
        r"(?:dental|medical) (?:board|council)|regulator|ombudsman|police|fraud)\b",
        r"\b(?:advokat(?:en)?|saksøke|søksmål|rettssak|politianmeld\w*|"
        r"anmeld(?:e|er|t) (?:dere|deg|klinikken|legen|tannlegen|saken|forholdet|det)|"
        r"helsetilsynet|statsforvalteren|fylkeslegen|pasientombud\w*|npe|erstatning|"
        r"feilbehandl\w*|infeksjon|betennelse|legevakt(?:en)?|sykehus(?:et)?|blødning|"
        r"nerveskade|varig skade|skadet|politiet|svindel)\b",
    ]
)


def first_matches(pattern: re.Pattern[str], text: str, limit: int = 3) -> list[str]:
    out: list[str] = []
    for match in pattern.finditer(text):
        phrase = match.group(0).strip(" .,!?")
        if phrase and phrase not in out:
            out.append(phrase)
            if len(out) == limit:
                break
    return out


def question_evidence(low: str) -> str | None:
    """The question sentence (or the interrogative phrase) that makes a text a question."""
    match = _QUESTION_SENTENCE.search(low)
    if match:
        return match.group(0).strip()
    match = QUESTION.search(low)
    return match.group(0).strip(" .,!?") if match else None
