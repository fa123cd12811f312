"""The profile document (docs/profile.md), rendered from the packaged profile data.

The prose is `conformance/protocol/profile-prose.md` (adapted from gws-chat-profile.md); its markers
are replaced by tables made from the data: `{{requirements AREA}}` (requirements.toml), `{{status-codes}}`
and `{{capabilities}}` and `{{wire-names}}` (the profile TOML, with a --profile file merged over it).
`gws-conformance profile-doc` writes it; every run writes a copy next to its reports, which the
requirement IDs of summary.md and the Allure report link to (`profile.md#accept-03`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.protocol import CATALOGUE, Requirement, load_profile, load_profile_data
from conformance.protocol.catalogue import CATALOGUE_PATH
from conformance.protocol.profile import DEFAULT_PROFILE_PATH

PROSE = Path(__file__).resolve().parent.parent / "protocol" / "profile-prose.md"  # with the profile data
_MARKER = re.compile(r"^\{\{([a-z-]+)(?: ([A-Z-]+))?\}\}$", re.MULTILINE)
_INLINE = re.compile(r"\{\{(profile-file)\}\}")

# Section 2's "meaning" column, by the logical status of the profile's [status_codes] table.
STATUS_MEANINGS = {
    "success": "success; no `statusMessage`",
    "missing_parameter": "a required parameter is missing (includes a missing `operationName`, and a body "
                         "that is not a JSON object)",
    "invalid_parameter": (
        "a parameter is not valid for the current state: the operation is not one of the interaction's "
        "current `capabilities`, the `operationName` is unknown, or a value is of the wrong type, empty, "
        "out of range, or names an unknown agent or skill"
    ),
    "forbidden": "the operation is forbidden",
    "internal_error": "internal error",
    "no_permission": "the user has no permission for this operation",
    "not_found": "the requested resource was not found (the interaction id is unknown, or not this agent's)",
    "partial_success": "partial success (bulk operations only)",
}

# Section 6's rows, by the logical position of the profile's [capabilities] table.
POSITIONS = {
    "invited": "invited (also invited as consultant)",
    "owner": "owner, no consultation",
    "owner_consultant_invited": "owner, consultant invited but not joined",
    "owner_consultant_joined": "owner, consultant joined",
    "consultant": "consultant (joined, visible to agents only)",
    "conference_member": "conference member (several agents, visible to all)",
    "customer_left": "any agent after the customer left",
    "completed": "completed",
}

# Section 9's tables, in this order, each with what it names.
WIRE_TABLES = {
    "operations": "operation names (`operationName`)",
    "operation_aliases": "other spellings of an operation a server MAY accept [profile choice]",
    "states": "interaction states",
    "channel_states": "agent channel states",
    "message_types": "chat message types (a message's `type`)",
    "kinds": "notification kinds (a notification's `messageType`)",
    "notices": "notification types (a notification's `notificationType`)",
    "visibilities": "visibilities",
    "participant_types": "participant types",
    "channels": "Bayeux channels",
    "fields": "request body fields",
    "routing": "user-data keys of the routing hints [profile choice]",
    "status_codes": "statusCode numbers",
    "http_status": "statusCode → HTTP status [profile choice]",
    "http": "HTTP paths, header and cookie names",
    "limits": "limits (code points, bytes, milliseconds, seconds)",
}


class ProfileDocumentError(ValueError):
    """The prose and the data disagree (an unknown marker, an area without a marker, ...)."""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def requirements_table(area: str, catalogue: Mapping[str, Requirement] = CATALOGUE) -> str:
    rows = [r for r in catalogue.values() if r.area == area]
    if not rows:
        raise ProfileDocumentError(f"{{{{requirements {area}}}}}: no requirement has the area {area}")
    lines = ["| ID | level | requirement | vendor page |", "|---|---|---|---|"]
    lines += [f'| <a id="{r.anchor}"></a>{r.id} | {r.level} | {_cell(r.summary)} | [source]({r.source}) |'
              for r in rows]
    return "\n".join(lines)


def status_codes_table(data: Mapping[str, Any]) -> str:
    lines = ["| statusCode | meaning | HTTP status [profile choice for the HTTP column] |", "|---|---|---|"]
    http = {int(code): status for code, status in data["http_status"].items()}
    for name, code in sorted(data["status_codes"].items(), key=lambda item: int(item[1])):
        meaning = STATUS_MEANINGS.get(name, name.replace("_", " "))
        lines.append(f"| {code} | {_cell(meaning)} | {http.get(int(code), '(none)')} |")
    return "\n".join(lines)


def capabilities_table(data: Mapping[str, Any]) -> str:
    operations = data["operations"]
    lines = ["| agent's position | capabilities (exactly these) |", "|---|---|"]
    for position, ops in data["capabilities"].items():
        names = ", ".join(operations.get(op, op) for op in ops) or "(none)"
        lines.append(f"| {POSITIONS.get(position, position)} | {names} |")
    return "\n".join(lines)


def wire_names(data: Mapping[str, Any]) -> str:
    parts = [f"Profile `{data['name']}`, media type and agent channel `{data['media']}`."]
    for table, what in WIRE_TABLES.items():
        values = data.get(table)
        if not isinstance(values, Mapping):
            continue
        rows = "\n".join(f"| `{key}` | `{_cell(value)}` |" for key, value in values.items())
        parts.append(f"**`[{table}]`**: {what}\n\n| name | value |\n|---|---|\n{rows}")
    return "\n\n".join(parts)


def _generated_note(profile_path: Path | None) -> str:
    note = (f"*Generated by `gws-conformance profile-doc` from `{CATALOGUE_PATH.name}`, "
            f"`{DEFAULT_PROFILE_PATH.name}` and `{PROSE.name}` in `conformance/protocol/`: edit those, then "
            "regenerate (`gws-conformance profile-doc --out docs/profile.md`).*")
    if profile_path is not None:
        note += (f"\n\n**This copy merges the profile file `{profile_path.name}` over the default profile: "
                 "the tables (sections 2, 6 and 9) show its names and codes, the prose the default's.**")
    return note


def render(profile_path: Path | None = None, catalogue: Mapping[str, Requirement] = CATALOGUE) -> str:
    """The whole document; with `profile_path`, that profile file merged over the default."""
    load_profile(profile_path)  # a ProfileError for a profile no run would accept
    data = load_profile_data(profile_path)
    prose = PROSE.read_text(encoding="utf-8")
    used: set[str] = set()

    def block(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "requirements" and argument:
            used.add(argument)
            return requirements_table(argument, catalogue)
        makers = {"status-codes": status_codes_table, "capabilities": capabilities_table,
                  "wire-names": wire_names}
        if kind in makers and not argument:
            return makers[kind](data)
        if kind == "generated" and not argument:
            return _generated_note(profile_path)
        raise ProfileDocumentError(f"{PROSE.name}: unknown marker {match.group(0)}")

    text = _MARKER.sub(block, prose)
    text = _INLINE.sub(lambda _: DEFAULT_PROFILE_PATH.name, text)
    missing = [area for area in dict.fromkeys(r.area for r in catalogue.values()) if area not in used]
    if missing:
        raise ProfileDocumentError(f"{PROSE.name}: no requirements marker for {', '.join(missing)}")
    return text.rstrip("\n") + "\n"


def write(path: Path, profile_path: Path | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(profile_path), encoding="utf-8")
    return path
