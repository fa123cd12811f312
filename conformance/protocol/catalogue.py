"""The requirement catalogue: every requirement ID of the profile with its level, area and source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

CATALOGUE_PATH = Path(__file__).with_name("requirements.toml")
# The profile document: docs/profile.md in the repository, and a copy of it next to every run's reports
# (report_dir/profile.md, rendered from the packaged data), so a link to it works in a checkout, from an
# installed package, in a CI artifact and in the evidence bundle alike.
PROFILE_DOCUMENT = "profile.md"


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
    def anchor(self) -> str:
        """The requirement's own anchor in the profile document (`accept-03`)."""
        return self.id.lower()

    @property
    def profile_link(self) -> str:
        """Where the requirement is written down, relative to the report folder: `profile.md#accept-03`."""
        return f"{PROFILE_DOCUMENT}#{self.anchor}"


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
