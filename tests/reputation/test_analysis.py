"""Behaviour of the text analyser that staff would notice. No database needed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reputation.analysis import CATEGORIES, Analyser, Analysis, analyse, get_analyser, rules
from reputation.analysis.cli import run

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------ threats
@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I will burn this place down if you don't refund me.", "burn this place down"),
        ("I'm going to kill you, doctor.", "kill you"),
        ("You'll regret this.", "regret"),
        ("Watch your back.", "watch your back"),
        ("I know where you live.", "know where you live"),
        ("There is a bomb in your waiting room.", "bomb"),
        ("Next time I'm bringing a gun to my appointment.", "gun"),
        ("Someone should shoot the owner.", "shoot"),
        ("i will k1ll you", "kill you"),  # leetspeak
        ("k i l l  y o u", "kill you"),  # spaced out
        ("I wiiiill kiiiill you", "kill you"),  # stretched
        ("Jeg skal drepe deg.", "drepe"),
        ("Jeg kommer til å brenne ned klinikken.", "brenne ned"),
        ("Pass deg!", "pass deg"),
        ("Jeg vet hvor du bor.", "vet hvor du bor"),
        ("Dere skal få svi for dette.", "svi"),
    ],
)
def test_threats_are_critical_with_the_phrase_as_evidence(text: str, phrase: str) -> None:
    result = analyse(text, rating=1)
    assert result.category == "threat"
    assert result.severity == 3
    assert any(e.startswith("threat:") and phrase in e for e in result.evidence), result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "The wait killed me, but the hygienist was lovely.",
        "Killer service, my teeth have never looked better!",
        "This pain is killing me, is there an emergency slot today?",
        "I'd kill for their cheesecake.",
        "The laser burned a little but the results are amazing.",
        "Don't book here, you'll regret it. Two hours late.",  # a warning to readers
        "Pass deg for denne klinikken, de tar betalt for alt.",  # "beware of", not a threat
        "Shoot me an email when the results are in.",
        "Photo shoot for the new clinic website was fun.",
    ],
)
def test_violent_idioms_are_not_threats(text: str) -> None:
    assert analyse(text).category != "threat"


# One positive and one harmless look-alike per rule family added when the rules were
# generalised (targets, verbs, passive/normative, wishes, conditionals, veiled threats,
# body parts, obfuscation), English and Norwegian.
@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        # any person or group noun, any determiner
        ("I'm going to stab a nurse tomorrow.", "stab a nurse"),
        ("I really am just going to murder that gay person.", "murder that gay person"),
        ("I'll slaughter any immigrant like you.", "slaughter any immigrant"),
        ("I am going to shoot the next doctor I see.", "shoot the next doctor"),
        # wider verb lexicon
        ("We'll torture the owner without mercy.", "torture the owner"),
        ("I will drown you.", "drown you"),
        ("i will finish you.", "finish you"),
        ("I want to end every dentist's life.", "life"),
        ("We should get rid of those people once and for all.", "get rid of those people"),
        ("I am going to make those nurses suffer.", "suffer"),
        ("I'll have the doctor killed.", "killed"),
        ("i'll come over and throw a brick through ur window", "brick through ur"),
        # passive, normative, wished, conditional
        ("Those kinds of people ought to be executed.", "ought to be executed"),
        ("The owner should be burned at the stake.", "burned at the stake"),
        ("I wish all the staff would be shot in the street.", "shot"),
        ("i hope you get bowel cancer", "cancer"),
        ("I would love to see the owner suffer.", "suffer"),
        ("In a just world, people like you would all be dead.", "dead"),
        ("If only someone would strangle that receptionist.", "strangle that receptionist"),
        ("Murdering a dentist like you should be decriminalised.", "decriminalised"),
        ("Death to all dentists!", "death to all"),
        ("Execution is the only solution for those people.", "only solution"),
        ("That doctor will die a horrible death at my hands.", "at my hands"),
        # body parts: plural, modifiers, "of yours", passive
        ("I will cut their filthy throats.", "throats"),
        ("I'll snap that skinny neck of yours.", "neck of yours"),
        ("If only you all had your throats cut.", "throats cut"),
        # veiled threats without a violent verb
        ("Keep this up and one day something bad will happen to you.", "happen to you"),
        ("You've signed your own death warrant.", "death warrant"),
        ("You won't see it coming.", "see it coming"),
        ("We might start looking for you.", "looking for you"),
        ("Yes, this is a threat.", "threat"),
        # obfuscation by accents
        ("I ŵill ţie ŷou uṗ and ṃuţilaţe ŷour ģeniţalś", "genitals"),
        ("ı ŵıll kıll ŷou", "kill you"),
        # Norwegian
        ("Jeg skal banke en av dere.", "banke en av dere"),
        ("Tannlegen burde henges.", "burde henges"),
        ("Du fortjener å dø.", "fortjener å dø"),
        ("Skulle ønske dere var døde.", "var døde"),
        ("Jeg håper legen blir påkjørt.", "påkjørt"),
        ("Død over alle tannleger!", "død over"),
        ("Drep dem alle.", "drep dem"),
        ("Noe vondt kommer til å skje med deg.", "skje med deg"),
        ("Dagene dine er talte.", "dagene dine er talte"),
    ],
)
def test_generalised_threat_constructions(text: str, phrase: str) -> None:
    result = analyse(text)
    assert result.category == "threat", (text, result)
    assert any(phrase in e for e in result.evidence), result.evidence


@pytest.mark.parametrize(
    "text",
    [
        # pronouns end at a word boundary ("u" of "underlying", "us")
        "We should attack underlying issues before blaming the nurses.",
        "I'd shoot us a message if I were you.",
        "I'll shoot you an email tomorrow.",
        "Next time I will kill ubers reputation with a one-star review.",
        # dismissal, problems, idioms
        "The dentist should be fired.",
        "They need to get rid of the receptionist.",
        "I will get rid of this dentist and find a new one.",
        "Attack the problem, not the patient.",
        "The numbing gel will kill the pain.",
        "The nurse was drop dead gorgeous.",
        "Kill all the germs with this mouthwash.",
        "I'm going to break up with him.",
        "I'll kick them out of my house.",
        "The plan should be executed properly.",
        "The infection was eradicated completely.",
        "Let's get rid of plaque for good.",
        "I want to put an end to my back pain.",
        "I'm going to drown my sorrows after that bill.",
        "The wait was pure torture.",
        "They made me suffer for two hours in the waiting room.",
        "I would love to see the doctor again.",
        "I'd kill for a good dentist like her.",
        "My husband will end his life insurance policy.",
        "This clinic will take your life savings.",
        "You will be in good hands here.",
        # wishes and hyperbole that are not about harming someone
        "I hope the swelling dies down soon.",
        "I hope you get well soon!",
        "I wish they would answer the phone.",
        "I hope somebody answers the phone next time.",
        "Somebody needs to kill that awful music in the waiting room.",
        "If I hadn't gone to the ER I would be dead now.",
        "If the dentist was any slower we would all be dead by now lol.",
        "You'll die of boredom in the waiting room.",
        "You will die waiting for a callback.",
        "You'll pay through the nose here.",
        "I was bored to death to be honest.",
        "The tooth should be taken out.",
        "Your kids will be safe here, the staff are wonderful.",
        "After the accident they said he would never walk again, this clinic proved them wrong.",
        "Add a bullet in the list of symptoms.",
        "I ran the numbers over and over.",
        "I want the doctor to call me back.",
        "They really stabbed me in the back with that bill.",
        "I'll be outside with my husband at closing time.",
        "I'll get you a coffee when you get here.",
        "Jeg skal sørge for at du får time i morgen.",
        "You'll bleed a little after the extraction, that's normal.",
        "I will hunt down the best price before booking again.",
        "I will find a new dentist.",
        "Acid reflux treatment worked wonders.",
        # reader warnings stay warnings
        "Something bad will happen to your teeth if you skip flossing.",
        "If you go there, something bad will happen to you.",
        # Norwegian
        "Heng deg på, dette var bra!",
        "Tannlegen burde få sparken.",
        "Behandlingen burde ikke blitt brent inn i huden.",
        "Jeg håper dere får en fin helg.",
        "Jeg skulle ønske de hadde åpent på lørdag.",
        "Drep alle bakteriene med denne munnskyllen.",
        "Hvis du ikke pusser tennene kan noe vondt skje med deg.",
        "Kjøpte blåbær på Sjøsiden, flott.",
    ],
)
def test_generalised_rules_leave_look_alikes_alone(text: str) -> None:
    assert analyse(text).category != "threat", analyse(text).evidence


@pytest.mark.parametrize(
    "text",
    [
        "Wow dude. As your physician I suggest you slit your wrists.",
        "go hang yourself",
        "Heng deg.",
    ],
)
def test_incitement_to_self_harm_is_high_severity_harassment(text: str) -> None:
    # Abuse of the reader, not a statement that anyone will harm the staff: no alarm.
    result = analyse(text)
    assert (result.category, result.severity) == ("harassment", 2), result


def test_folding_keeps_norwegian_letters() -> None:
    assert rules.fold("ŷou ţo blåbær på øl") == "you to blåbær på øl"
    assert rules.prepare("Blåbær er godt").norm == "blåbær er godt"


RULE_EXAMPLES = """
I will kill you
k i l l y o u
we'll destroy you
i'll come back with a gun
gonna kill you
kill you
i will slit your throat
beat a protesters ass
a bullet in your head
beat the living shit out of him
kill all protesters
run them over
run over the protesters
drive through them
move or get shot
stop editing or die
*slowly grabs 12 gauge*
they are not safe from me
burn this place down
burn down the clinic
burn it all down
there's a bomb
bomb threat
pipe bomb
you're going to die
you're dead
you're next.
dead meat
your days are numbered
watch your back
sleep with one eye open
i know where you live
i'm coming for you
wait till i get you
get my hands on you
shooting them dead
i'll be waiting outside
i'll get you for this
i will find you
i hope you die
go die
die in a fire
someone should shoot him
he should be shot
you'll regret this
jeg skal drepe
jeg skal ta deg
brenne ned
sprenge klinikken
legge en bombe
bombetrussel
vet hvor du bor
du skal angre
kommer du til å angre
skal få juling
du er død
håper du dør
burde skytes
pass deg
we should get rid of those people
i want to end every woman's life
if only they all had their throats cut
you will die a horrible death at my hands
something bad will happen to you
you won't see it coming
we might start looking for you
yes this is a threat.
i wish all immigrants would be shot
i hope somebody shoots him
i would love to see those people suffer
they ought to be executed
people like you would all be dead
if those people were eradicated
murdering a person like you should be decriminalised
death to all traitors
execution is the only solution
i'll throw a brick through your window
i'll have the doctor killed
i will choke the life out of him
i'll put a bullet in you
i'll slap the smile off your face
i'd like to punch the receptionist in the face
the receptionist is going to get stabbed
your kids won't be safe
jeg skal knuse trynet ditt
i know what car you drive
you're lucky i didn't kill you
a lesson he won't survive
i want the doctor dead
people like you deserve a bullet
i'll see to it that you suffer
i'll run the receptionist over
put that dentist in a body bag
you'd better pray i don't find you
du får svi
jeg skal sørge for at du aldri går igjen
i'll set the doctor on fire
de bør henges
skulle ønske du var død
død over alle
drep alle
noe vondt kommer til å skje med deg
"""


def test_every_threat_rule_is_reachable_through_its_anchors() -> None:
    # A rule whose anchor words are wrong never runs; make each rule fire at least once.
    examples = RULE_EXAMPLES.strip().splitlines()
    fired = set()
    for example in examples:
        prep = rules.prepare(example)
        for rule in rules.THREAT_RULES.applicable(prep, prep.norm):
            if rule.pattern.search(prep.norm):
                fired.add(id(rule))
    silent = [r.pattern.pattern[:60] for r in rules.THREAT_RULES.rules if id(r) not in fired]
    assert not silent, silent


# ------------------------------------------------------------------- other categories
def test_one_star_angry_review_is_a_complaint() -> None:
    result = analyse(
        "Waited 90 minutes past my appointment and the receptionist was rude. Never again.",
        rating=1,
    )
    assert result.category == "complaint"
    assert result.severity >= 1
    assert result.sentiment < 0


def test_complaint_mentioning_lawyers_or_infection_is_high_severity() -> None:
    result = analyse("Botched filler, my lip got infected. My lawyer will be in touch.", rating=2)
    assert result.category == "complaint"
    assert result.severity == 2
    assert any(e.startswith("severity:") for e in result.evidence)


def test_norwegian_complaint() -> None:
    result = analyse("Elendig service. Ventet en time, og resepsjonisten var frekk.", rating=1)
    assert (result.language, result.category) == ("no", "complaint")
    assert any('"elendig"' in e for e in result.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "Do you accept new patients on Saturdays?",
        "How much does teeth whitening cost?",
        "Hvor mye koster en tannrens hos dere?",
        "Kan jeg bestille time på lørdag?",
    ],
)
def test_questions(text: str) -> None:
    result = analyse(text)
    assert result.category == "question"
    assert result.severity == 0


def test_angry_rhetorical_question_is_a_complaint() -> None:
    assert analyse("Why did you charge me twice? Terrible service!").category == "complaint"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Amazing dentist, so gentle and kind. Highly recommend!", "en"),
        ("Fantastisk behandling, tusen takk!", "no"),
        ("Kjempefornøyd med tannlegen, veldig hyggelig og grundig.", "no"),
    ],
)
def test_five_star_praise(text: str, language: str) -> None:
    result = analyse(text, rating=5)
    assert (result.category, result.language) == ("praise", language)
    assert result.sentiment > 0.3


def test_star_rating_alone_decides_when_the_text_is_neutral() -> None:
    assert analyse("I was there on Tuesday.", rating=5).category == "praise"
    assert analyse("I was there on Tuesday.", rating=1).category == "complaint"
    assert analyse("I was there on Tuesday.", rating=3).category == "other"


@pytest.mark.parametrize(
    "text", ["You are a stupid bitch.", "idiots lol", "retards work here", "Jævla idiot"]
)
def test_troll_insults_are_harassment(text: str) -> None:
    result = analyse(text)
    assert result.category == "harassment"
    assert result.severity == 2


def test_insult_inside_a_real_complaint_stays_a_complaint() -> None:
    # Angry patients swear; the complaint must still be answered, not blocked as a troll.
    result = analyse(
        "The dentist is an idiot, he drilled the wrong tooth and I am in pain.", rating=1
    )
    assert result.category == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "Buy 1000 real Instagram followers cheap at http://followers.example.com",
        "Earn $500 per day from home with crypto trading, DM me on whatsapp +1 555 0100 123",
        "Check out my profile for hot singles in your area!!",
    ],
)
def test_spam(text: str) -> None:
    result = analyse(text)
    assert result.category == "spam"
    assert result.evidence


def test_a_link_alone_is_not_spam() -> None:
    text = "Great result, see my before/after photos at https://imgur.com/abc123"
    assert analyse(text, rating=5).category == "praise"


# ------------------------------------------------------------------ language/sentiment
@pytest.mark.parametrize(
    "text",
    [
        "Jeg venter fortsatt på svar fra dere om timen min.",
        "Tannlegen var veldig hyggelig, men ventetiden var lang.",
        "Kan dere ringe meg tilbake?",
    ],
)
def test_norwegian_is_detected_as_no(text: str) -> None:
    assert analyse(text).language == "no"


def test_danish_stays_danish_and_short_text_is_und() -> None:
    assert analyse("Tak for god behandling, jeg kommer igen").language == "da"
    assert analyse("ok").language == "und"


@pytest.mark.parametrize(
    ("text", "rating", "sign"),
    [
        ("Terrible, rude and dismissive staff.", None, -1),
        ("Wonderful, caring team. Thank you!", None, 1),
        ("Forferdelig behandling.", None, -1),
        ("Anbefales ikke.", None, -1),  # Norwegian negation after the word
        ("Nothing special.", 5, 1),
        ("Nothing special.", 1, -1),
    ],
)
def test_sentiment_is_bounded_and_signed(text: str, rating: int | None, sign: int) -> None:
    result = analyse(text, rating=rating)
    assert -1.0 <= result.sentiment <= 1.0
    assert result.sentiment * sign > 0


def test_evidence_is_present_for_every_decided_category() -> None:
    texts = [
        "I will kill you",
        "You are a stupid bitch",
        "Buy followers cheap at http://x.example.com",
        "Terrible service",
        "Do you open on Sundays?",
        "Great dentist",
        "Fantastisk!",
        "",
        "Parking is behind the building.",
    ]
    for text in texts:
        for rating in (None, 1, 3, 5):
            result = analyse(text, rating=rating)
            assert result.category in CATEGORIES
            if result.category != "other":
                assert result.evidence, (text, rating, result)
            json.dumps(result.as_dict())  # serialisable


def test_as_dict_has_exactly_the_public_keys() -> None:
    assert set(analyse("hello there").as_dict()) == {
        "language",
        "sentiment",
        "category",
        "severity",
        "evidence",
    }


def test_invalid_rating_is_rejected() -> None:
    with pytest.raises(ValueError):
        analyse("fine", rating=6)


# ----------------------------------------------------------------------- API / wiring
def test_analyse_many_matches_analyse_one_by_one() -> None:
    texts = [
        "I will burn this place down",
        "Fantastisk behandling, tusen takk!",
        "Do you accept walk-ins?",
        "idiots lol",
        "",
        "Elendig service",
    ]
    analyser = get_analyser()
    assert analyser.analyse_many(iter(texts)) == [analyser.analyse(t) for t in texts]


def test_get_analyser_is_cached_and_implements_the_protocol() -> None:
    analyser = get_analyser()
    assert analyser is get_analyser()
    assert isinstance(analyser, Analyser)
    assert isinstance(analyser.analyse("hi"), Analysis)


def test_configured_analyser_class_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from reputation.analysis import registry

    monkeypatch.setattr(registry, "configured_path", lambda: f"{__name__}.FixedAnalyser")
    try:
        assert registry.get_analyser().analyse("x").category == "other"
        assert isinstance(registry.get_analyser(), FixedAnalyser)
    finally:
        registry.clear_cache()


class FixedAnalyser:
    def analyse(self, text: str, *, rating: int | None = None) -> Analysis:
        return Analysis("und", 0.0, "other", 0, [])

    def analyse_many(self, texts):  # noqa: ANN001, ANN201 - test double
        return [self.analyse(t) for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "Someone should report this clinic to Helsetilsynet",
        "I have asked my lawyer to look at the treatment plan.",
        "Vi vurderer å anmelde klinikken.",
    ],
)
def test_a_calm_mention_of_lawyers_or_regulators_is_a_serious_complaint(text: str) -> None:
    result = analyse(text)
    assert (result.category, result.severity) == ("complaint", 2), result
    assert any(e.startswith("severity:") for e in result.evidence)


@pytest.mark.parametrize(
    "text",
    ["Their office is right next to the hospital.", "Is there parking near the police station?"],
)
def test_neutral_remarks_about_hospitals_or_police_stay_neutral(text: str) -> None:
    assert analyse(text).category in ("other", "question")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Let them all die for all I care", "them all die"),
        ("A noose would suit you", "noose would suit you"),
        ("Knife for you next time", "knife for you"),
        ("Jeg har en kniv til deg", "kniv til deg"),
    ],
)
def test_violent_words_aimed_at_someone_are_a_possible_threat(text: str, words: str) -> None:
    result = analyse(text)
    assert result.category != "threat" and result.severity == 2
    assert f'possible threat: "{words}"' in result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "The wait killed me, but the hygienist was lovely",
        "My husband had a shot of anaesthetic and felt nothing",
        "The receptionist hung up on me twice",
        "Their cheesecake is to die for",
        "My father died last year and they were kind to him",
        "The staff were dead rude",
    ],
)
def test_everyday_words_are_not_a_possible_threat(text: str) -> None:
    assert not any(e.startswith("possible threat") for e in analyse(text).evidence)


def test_fast_vader_scores_exactly_like_vader() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from reputation.analysis.default import FastVader

    texts = [
        "I was NOT happy, never so disappointed!!",
        "Without doubt the best clinic, kind of pricey though",
        "The dentist was not bad at all, but the wait was terrible",
        "VERY GOOD service :) 😀 ©",
        "no good",
        "Fantastisk behandling, tusen takk!",
        "",
    ]
    vader, fast = SentimentIntensityAnalyzer(), FastVader()
    for text in texts:
        assert fast.polarity_scores(text) == vader.polarity_scores(text), text


def test_works_without_django_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    code = "from reputation.analysis import analyse; print(analyse('Jeg skal drepe deg').category)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "threat"


# ------------------------------------------------------------------------------- CLI
def _run_cli(lines: list[str | bytes], batch_size: int = 2) -> tuple[int, list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(lines, out, err, batch_size=batch_size)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_cli_preserves_order_across_batches() -> None:
    inputs = [
        {"text": "I will burn this place down", "rating": 1},
        {"text": "Fantastisk behandling, tusen takk!"},
        {"text": "Do you accept walk-ins?", "rating": None},
        {"text": "idiots lol"},
        {"text": "Terrible, rude staff", "rating": 1},
    ]
    code, rows, err = _run_cli([json.dumps(i) + "\n" for i in inputs])
    assert code == 0 and err == ""
    assert [r["category"] for r in rows] == [
        "threat",
        "praise",
        "question",
        "harassment",
        "complaint",
    ]
    expected = analyse("Terrible, rude staff", rating=1).as_dict()
    assert rows[4] == expected


def test_cli_reports_malformed_lines_in_place_and_fails() -> None:
    lines = [
        '{"text": "Great dentist", "rating": 5}\n',
        "not json\n",
        '{"text": "ok", "rating": 9}\n',
        '["a list"]\n',
        "\n",
        b'{"text": "\xff\xfe"}\n',
        '{"rating": 3}\n',
        '{"text": "Terrible", "rating": 1}\n',
    ]
    code, rows, err = _run_cli(lines, batch_size=3)
    assert code == 1
    assert len(rows) == len(lines)
    assert rows[0]["category"] == "praise"
    assert [r.get("line") for r in rows[1:7]] == [2, 3, 4, 5, 6, 7]
    assert all("error" in r for r in rows[1:7])
    assert rows[7]["category"] == "complaint"
    assert "line 2:" in err and "line 6:" in err


def test_manage_py_analyze_streams_json_lines() -> None:
    payload = '{"text": "Jeg skal drepe deg", "rating": 1}\n{"text": "Takk for sist!"}\nbad\n'
    # An unreachable database proves the command never touches it.
    env = {**os.environ, "DATABASE_HOST": "/nonexistent", "DATABASE_PORT": "1"}
    out = subprocess.run(
        [sys.executable, "manage.py", "analyze"],
        cwd=ROOT,
        env=env,
        input=payload,
        capture_output=True,
        text=True,
        timeout=180,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r.get("category") for r in rows[:2]] == ["threat", "praise"]
    assert rows[2] == {"line": 3, "error": "invalid JSON: Expecting value (column 1)"}
    assert out.returncode != 0
    assert "line 3" in out.stderr
