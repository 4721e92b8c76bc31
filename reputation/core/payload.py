"""Reading JSON bodies sent to us, with errors a client can act on."""

from __future__ import annotations

import json
from typing import Any

from reputation.core.errors import PayloadError


def payload_json(body: str) -> Any:
    """Parse a JSON body or raise PayloadError with a message a client can act on."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None
    except RecursionError:  # a few thousand nested arrays exhaust the parser's stack
        raise PayloadError("Body is not valid JSON: nested too deeply") from None
