"""The platforms' own report reasons, from report_reasons.toml (data, not code)."""

from __future__ import annotations

import dataclasses
import tomllib
from functools import cache
from pathlib import Path

PATH = Path(__file__).resolve().parent / "report_reasons.toml"


@dataclasses.dataclass(frozen=True)
class PlatformReasons:
    platform: str
    name: str
    report_url: str
    how: str
    reasons: dict[str, str]  # code -> label, in the platform's order

    def url_for(self, mention_url: str) -> str:
        return self.report_url.replace("{mention_url}", mention_url or "")


@cache
def reasons_table(path: Path = PATH) -> dict[str, PlatformReasons]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = {}
    for platform, entry in data.items():
        missing = {"name", "report_url", "how", "reasons"} - entry.keys()
        if missing:
            raise ValueError(f"{path.name} [{platform}]: missing {', '.join(sorted(missing))}")
        reasons = {}
        for item in entry["reasons"]:
            if set(item) != {"code", "label"} or item["code"] in reasons:
                raise ValueError(f"{path.name} [{platform}]: bad or repeated reason {item!r}")
            reasons[item["code"]] = item["label"]
        table[platform] = PlatformReasons(
            platform, entry["name"], entry["report_url"], entry["how"], reasons
        )
    return table


def platform_reasons(platform: str) -> PlatformReasons | None:
    return reasons_table().get(platform)
