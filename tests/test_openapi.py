"""The published API description is complete and unambiguous."""

from __future__ import annotations

import yaml
from django.core.management import call_command


def test_the_openapi_schema_builds_without_warnings_and_names_the_api_key(tmp_path):
    out = tmp_path / "schema.yml"
    # --fail-on-warn: a duplicate component name or an unknown authenticator silently
    # produces a wrong schema for integrators.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["components"]["securitySchemes"]["ApiKey"]["in"] == "header"
    assert {"Mention", "RawPayload"} <= set(schema["components"]["schemas"])
