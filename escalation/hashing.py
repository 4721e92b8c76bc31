"""Normalised, keyed hashes of customer identifiers. No database, no logging.

A customer list is matched privately: each identifier is normalised (so "KARI  Hansen"
and "Hansen, Kari" agree) and stored only as HMAC-SHA-256 under a per-practice key. That
key is derived from `settings.CUSTOMER_HASH_KEY` and the practice's schema name, so it is
kept outside the practice's rows: a dump of the practice's tables alone cannot be
brute-forced against a phone book.

Nothing here may put a clear value into an exception message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import cache

import phonenumbers
from django.conf import settings

NAME, EMAIL, PHONE = "n", "e", "p"
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@cache
def practice_key(schema_name: str) -> bytes:
    """The practice's own HMAC key: HMAC-SHA-256(CUSTOMER_HASH_KEY, schema name)."""
    return hmac.new(
        settings.CUSTOMER_HASH_KEY.encode(), schema_name.encode(), hashlib.sha256
    ).digest()


def digest(key: bytes, kind: str, value: str) -> int:
    """The first 64 bits of HMAC-SHA-256, as a signed bigint: the match key. PostgreSQL
    indexes and compares a bigint far faster than 32 bytes, which keeps a 100,000-customer
    import within its time; 64 bits leave a chance of about 1 in 10^9 of any accidental
    collision in a list of 300,000 hashes, and without the key they reveal nothing.
    (hmac.digest is OpenSSL's one-shot HMAC, several times faster than hmac.new.)"""
    mac = hmac.digest(key, f"{kind}:{value}".encode(), "sha256")
    return int.from_bytes(mac[:8], "big", signed=True)


def _fold(text: str) -> str:
    """Casefold and strip accents: "Åse Bjørk" -> "ase bjork" (ø and æ have no
    decomposition, so they are mapped by hand)."""
    text = text.casefold()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.translate(_LETTERS)


_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "þ": "th", "ł": "l"})


def name_tokens(name: str) -> list[str]:
    """The words of a name, folded; single letters (initials) are dropped."""
    words = _WORD_RE.findall(_fold(name))
    return [w.replace("’", "'") for w in words if len(w) > 1]


def name_forms(name: str) -> list[str]:
    """The order-insensitive forms a name is matched on: all its words as a set, and
    (for three words or more) the first and last word, so "Kari Anne Hansen" on the list
    matches "Kari Hansen" in a review. Fewer than two words: nothing to match on."""
    tokens = name_tokens(name)
    if len(tokens) < 2:
        return []
    forms = [" ".join(sorted(set(tokens)))]
    if len(tokens) > 2:
        pair = " ".join(sorted({tokens[0], tokens[-1]}))
        if pair not in forms:
            forms.append(pair)
    return forms


def email_form(email: str) -> str:
    """Lower case, without the plus-tag: "Kari+Spam@Example.NO" -> "kari@example.no"."""
    email = email.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or " " in email:
        return ""
    return f"{local.split('+', 1)[0]}@{domain}"


def phone_form(phone: str, region: str) -> str:
    """E.164 ("+4791234567"), reading numbers without a +country code as numbers of the
    practice's country. "" when it is not a possible number."""
    if not phone.strip():
        return ""
    try:
        number = phonenumbers.parse(phone, region.upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def region_for_timezone(tz: str) -> str:
    """The country of an IANA time zone (Europe/Oslo -> NO), from the system's zone.tab;
    "" when unknown."""
    for path in ("/usr/share/zoneinfo/zone.tab", "/usr/share/zoneinfo/zone1970.tab"):
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("#"):
                        continue
                    parts = line.split("\t")
                    if len(parts) >= 3 and parts[2].strip() == tz:
                        return parts[0].split(",")[0]
        except OSError:
            continue
    return ""
