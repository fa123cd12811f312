"""The requirement catalogue: every requirement ID of the profile with its level, area and source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("requirements.toml")
PROFILE_DOCUMENT = "gws-chat-profile.md"


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    area: str
    section: str
    section_title: str
    summary: str
    source: str

    @property
    def profile_link(self) -> str:
        """Where the requirement is written down: the profile document's section."""
        anchor = f"{self.section.replace('.', '')}-{self.section_title.lower()}"
        anchor = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in anchor).strip("-")
        return f"{PROFILE_DOCUMENT}#{anchor}"


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, Requirement]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        rid: Requirement(
            id=rid,
            level=Level(entry["level"]),
            area=entry["area"],
            section=entry["section"],
            section_title=entry["section_title"],
            summary=entry["summary"],
            source=entry["source"],
        )
        for rid, entry in data.items()
    }


CATALOGUE: dict[str, Requirement] = load_catalogue()
AREAS: tuple[str, ...] = tuple(dict.fromkeys(r.area for r in CATALOGUE.values()))
