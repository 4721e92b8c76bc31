"""The demo data loader: `reputation/demo_data.toml` read strictly, errors naming the item."""

from __future__ import annotations

import datetime as dt

import pytest

from reputation.demo import DemoDataError, demo_data_parse

SMALL = """
password = "pw"
admin = "admin@demo.test"

[agency]
slug = "agency"
name = "Agency"
manager = "admin@demo.test"

[users]
"admin@demo.test" = "Admin"

[[practices]]
slug = "clinic"
name = "Clinic"
owner_email = "admin@demo.test"
members = { "admin@demo.test" = "owner" }
rules = { brand = ["Clinic"] }

[[practices.accounts]]
key = "google"
platform = "google"
external_id = "accounts/1/locations/2"
display_name = "Clinic"

[[practices.mentions]]
external_id = "review-1"
platform = "google"
kind = "review"
account = "google"
posted = "2d 4h 25m"
text = "Fine."
"""


def test_relative_times_become_timedeltas():
    (practice,) = demo_data_parse(SMALL).practices
    assert practice.mentions[0].ago == dt.timedelta(days=2, hours=4, minutes=25)


def test_an_unknown_key_is_refused_naming_the_item():
    with pytest.raises(DemoDataError) as exc:
        demo_data_parse(SMALL.replace('text = "Fine."', 'text = "Fine."\nratting = 5'))
    assert str(exc.value) == (
        "demo_data.toml: practices[clinic].mentions[review-1]: unknown key 'ratting'"
    )


@pytest.mark.parametrize("posted", ["3 hours", "4h 2d", "2d 2d", "h", "", "1.5h"])
def test_a_malformed_duration_is_refused_naming_the_item(posted):
    with pytest.raises(DemoDataError) as exc:
        demo_data_parse(SMALL.replace('posted = "2d 4h 25m"', f'posted = "{posted}"'))
    assert str(exc.value).startswith(
        f"demo_data.toml: practices[clinic].mentions[review-1].posted: bad duration {posted!r}"
    )
