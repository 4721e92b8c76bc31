"""Demo data a clinic recognises: an agency, two client practices, their people,
accounts, listening rules and a week and a half of mentions.

Mentions go through the real pipeline (`inbox.pipeline.store.mentions_ingest`), so they are
analysed, threaded, assigned to the account owner, given deadlines, alerted on and
audited exactly as live ones would be. Two things are the seed's own doing:

- History older than the backfill age is ingested as an import ("import:demo"): the
  practice connected its accounts a week ago and imported what was already there, so
  those mentions are filed as imported history, with no response deadline (the
  pipeline's own backfill rule); one already answered on the platform stays answered.
- Later mentions "arrived" when they were posted. The pipeline starts every clock at
  ingestion time, so after ingesting one the seed moves its `received_at` back to a
  couple of minutes after posting and recomputes the deadline from there (with an
  audit row saying so). That is what makes the older ones overdue and keeps the
  clocks of the last hour running.

Running it again changes nothing: practices are found by slug, users by email,
accounts by (platform, external id), rules by (kind, term) and mentions by
(platform, external id); what is missing is completed, what exists is left alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from django.db.models import Count
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from inbox.models import Alert, InboxSettings, ListeningRule, Mention, SocialAccount
from inbox.pipeline import deadlines
from inbox.pipeline.alerts import threat_alert_raise
from inbox.pipeline.route import BACKFILL_AGE
from inbox.pipeline.store import mentions_ingest
from inbox.platforms.base import Kind, NormalisedMention, Platform
from inbox.services import AccountTaken, inbox_settings_get, social_account_save
from reputation.audit.services import audit_record
from tenants import services as tenant_services
from tenants.models import AccountRoute, Agency, Membership, Practice, Role, User
from tenants.selectors import practice_url, public_url

PASSWORD = "demo-pass-2026"  # noqa: S105 - the published demo password, demo data only
AGENCY_SLUG = "northlight"
AGENCY_NAME = "Northlight Marketing"
ADMIN_EMAIL = "admin@demo.test"
AGENCY_EMAIL = "agency@demo.test"
SEED_ACTOR = "seed_demo"
# Webhook deliveries are not instant: a mention "arrives" this long after posting.
ARRIVAL_LAG = dt.timedelta(minutes=2)
LIVE_SOURCE = "demo"
IMPORT_SOURCE = "import:demo"

USERS: dict[str, str] = {
    "owner@fjord-dental.test": "Ingrid Berg",
    "responder@fjord-dental.test": "Jonas Lie",
    "manager@fjord-dental.test": "Sara Nilsen",
    "owner@glow.test": "Maya Haugen",
    "responder@glow.test": "Emil Strand",
    AGENCY_EMAIL: "Nora Vik",
    ADMIN_EMAIL: "Demo Admin",
}


Say = Callable[[str], None]


class Writer(Protocol):
    def write(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


# ---------------------------------------------------------------- the data shapes


@dataclasses.dataclass(frozen=True)
class AccountSpec:
    key: str  # how the mentions below refer to it
    platform: str
    external_id: str
    display_name: str
    handle: str = ""
    url: str = ""
    owner: str | None = None  # user email; None leaves the account unowned
    backup: str | None = None


@dataclasses.dataclass(frozen=True)
class Edit:
    """A later version of a mention: same external id, newer updated_at."""

    ago: dt.timedelta
    text: str
    rating: int | None


@dataclasses.dataclass(frozen=True)
class Seed:
    external_id: str
    platform: str
    kind: str
    ago: dt.timedelta  # posted this long before the seed runs
    text: str
    account: str | None = None  # AccountSpec.key the item was addressed to
    author: str = ""
    author_id: str = ""
    handle: str = ""
    rating: int | None = None
    url: str = ""
    parent: str = ""
    root: str = ""
    from_owner: bool = False
    edit: Edit | None = None
    # The practice's public answer already on the platform (a GBP reviewReply).
    reply: tuple[dt.timedelta, str] | None = None


@dataclasses.dataclass(frozen=True)
class PracticeSpec:
    slug: str
    name: str
    owner_email: str
    members: tuple[tuple[str, str], ...]  # (email, role), the owner included
    accounts: tuple[AccountSpec, ...]
    rules: tuple[tuple[str, str], ...]  # (ListeningRule.Kind, term)
    mentions: tuple[Seed, ...]


@dataclasses.dataclass
class Tally:
    created: int = 0
    present: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.present} already present"


@dataclasses.dataclass
class DemoSummary:
    practices: Tally = dataclasses.field(default_factory=Tally)
    users: Tally = dataclasses.field(default_factory=Tally)
    accounts: Tally = dataclasses.field(default_factory=Tally)
    rules: Tally = dataclasses.field(default_factory=Tally)
    mentions: Tally = dataclasses.field(default_factory=Tally)
    revisions: Tally = dataclasses.field(default_factory=Tally)
    # Items the listening rules kept out (an exclusion); never stored, so every run
    # skips them again.
    mentions_skipped: int = 0
    # slug -> category -> number of mentions now in that practice
    categories: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)

    @property
    def created_anything(self) -> bool:
        return any(
            t.created
            for t in (
                self.practices,
                self.users,
                self.accounts,
                self.rules,
                self.mentions,
                self.revisions,
            )
        )


def _m(minutes: float) -> dt.timedelta:
    return dt.timedelta(minutes=minutes)


def _h(hours: float) -> dt.timedelta:
    return dt.timedelta(hours=hours)


def _d(days: float) -> dt.timedelta:
    return dt.timedelta(days=days)


# ---------------------------------------------------------------- Fjord Dental Clinic

FJ_OWNER = "owner@fjord-dental.test"
FJ_RESPONDER = "responder@fjord-dental.test"
FJ_MANAGER = "manager@fjord-dental.test"
FJ_PAGE = "104857600123456"
FJ_IG = "17841400000000101"
FJ_X = "1498765432101234567"
FJ_FEED = "https://www.google.com/alerts/feeds/04567890123456789012/1234567890123456789"
FJ_POST = f"{FJ_PAGE}_555000111"
FJ_IG_WHITENING = "17900000000000101"
FJ_IG_INVISALIGN = "17900000000000102"

FJORD = PracticeSpec(
    slug="fjord-dental",
    name="Fjord Dental Clinic",
    owner_email=FJ_OWNER,
    members=((FJ_OWNER, Role.OWNER), (FJ_MANAGER, Role.MANAGER), (FJ_RESPONDER, Role.RESPONDER)),
    accounts=(
        AccountSpec(
            "google",
            Platform.GOOGLE,
            "accounts/1001/locations/2001",
            "Fjord Dental Clinic – Majorstuen",
            url="https://maps.google.com/?cid=1001200120012001",
            owner=FJ_RESPONDER,
            backup=FJ_MANAGER,
        ),
        AccountSpec(
            "facebook",
            Platform.FACEBOOK,
            FJ_PAGE,
            "Fjord Dental Clinic",
            url=f"https://www.facebook.com/{FJ_PAGE}",
            owner=FJ_MANAGER,
            backup=FJ_RESPONDER,
        ),
        AccountSpec(
            "instagram",
            Platform.INSTAGRAM,
            FJ_IG,
            "fjorddental",
            handle="@fjorddental",
            url="https://www.instagram.com/fjorddental/",
            owner=FJ_RESPONDER,
            backup=FJ_MANAGER,
        ),
        AccountSpec(
            "x",
            Platform.X,
            FJ_X,
            "Fjord Dental",
            handle="@fjorddental",
            url="https://x.com/fjorddental",
            owner=FJ_MANAGER,
            backup=FJ_OWNER,
        ),
        AccountSpec(
            "yelp",
            Platform.YELP,
            "fjord-dental-clinic-oslo",
            "Fjord Dental Clinic (Yelp)",
            url="https://www.yelp.com/biz/fjord-dental-clinic-oslo",
            owner=FJ_RESPONDER,
            backup=FJ_MANAGER,
        ),
        AccountSpec(
            "tripadvisor",
            Platform.TRIPADVISOR,
            "23456789",
            "Fjord Dental Clinic (Tripadvisor)",
            url="https://www.tripadvisor.com/Attraction_Review-g190479-d23456789",
            owner=FJ_MANAGER,
            backup=FJ_RESPONDER,
        ),
        AccountSpec(
            "alert",
            Platform.FEED,
            FJ_FEED,
            "Google Alert: “Fjord Dental”",
            url=FJ_FEED,
            owner=FJ_OWNER,
            backup=FJ_MANAGER,
        ),
    ),
    rules=(
        (ListeningRule.Kind.BRAND, "Fjord Dental Clinic"),
        (ListeningRule.Kind.BRAND, "Fjord Dental"),
        (ListeningRule.Kind.ALIAS, "Fjord Tannklinikk"),
        (ListeningRule.Kind.ALIAS, "fjorddental"),
        (ListeningRule.Kind.MISSPELLING, "Fjord Dentl"),
        (ListeningRule.Kind.MISSPELLING, "Fjord Dentall"),
        (ListeningRule.Kind.MISSPELLING, "Fjordental"),
        (ListeningRule.Kind.STAFF, "Dr. Hansen"),
        (ListeningRule.Kind.STAFF, "Dr. Eriksen"),
        (ListeningRule.Kind.STAFF, "Ingrid Berg"),
        (ListeningRule.Kind.PRODUCT, "Invisalign"),
        (ListeningRule.Kind.PRODUCT, "tannbleking"),
        (ListeningRule.Kind.EXCLUSION, "Fjord Dental Supplies"),
    ),
    mentions=(
        # History from before the accounts were connected: imported, filed as history.
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDE",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(10),
            "Dr. Hansen is the calmest dentist I have ever had. I am terrified of "
            "dentists and she explained every step before doing it. Painless filling, "
            "friendly staff, and they were on time. Highly recommend.",
            account="google",
            author="Eirik Solheim",
            author_id="g-user-31337001",
            rating=5,
        ),
        Seed(
            "912345678",
            Platform.TRIPADVISOR,
            Kind.REVIEW,
            _d(9) + _h(3),
            "Cracked a molar on day two of our Oslo holiday. Fjord Dental saw me the same "
            "afternoon, explained the costs up front in English and fixed it properly. "
            "Excellent service for a tourist in a panic.",
            account="tripadvisor",
            author="Helen from Manchester",
            author_id="ta-member-88123",
            rating=5,
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDI",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(8) + _h(5),
            "Lang ventetid. Jeg hadde time klokka 08.30 og ble hentet 09.40. Ingen sa "
            "unnskyld eller forklarte hvorfor. Selve behandlingen var grei, men ventetiden "
            "er dårlig.",
            account="google",
            author="Marte Kristiansen",
            author_id="g-user-31337002",
            rating=2,
            reply=(
                _d(8) + _h(1),
                "Takk for tilbakemeldingen, og beklager ventetiden. Vi jobber med å bli mer "
                "punktlige om morgenen. Ta gjerne kontakt på 22 00 00 00 om du vil snakke "
                "med oss. Hilsen Ingrid",
            ),
        ),
        Seed(
            "vQx3Lm2NcP8rT1yZbK4wAa",
            Platform.YELP,
            Kind.REVIEW,
            _d(8),
            "Finished my Invisalign treatment here after 14 months. Dr. Eriksen checked "
            "progress every six weeks and never rushed me. Straight teeth, fair price. Five "
            "stars.",
            account="yelp",
            author="Lucas M.",
            author_id="yelp-u-Lm7781",
            rating=5,
        ),
        # Live since the accounts were connected: the pipeline's clocks apply.
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDM",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(6) + _h(2),
            "Billing surprise. I was quoted 1,800 kr for a filling and the bill was "
            "4,300 kr because of 'extra materials' nobody mentioned. When I asked at the "
            "desk I got a shrug. Disappointed and I feel cheated.",
            account="google",
            author="Thomas Aas",
            author_id="g-user-31337003",
            rating=1,
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDQ",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(5) + _h(1),
            "Waited 75 minutes past my appointment and nobody told me why. Terrible "
            "organisation. Never again.",
            account="google",
            author="Anne Lise Bakke",
            author_id="g-user-31337004",
            rating=1,
            edit=Edit(
                _d(2) + _h(4),
                "UPDATE: the clinic manager Sara called me the next day, explained that an "
                "emergency patient had delayed everything, and apologised properly. The "
                "treatment itself was good and they gave me the first slot next time. Four "
                "stars.",
                4,
            ),
        ),
        # A short thread on the Facebook page: a post, another customer's comment and
        # the practice's own reply (which stops the post's clock).
        Seed(
            FJ_POST,
            Platform.FACEBOOK,
            Kind.POST,
            _d(4) + _h(6),
            "Is anyone else having trouble booking at Fjord Dental? The online booking has "
            "been broken all week and nobody answers the phone before 10.",
            account="facebook",
            author="Kari Nordmann",
            author_id="fb-100004001",
            url=f"https://www.facebook.com/{FJ_POST}",
        ),
        Seed(
            "555000111_700001",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(4) + _h(5),
            "Same here, had to call three times. The lady on the phone was helpful once I "
            "got through though.",
            account="facebook",
            author="Per Olsen",
            author_id="fb-100004002",
            parent=FJ_POST,
            root=FJ_POST,
        ),
        Seed(
            "555000111_700002",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(4) + _h(5) + _m(20),
            "Hi Kari, thank you for telling us and sorry for the trouble. The booking page "
            "broke after an update and is working again now. If you would rather book by "
            "phone, send us a private message with a good time and we will call you.",
            account="facebook",
            author="Fjord Dental Clinic",
            author_id=FJ_PAGE,
            parent=FJ_POST,
            root=FJ_POST,
            from_owner=True,
        ),
        Seed(
            "1790000000000000101",
            Platform.X,
            Kind.POST,
            _d(3) + _h(7),
            "@fjorddental rudest receptionist I have ever met. Rolled her eyes when I asked "
            "why my bill was higher than the quote. Unprofessional.",
            author="Tomas J",
            author_id="x-2200001",
            handle="@tomasj_oslo",
            url="https://x.com/tomasj_oslo/status/1790000000000000101",
        ),
        Seed(
            "1790000000000000102",
            Platform.X,
            Kind.COMMENT,
            _d(3) + _h(6) + _m(25),
            "@tomasj_oslo We are sorry to hear this, that is not how we want anyone to be "
            "met. Could you send us a DM so we can look into it with you?",
            account="x",
            author="Fjord Dental",
            author_id=FJ_X,
            handle="@fjorddental",
            parent="1790000000000000101",
            root="1790000000000000101",
            from_owner=True,
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDU",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(3) + _h(2),
            "Never been there but heard they are crooks who overcharge everyone. Stay away.",
            account="google",
            author="Truth Teller 99",
            author_id="g-user-31337005",
            rating=1,
        ),
        Seed(
            "17850000000000101",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _d(2) + _h(9),
            "Tusen takk til Dr. Eriksen og hele teamet! Kjempefornøyd med tannblekingen, "
            "og dere var så hyggelige 😍",
            account="instagram",
            author="linnea.h",
            author_id="ig-5500001",
            handle="@linnea.h",
            parent=FJ_IG_WHITENING,
            root=FJ_IG_WHITENING,
        ),
        Seed(
            "17850000000000102",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _d(2) + _h(8),
            "Hvor mye koster tannbleking hos dere?",
            account="instagram",
            author="sofie.andersen",
            author_id="ig-5500002",
            handle="@sofie.andersen",
            parent=FJ_IG_WHITENING,
            root=FJ_IG_WHITENING,
        ),
        Seed(
            "17850000000000103",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _d(2) + _h(7) + _m(30),
            "Hei Sofie! Tannbleking starter på 3 500 kr. Send oss gjerne en melding, så "
            "finner vi en time som passer 😊",
            account="instagram",
            author="fjorddental",
            author_id=FJ_IG,
            handle="@fjorddental",
            parent="17850000000000102",
            root=FJ_IG_WHITENING,
            from_owner=True,
        ),
        Seed(
            "555000222_700010",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(2) + _h(3),
            "lol what a joke. bunch of clowns pretending to be dentists, you are all "
            "idiots and losers. nobody cares about your fake smiles",
            account="facebook",
            author="xXdentalhaterXx",
            author_id="fb-100004666",
            parent=f"{FJ_PAGE}_555000222",
            root=f"{FJ_PAGE}_555000222",
        ),
        Seed(
            "tag:google.com,2013:googlealerts/feed:9000000000000000101",
            Platform.FEED,
            Kind.ARTICLE,
            _d(1) + _h(20),
            "My root canal at Fjord Dental Clinic – an honest review\n\nThe procedure "
            "itself was quick, but I had throbbing pain for four days afterwards and "
            "nobody called me back when I rang about it. The painkillers they suggested "
            "did nothing. I would think twice before going back.",
            account="alert",
            author="Oslo Everyday (blog)",
            url="https://osloeveryday.blog/2026/root-canal-fjord-dental",
        ),
        Seed(
            "Yq8Rt3Ws1Zx0Pc5Vb7Nm2A",
            Platform.YELP,
            Kind.REVIEW,
            _d(1) + _h(6),
            "Had a wisdom tooth out. Swelling and pain for a week, and when I called about "
            "it the receptionist told me to just take ibuprofen. Felt dismissed. The "
            "surgery was fine, the aftercare was not.",
            account="yelp",
            author="Ola B.",
            author_id="yelp-u-Ob2231",
            rating=2,
        ),
        Seed(
            "555000333_700020",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(1) + _h(2),
            "💰 Earn $5000 a week from home!!! Click here bit.ly/xx-cash-now and DM me for "
            "free crypto signals 🚀🚀",
            account="facebook",
            author="Crypto Queen",
            author_id="fb-100009999",
            parent=f"{FJ_PAGE}_555000333",
            root=f"{FJ_PAGE}_555000333",
        ),
        # Indirect: a forum thread found by a different feed, caught by a misspelling.
        Seed(
            "https://www.tannlegeforum.no/t/fjord-dentl-majorstuen/48211",
            Platform.FEED,
            Kind.ARTICLE,
            _h(20),
            "Anyone tried Fjord Dentl in Majorstuen? Thinking about Invisalign there, is "
            "it worth the price?",
            author="bracesnewbie",
            url="https://www.tannlegeforum.no/t/fjord-dentl-majorstuen/48211",
        ),
        # Indirect: names the clinic without its @handle.
        Seed(
            "1790000000000000103",
            Platform.X,
            Kind.POST,
            _h(3),
            "Fjord Dental fixed my broken tooth in 20 minutes on a Saturday. Great people, "
            "highly recommend!",
            author="Nils Q",
            author_id="x-2200003",
            handle="@nilsq",
            url="https://x.com/nilsq/status/1790000000000000103",
        ),
        # A supplier with a similar name: the exclusion rule keeps it out of the inbox.
        Seed(
            "1790000000000000104",
            Platform.X,
            Kind.POST,
            _h(2),
            "Fjord Dental Supplies has the best prices on burs and impression trays this "
            "month #dentistry",
            author="DentalDeals",
            author_id="x-2200004",
            handle="@dentaldeals",
        ),
        # The last hour: clocks still running.
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDY",
            Platform.GOOGLE,
            Kind.REVIEW,
            _m(50),
            "Fantastisk service! Dr. Hansen var utrolig flink og rolig, og jeg kjente "
            "ingenting. Beste tannlegen jeg har hatt.",
            account="google",
            author="Hanne Lunde",
            author_id="g-user-31337006",
            rating=5,
        ),
        Seed(
            "555000444_700030",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _m(35),
            "Do you take new patients? We just moved to Frogner with two kids.",
            account="facebook",
            author="Emma Wilson",
            author_id="fb-100004003",
            parent=f"{FJ_PAGE}_555000444",
            root=f"{FJ_PAGE}_555000444",
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZmQwMDc",
            Platform.GOOGLE,
            Kind.REVIEW,
            _m(25),
            "Resepsjonisten var frekk og uhøflig da jeg spurte om regningen. Hun himlet med "
            "øynene og sa at jeg fikk ta det med banken. Dårlig oppførsel.",
            account="google",
            author="Jan Erik Moen",
            author_id="g-user-31337007",
            rating=2,
        ),
        Seed(
            "17850000000000104",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _m(15),
            "Can I get Invisalign if I have a crown on one of my front teeth?",
            account="instagram",
            author="mia.k",
            author_id="ig-5500003",
            handle="@mia.k",
            parent=FJ_IG_INVISALIGN,
            root=FJ_IG_INVISALIGN,
        ),
        Seed(
            "1790000000000000105",
            Platform.X,
            Kind.POST,
            _m(4),
            "I know where the clinic is. Someone at @fjorddental will get hurt for what "
            "they did to my mother. I'll burn it down.",
            author="anon88213",
            author_id="x-2200666",
            handle="@anon88213",
            url="https://x.com/anon88213/status/1790000000000000105",
        ),
    ),
)

# ---------------------------------------------------------------- Glow Aesthetics

GL_OWNER = "owner@glow.test"
GL_RESPONDER = "responder@glow.test"
GL_PAGE = "204857600654321"
GL_IG = "17841400000000202"
GL_X = "1598765432109876543"
GL_FEED = "https://www.google.com/alerts/feeds/04567890123456789012/9876543210987654321"
GL_IG_PROFHILO = "17900000000000201"
GL_IG_LASER = "17900000000000202"

GLOW = PracticeSpec(
    slug="glow-aesthetics",
    name="Glow Aesthetics",
    owner_email=GL_OWNER,
    members=((GL_OWNER, Role.OWNER), (GL_RESPONDER, Role.RESPONDER)),
    accounts=(
        AccountSpec(
            "google",
            Platform.GOOGLE,
            "accounts/1002/locations/2002",
            "Glow Aesthetics – Frogner",
            url="https://maps.google.com/?cid=1002200220022002",
            owner=GL_OWNER,
            backup=GL_RESPONDER,
        ),
        AccountSpec(
            "facebook",
            Platform.FACEBOOK,
            GL_PAGE,
            "Glow Aesthetics",
            url=f"https://www.facebook.com/{GL_PAGE}",
            owner=GL_RESPONDER,
            backup=GL_OWNER,
        ),
        AccountSpec(
            "instagram",
            Platform.INSTAGRAM,
            GL_IG,
            "glowaesthetics.oslo",
            handle="@glowaesthetics.oslo",
            url="https://www.instagram.com/glowaesthetics.oslo/",
            # The agency runs the clinic's Instagram.
            owner=AGENCY_EMAIL,
            backup=GL_RESPONDER,
        ),
        AccountSpec(
            "x",
            Platform.X,
            GL_X,
            "Glow Aesthetics",
            handle="@glowaesthetics",
            url="https://x.com/glowaesthetics",
            owner=GL_RESPONDER,
            backup=GL_OWNER,
        ),
        # Nobody owns the Yelp listing yet: the accounts page flags it.
        AccountSpec(
            "yelp",
            Platform.YELP,
            "glow-aesthetics-oslo",
            "Glow Aesthetics (Yelp)",
            url="https://www.yelp.com/biz/glow-aesthetics-oslo",
        ),
        AccountSpec(
            "alert",
            Platform.FEED,
            GL_FEED,
            "Google Alert: “Glow Aesthetics”",
            url=GL_FEED,
            owner=GL_OWNER,
            backup=GL_RESPONDER,
        ),
    ),
    rules=(
        (ListeningRule.Kind.BRAND, "Glow Aesthetics"),
        (ListeningRule.Kind.ALIAS, "Glow Clinic Oslo"),
        (ListeningRule.Kind.ALIAS, "glowaesthetics"),
        (ListeningRule.Kind.MISSPELLING, "Glow Asthetics"),
        (ListeningRule.Kind.MISSPELLING, "Glow Esthetics"),
        (ListeningRule.Kind.STAFF, "Dr. Solberg"),
        (ListeningRule.Kind.STAFF, "Maya Haugen"),
        (ListeningRule.Kind.STAFF, "Nurse Camilla"),
        (ListeningRule.Kind.PRODUCT, "Profhilo"),
        (ListeningRule.Kind.PRODUCT, "lip filler"),
        (ListeningRule.Kind.PRODUCT, "laser hair removal"),
        (ListeningRule.Kind.EXCLUSION, "Glow Aesthetics Academy"),
    ),
    mentions=(
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZ2wwMDE",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(9) + _h(2),
            "Maya and the team are wonderful. My Botox looks completely natural, nobody "
            "at work noticed anything except that I look rested. Clean, calm clinic.",
            account="google",
            author="Camilla Ruud",
            author_id="g-user-41337001",
            rating=5,
        ),
        Seed(
            "Gw2Lh7Rr9Tq4Xs1Ue6Ko3B",
            Platform.YELP,
            Kind.REVIEW,
            _d(8) + _h(1),
            "Six sessions of laser hair removal. Results are good, the staff explained the "
            "aftercare well. A bit pricey, four stars.",
            account="yelp",
            author="Julie T.",
            author_id="yelp-u-Jt4410",
            rating=4,
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZ2wwMDI",
            Platform.GOOGLE,
            Kind.REVIEW,
            _d(5) + _h(3),
            "Lip filler left me with a hard lump and bruising for two weeks. I paid "
            "4,900 kr and had to beg for a follow-up appointment. Very disappointed with "
            "the aftercare.",
            account="google",
            author="Ida Johansen",
            author_id="g-user-41337002",
            rating=1,
            reply=(
                _d(5) + _h(1),
                "Thank you for telling us, Ida. We take concerns like this seriously and "
                "would like to talk with you directly: please call us on 22 11 22 33 or send "
                "us a message and ask for Maya.",
            ),
        ),
        Seed(
            "17850000000000201",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _d(4) + _h(4),
            "Så fornøyd med Profhilo-behandlingen! Huden min har aldri vært bedre. Tusen "
            "takk til Dr. Solberg 💛",
            account="instagram",
            author="nora.glad",
            author_id="ig-6600001",
            handle="@nora.glad",
            parent=GL_IG_PROFHILO,
            root=GL_IG_PROFHILO,
        ),
        Seed(
            "17850000000000202",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _d(4) + _h(3) + _m(15),
            "Tusen takk, Nora, så hyggelig å høre! 💛",
            account="instagram",
            author="glowaesthetics.oslo",
            author_id=GL_IG,
            handle="@glowaesthetics.oslo",
            parent="17850000000000201",
            root=GL_IG_PROFHILO,
            from_owner=True,
        ),
        Seed(
            "655000111_800001",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(3) + _h(5),
            "Hvor mye koster laser hårfjerning for legger hos dere?",
            account="facebook",
            author="Silje Berntsen",
            author_id="fb-200004001",
            parent=f"{GL_PAGE}_655000111",
            root=f"{GL_PAGE}_655000111",
        ),
        Seed(
            "Hx5Mn8Pp2Qr7St4Uv1Wx9C",
            Platform.YELP,
            Kind.REVIEW,
            _d(2) + _h(6),
            "Never been there but heard they are crooks who botch faces and take your "
            "money. One star.",
            account="yelp",
            author="Concerned Citizen",
            author_id="yelp-u-Cc0001",
            rating=1,
        ),
        Seed(
            "1890000000000000201",
            Platform.X,
            Kind.POST,
            _d(2) + _h(1),
            "@glowaesthetics plastic fake people, you all look like clowns. pathetic losers lol",
            author="realtalk_77",
            author_id="x-3300666",
            handle="@realtalk_77",
            url="https://x.com/realtalk_77/status/1890000000000000201",
        ),
        Seed(
            "tag:google.com,2013:googlealerts/feed:9000000000000000201",
            Platform.FEED,
            Kind.ARTICLE,
            _d(1) + _h(22),
            "Botox in Oslo: five clinics compared\n\nGlow Aesthetics in Frogner was the "
            "most thorough at the consultation and the only clinic that talked us out of "
            "a treatment we did not need. Prices are mid-range.",
            account="alert",
            author="Skjønnhetsbloggen",
            url="https://skjonnhetsbloggen.no/botox-oslo-klinikker",
        ),
        Seed(
            "655000333_2419900001",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _h(6),
            "Honestly someone should take a gun to that receptionist after how she "
            "treated my sister on the phone.",
            account="facebook",
            author="Tor Haugen",
            author_id="fb-200007777",
            parent=f"{GL_PAGE}_655000333",
            root=f"{GL_PAGE}_655000333",
        ),
        Seed(
            "655000222_800010",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _d(1) + _h(3),
            "Cheap Botox wholesale!!! 100 units only $59, WhatsApp +1 555 0100 now, "
            "discreet shipping 💉💉 click bit.ly/cheap-btx",
            account="facebook",
            author="Best Deals Pharma",
            author_id="fb-200009999",
            parent=f"{GL_PAGE}_655000222",
            root=f"{GL_PAGE}_655000222",
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZ2wwMDM",
            Platform.GOOGLE,
            Kind.REVIEW,
            _h(20),
            "The consultation was advertised as free but I was charged 800 kr for it on "
            "the bill. Nobody mentioned that before. Not ok.",
            account="google",
            author="Kristin Holm",
            author_id="g-user-41337003",
            rating=2,
        ),
        Seed(
            "ChdDSUhNMG9nS0VJQ0FnSURfZ2wwMDQ",
            Platform.GOOGLE,
            Kind.REVIEW,
            _m(40),
            "Nurse Camilla was so gentle and patient with me. I was nervous about my first "
            "laser session and she made it easy. Lovely clinic!",
            account="google",
            author="Aisha Rahman",
            author_id="g-user-41337004",
            rating=5,
        ),
        Seed(
            "Jk3Lm6Np9Qr2St5Uv8Wx1D",
            Platform.YELP,
            Kind.REVIEW,
            _m(30),
            "Are you open on Saturdays? I can't make weekday appointments.",
            account="yelp",
            author="Marius K.",
            author_id="yelp-u-Mk7788",
        ),
        Seed(
            "17850000000000203",
            Platform.INSTAGRAM,
            Kind.COMMENT,
            _m(20),
            "Do you do laser hair removal for dark skin? 🙏",
            account="instagram",
            author="amina.s",
            author_id="ig-6600002",
            handle="@amina.s",
            parent=GL_IG_LASER,
            root=GL_IG_LASER,
        ),
        Seed(
            "655000333_800020",
            Platform.FACEBOOK,
            Kind.COMMENT,
            _m(10),
            "Ventet 45 minutter på venterommet uten at noen sa fra. Dårlig, når jeg har "
            "tatt fri fra jobb for å komme.",
            account="facebook",
            author="Tone Eriksen",
            author_id="fb-200004002",
            parent=f"{GL_PAGE}_655000333",
            root=f"{GL_PAGE}_655000333",
        ),
    ),
)

PRACTICES: tuple[PracticeSpec, ...] = (FJORD, GLOW)


# ---------------------------------------------------------------- the service


def demo_seed(*, stdout: Writer | None = None) -> DemoSummary:
    """Create (or complete) the demo agency, practices, people, accounts, rules and
    mentions. Idempotent: a second run creates nothing."""

    def say(line: str) -> None:
        if stdout is not None:
            stdout.write(line + "\n")  # a command's OutputWrapper adds no second newline

    summary = DemoSummary()
    now = timezone.now()
    with schema_context("public"):
        tenant_services.public_tenant_ensure()
        users = _users_ensure(summary, say)
        agency = _agency_ensure(users, say)
        practices = [_practice_ensure(spec, agency, users, summary, say) for spec in PRACTICES]
    for spec, practice in zip(PRACTICES, practices, strict=True):
        # tenant_context, not schema_context: the pipeline reads the practice itself
        # (name, timezone, memberships) from connection.tenant.
        with tenant_context(practice):
            _accounts_ensure(spec, users, summary, say)
            _rules_ensure(spec, summary, say)
            _mentions_ensure(spec, practice, now, summary, say)
            summary.categories[spec.slug] = dict(
                Mention.objects.values_list("category")
                .annotate(n=Count("id"))
                .order_by("category")
                .values_list("category", "n")
            )
    _summary_print(summary, practices, say)
    return summary


def _users_ensure(summary: DemoSummary, say: Say) -> dict[str, User]:
    users: dict[str, User] = {}
    for email, full_name in USERS.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            if email == ADMIN_EMAIL:
                user = User.objects.create_superuser(email, PASSWORD, full_name=full_name)
            else:
                user = tenant_services.user_get_or_create(
                    email=email, password=PASSWORD, full_name=full_name
                )
            summary.users.created += 1
            say(f"  user {email} created")
        else:
            summary.users.present += 1
            if not user.full_name:  # e.g. created earlier as a practice owner without a name
                User.objects.filter(pk=user.pk).update(full_name=full_name)
                user.full_name = full_name
        users[email] = user
    return users


def _agency_ensure(users: dict[str, User], say: Say) -> Agency:
    agency, created = Agency.objects.get_or_create(slug=AGENCY_SLUG, defaults={"name": AGENCY_NAME})
    say(f"Agency {agency.name}: {'created' if created else 'already present'}")
    if not agency.memberships.filter(user=users[AGENCY_EMAIL]).exists():
        tenant_services.agency_membership_set(
            user=users[AGENCY_EMAIL], agency=agency, role=Role.MANAGER
        )
    return agency


def _practice_ensure(
    spec: PracticeSpec, agency: Agency, users: dict[str, User], summary: DemoSummary, say: Say
) -> Practice:
    practice = Practice.objects.filter(slug=spec.slug).first()
    if practice is None:
        say(f"Practice {spec.name}: creating schema …")
        practice = tenant_services.practice_create(
            slug=spec.slug, name=spec.name, owner_email=spec.owner_email, agency=agency
        )
        summary.practices.created += 1
        say(f"Practice {spec.name}: created ({practice.schema_name})")
    else:
        summary.practices.present += 1
        say(f"Practice {spec.name}: already present, completing it")
        if practice.agency_id is None:
            Practice.objects.filter(pk=practice.pk).update(agency=agency)
            practice.agency = agency
        elif practice.agency_id != agency.pk:
            say(f"  note: {spec.slug} is a client of another agency; left as it is")
    for email, role in spec.members:
        # Existing memberships are left alone: someone may have changed the role since.
        if not Membership.objects.filter(user=users[email], practice=practice).exists():
            tenant_services.membership_set(user=users[email], practice=practice, role=role)
    return practice


def _accounts_ensure(
    spec: PracticeSpec, users: dict[str, User], summary: DemoSummary, say: Say
) -> None:
    created = 0
    for a in spec.accounts:
        account = SocialAccount.objects.filter(
            platform=a.platform, external_id=a.external_id
        ).first()
        if account is None:
            account = SocialAccount(
                platform=a.platform,
                external_id=a.external_id,
                display_name=a.display_name,
                handle=a.handle,
                url=a.url,
                owner=users[a.owner] if a.owner else None,
                backup_owner=users[a.backup] if a.backup else None,
            )
        elif AccountRoute.objects.filter(platform=a.platform, external_id=a.external_id).exists():
            continue  # present and routed: left as it is (owners may have changed)
        # New, or present without its webhook route (made before routes existed).
        is_new = account.pk is None
        try:
            social_account_save(account=account)
        except AccountTaken:
            say(f"  note: {a.platform} {a.external_id} belongs to another practice; skipped")
            continue
        created += is_new
    summary.accounts.created += created
    summary.accounts.present += len(spec.accounts) - created
    say(f"  {spec.slug}: {created} of {len(spec.accounts)} social accounts created")


def _rules_ensure(spec: PracticeSpec, summary: DemoSummary, say: Say) -> None:
    created = 0
    for kind, term in spec.rules:
        _, was_created = ListeningRule.objects.get_or_create(kind=kind, term=term)
        created += was_created
    summary.rules.created += created
    summary.rules.present += len(spec.rules) - created
    say(f"  {spec.slug}: {created} of {len(spec.rules)} listening rules created")


def _normalised(
    seed: Seed, spec: PracticeSpec, now: dt.datetime, *, edit: Edit | None = None
) -> NormalisedMention:
    accounts = {a.key: a for a in spec.accounts}
    posted_at = now - seed.ago
    return NormalisedMention(
        platform=seed.platform,
        external_id=seed.external_id,
        kind=seed.kind,
        text=edit.text if edit else seed.text,
        rating=edit.rating if edit else seed.rating,
        posted_at=posted_at,
        # Always give a version time, or re-sending the first version of an edited
        # review would count as a newer edit.
        updated_at=(now - edit.ago) if edit else posted_at,
        author_external_id=seed.author_id,
        author_name=seed.author,
        author_handle=seed.handle,
        url=seed.url,
        account_external_id=accounts[seed.account].external_id if seed.account else "",
        parent_external_id=seed.parent,
        root_external_id=seed.root,
        from_owner=seed.from_owner,
        owner_reply_text=seed.reply[1] if seed.reply else "",
        owner_reply_at=(now - seed.reply[0]) if seed.reply else None,
    )


def _mentions_ensure(
    spec: PracticeSpec, practice: Practice, now: dt.datetime, summary: DemoSummary, say: Say
) -> None:
    created = present = skipped = 0
    settings = inbox_settings_get()
    for seed in spec.mentions:
        mention = Mention.objects.filter(
            platform=seed.platform, external_id=seed.external_id
        ).first()
        if mention is not None:
            present += 1
            _threat_alert_complete(mention)
        else:
            is_history = seed.ago > BACKFILL_AGE
            source = IMPORT_SOURCE if is_history else LIVE_SOURCE
            result = mentions_ingest([_normalised(seed, spec, now)], source=source)
            if result.skipped:
                skipped += 1
                continue
            mention = result.mentions[0] if result.mentions else None
            if mention is None:  # stored concurrently by someone else
                present += 1
                continue
            created += 1
            if not is_history:
                _arrival_backdate(mention, practice, settings)
        if seed.edit is not None:
            if mention.revisions.exists():
                summary.revisions.present += 1
            else:
                edited = _normalised(seed, spec, now, edit=seed.edit)
                mentions_ingest([edited], source=LIVE_SOURCE)
                summary.revisions.created += mention.revisions.count()
    summary.mentions.created += created
    summary.mentions.present += present
    summary.mentions_skipped += skipped
    say(
        f"  {spec.slug}: {created} mentions ingested, {present} already present"
        + (f", {skipped} kept out by listening rules" if skipped else "")
    )


def _threat_alert_complete(mention: Mention) -> None:
    """A threat stored by an earlier, interrupted run still gets its alert."""
    if (
        mention.category == Mention.Category.THREAT
        and not mention.from_owner
        and mention.due_at is not None  # imported history pages nobody
        and not mention.alerts.filter(kind=Alert.Kind.THREAT).exists()
    ):
        threat_alert_raise(mention)


def _arrival_backdate(mention: Mention, practice: Practice, settings: InboxSettings) -> None:
    """The mention arrived shortly after it was posted, not when the seed ran."""
    received_at = min(mention.posted_at + ARRIVAL_LAG, mention.received_at)
    fields: dict[str, Any] = {"received_at": received_at}
    if mention.due_at is not None:
        fields["due_at"] = deadlines.due_at(
            category=mention.category,
            start=received_at,
            settings=settings,
            tz_name=practice.timezone,
        )
    Mention.objects.filter(pk=mention.pk).update(**fields)
    audit_record(
        action="demo.arrival_backdated",
        actor_label=SEED_ACTOR,
        obj=mention,
        data={k: v.isoformat() if v else None for k, v in fields.items()},
    )


def _summary_print(summary: DemoSummary, practices: list[Practice], say: Say) -> None:
    say("")
    say("Summary")
    say(f"  practices: {summary.practices}")
    say(f"  users:     {summary.users}")
    say(f"  accounts:  {summary.accounts}")
    say(f"  rules:     {summary.rules}")
    say(
        f"  mentions:  {summary.mentions}"
        + (
            f", {summary.mentions_skipped} kept out by listening rules"
            if summary.mentions_skipped
            else ""
        )
    )
    say(f"  edited-review revisions: {summary.revisions}")
    for slug, counts in summary.categories.items():
        detail = ", ".join(f"{cat or 'none'} {n}" for cat, n in counts.items())
        say(f"  {slug}: {sum(counts.values())} mentions ({detail})")
    say("")
    say(f"Demo logins (password {PASSWORD}):")
    for spec, practice in zip(PRACTICES, practices, strict=True):
        say(f"  {practice.name}: {practice_url(practice)}")
        for email, role in spec.members:
            say(f"    {email:<30} {role:<10} {USERS[email]}")
    say(f"  Agency {AGENCY_NAME}: {public_url()}")
    say(f"    {AGENCY_EMAIL:<30} {'manager':<10} {USERS[AGENCY_EMAIL]} (both clinics)")
    say(f"  Django admin: {public_url('/admin/')}")
    say(f"    {ADMIN_EMAIL:<30} superuser")
