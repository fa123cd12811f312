"""The reference server's built-in agent accounts and its one chat service."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class AgentAccount:
    id: str
    user_name: str
    password: str
    first_name: str
    last_name: str
    skills: tuple[str, ...]


BUILT_IN_AGENTS: tuple[AgentAccount, ...] = (
    AgentAccount("a1", "alice", "password", "Alice", "Archer", ("sales",)),
    AgentAccount("a2", "bob", "password", "Bob", "Baker", ("sales", "support")),
    AgentAccount("a3", "carol", "password", "Carol", "Carter", ("support",)),
    AgentAccount("a4", "dave", "password", "Dave", "Dalton", ("billing",)),
)

SERVICE = "customer-support"
LOAD_SKILL = "load"
MAX_GENERATED_AGENTS = 10_000


def generated_agents(count: int, password: str | None = None) -> tuple[AgentAccount, ...]:
    """`count` more agents for load runs (`serve --agents N`): ids g1..gN, user names load1..loadN, the
    skill `load`, the built-in agents' password (`password`, or the one given)."""
    if not 0 <= count <= MAX_GENERATED_AGENTS:
        raise ValueError(f"--agents: between 0 and {MAX_GENERATED_AGENTS}, not {count}")
    secret = "password" if password is None else password
    numbers = range(1, count + 1)
    return tuple(AgentAccount(f"g{n}", f"load{n}", secret, f"Load{n}", "Agent", (LOAD_SKILL,))
                 for n in numbers)


def built_in_agents(password: str | None = None) -> tuple[AgentAccount, ...]:
    """The built-in agents; with `password`, every one of them has that password instead of `password`."""
    if password is None:
        return BUILT_IN_AGENTS
    return tuple(replace(agent, password=password) for agent in BUILT_IN_AGENTS)
