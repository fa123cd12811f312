"""The capability table of gws-chat-profile.md section 6, copied here by hand, against the profile data.

The suite and the reference server both read their capabilities from the profile data
(conformance/protocol/gws-chat-8.5.toml), so a wrong row there would pass every self-test: this file is
the second copy that catches it. Do not generate it from the data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance import match
from conformance.protocol import DEFAULT_PROFILE, INTERACTION_OPERATIONS, Position, State
from conformance.simulator.accounts import BUILT_IN_AGENTS, SERVICE
from conformance.simulator.engine import Engine

ROOT = Path(__file__).resolve().parent.parent

# gws-chat-profile.md section 6, "agent's position | capabilities (exactly these)".
TABLE: dict[str, frozenset[str]] = {
    "invited": frozenset({"Accept", "Reject"}),
    "owner": frozenset(
        {
            "SendMessage",
            "SendNotification",
            "Transfer",
            "StopProcessing",
            "RequestChatHistory",
            "InitiateConsultation",
        }
    ),
    "owner_consultant_invited": frozenset({"SendMessage", "SendNotification", "RequestChatHistory"}),
    "owner_consultant_joined": frozenset(
        {"SendMessage", "SendNotification", "RequestChatHistory", "CompleteTransfer", "CompleteConference"}
    ),
    "consultant": frozenset({"SendMessage", "SendNotification", "RequestChatHistory", "StopProcessing"}),
    "conference_member": frozenset(
        {"SendMessage", "SendNotification", "RequestChatHistory", "StopProcessing"}
    ),
    "customer_left": frozenset({"RequestChatHistory", "StopProcessing"}),
    "completed": frozenset(),
}

# Section 6: "States: Invited -> Processing -> Completed" [profile choice: Processing].
STATES = {"invited": "Invited", "processing": "Processing", "completed": "Completed"}

# Section 7: the ten operations of /me/interactions/{id}.
OPERATIONS = {
    "Accept",
    "Reject",
    "SendMessage",
    "SendNotification",
    "Transfer",
    "StopProcessing",
    "RequestChatHistory",
    "InitiateConsultation",
    "CompleteTransfer",
    "CompleteConference",
}


def test_the_table_has_a_row_for_every_position_and_no_other() -> None:
    assert set(TABLE) == {p.value for p in Position}


@pytest.mark.parametrize("position", list(Position), ids=str)
def test_the_profile_data_holds_the_row_of_the_spec(position: Position) -> None:
    assert DEFAULT_PROFILE.capability_names(position) == TABLE[position.value]


@pytest.mark.parametrize("position", list(Position), ids=str)
def test_the_suite_expects_the_row_of_the_spec(position: Position) -> None:
    assert match.capability_set(DEFAULT_PROFILE, position) == set(TABLE[position.value])


@pytest.mark.parametrize("position", list(Position), ids=str)
def test_the_reference_server_offers_the_row_of_the_spec(position: Position) -> None:
    engine = Engine(DEFAULT_PROFILE, BUILT_IN_AGENTS, SERVICE)
    assert {DEFAULT_PROFILE.wire(op) for op in engine.capabilities(position)} == TABLE[position.value]


def test_the_states_and_operations_are_spelled_as_the_spec_says() -> None:
    assert {s.value: DEFAULT_PROFILE.wire(s) for s in State} == STATES
    assert {DEFAULT_PROFILE.wire(op) for op in INTERACTION_OPERATIONS} == OPERATIONS
    assert set().union(*TABLE.values()) == OPERATIONS


def _spelled_names(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    return found


def test_the_suites_and_the_harness_spell_no_operation_or_state_name() -> None:
    """Capabilities and states come from the profile (a user's --profile renames them), never from a
    literal in a suite or in the harness."""
    names = OPERATIONS | set(STATES.values())
    files = [*(ROOT / "suites").rglob("*.py"), *(ROOT / "conformance").glob("*.py")]
    assert files
    assert [hit for f in sorted(files) for hit in _spelled_names(f, names)] == []
