"""Steps and judgments that suites share, above the actors: "refused and unchanged", the notifications
a step produces as the profile orders them, the customer's view, and the checks of a whole chat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import expect, match
from conformance.actors import Agent, Customer
from conformance.chat_checks import (
    Violation,
    check_agent,
    check_customer,
    check_history_complete,
    raise_first,
)
from conformance.chats import ChatBook, MovingChat
from conformance.messages import FROM, NICKNAME, log_of
from conformance.notifications import interaction_of
from conformance.protocol import (
    ChannelState,
    ChatMessageType,
    Operation,
    Position,
    Profile,
    State,
    Status,
    Visibility,
)
from conformance.reply import Reply
from conformance.views import (
    AgentViews,
    check_agent_ahead,
    check_agent_views,
    check_customer_listed,
    check_customer_view,
    established,
)

Snapshot = tuple[int, Any]


async def snapshot(agent: Agent, interaction_id: str) -> Snapshot:
    """What the agent's GET of the interaction says (HTTP status and body), for before/after comparison
    (STATUS-05)."""
    reply = await agent.client.get_interaction(interaction_id)
    return (reply.http_status, reply.body)


async def refused_without_effect(
    agent: Agent,
    interaction_id: str,
    reply: Reply,
    requirement: str,
    status: Status | set[Status],
    *,
    before: Snapshot,
    since: int,
) -> None:
    """The reply is the named failure, and nothing changed: no notification, the same interaction."""
    # A 5xx is the server breaking down on the body (STATUS-06), not the operation's refusal code.
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} {reply.text[:99]}")
    expect.failure(reply, requirement, status, agent.profile)
    await expect.nothing_about(agent, interaction_id, "STATUS-05", since=since)
    after = await snapshot(agent, interaction_id)
    expect.that(after == before, "STATUS-05", f"the interaction unchanged: {before}", after)


async def perform_refused(
    agent: Agent,
    interaction_id: str,
    op: Operation,
    requirement: str,
    status: Status | set[Status],
    **fields: object,
) -> None:
    """Perform the operation: it fails with `status` and changes nothing (`refused_without_effect`)."""
    before = await snapshot(agent, interaction_id)
    since = agent.notifications.mark()
    reply = await agent.client.perform(interaction_id, op, None, **fields)
    await refused_without_effect(
        agent, interaction_id, reply, requirement, status, before=before, since=since
    )


async def perform_escaped(agent: Agent, interaction_id: str, op: Operation, **fields: object) -> Reply:
    """`perform`, with the body's JSON \\u-escaped: the way to send a lone surrogate."""
    body = json.dumps(agent.client.body(op, fields), ensure_ascii=True).encode("ascii")
    return await agent.client.post_json(agent.client.interaction_path(interaction_id), body)


async def settle(*agents: Agent) -> None:
    """Every notification produced so far has reached each of these (Ready) agents."""
    for agent in agents:
        await agent.barrier()


async def rejected_to_next(chat: MovingChat) -> None:
    """A `MovingChat`'s `first` rejects; the chat reaches `next`, who accepts it (`first` was invited to
    it before)."""
    since = chat.next.notifications.mark()
    await chat.first.reject(chat.id)
    await chat.next.wait_invitation(chat.tag, requirement="REJECT-02", since=since)  # offered to another
    await chat.next.accept(chat.id)


# -- the notifications of a step, as the profile orders them -------------------------------------------


def status(p: Profile, cid: str, position: Position) -> match.Check:
    """The StatusChange of this position (Invited and Completed have their own state, the rest Processing)."""
    state = {Position.INVITED: State.INVITED, Position.COMPLETED: State.COMPLETED}.get(
        position, State.PROCESSING
    )
    return match.status_change(p, cid, state, position)


def party_left(
    p: Profile, cid: str, position: Position, visibility: Visibility = Visibility.ALL
) -> list[match.Check]:
    """What an agent still in the chat receives when another party leaves: the participants, the
    ParticipantLeft message, then its own new position."""
    return [
        match.participants_updated(p, cid),
        match.new_message(p, cid, ChatMessageType.PARTICIPANT_LEFT, visibility=visibility),
        status(p, cid, position),
    ]


async def member_stops(
    p: Profile, owner: Agent, member: Agent, cid: str, visibility: Visibility, description: str
) -> None:
    """`member` stops processing: it sees its own completion, `owner` is left the sole agent (STOP-01)."""
    since_owner, since_member = owner.notifications.mark(), member.notifications.mark()
    await member.stop(cid)
    await expect.exactly_in_order(
        member, cid, "STOP-01", since_member, [status(p, cid, Position.COMPLETED)], "its stop"
    )
    await expect.exactly_in_order(
        owner, cid, "STOP-01", since_owner, party_left(p, cid, Position.OWNER, visibility), description
    )


async def customer_sees(
    customer: Customer,
    profile: Profile,
    requirement: str,
    type: ChatMessageType,
    text: str | None = None,
    nickname: str | None = None,
) -> dict[str, Any]:
    """The customer's chat comes to hold such a message (All visibility: it is the customer's)."""

    def check(m: dict[str, Any]) -> str | None:
        why = match.message_matches(profile, m, type, text, visibility=Visibility.ALL)
        raw = m.get(FROM)
        sender: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if why is None and nickname is not None and sender.get(NICKNAME) != nickname:
            return f"from {sender.get(NICKNAME)!r}"
        return why

    what = f"{profile.wire(type)} {text or ''} {nickname or ''}".strip()
    return await customer.wait_for_message(check, description=what, requirement=requirement)


# -- a whole chat, as every party saw it (the pure checks of conformance.chat_checks) -----------------


def party_checks(
    profile: Profile,
    chat_id: str,
    agents: Sequence[Agent],
    history: list[dict[str, Any]],
    requirement: str | None = None,
) -> list[Violation]:
    """Every agent's invariants; with `requirement`, every ORDER violation but a premise's is reported under
    it (a STATE violation, such as wrong capabilities, keeps its own requirement)."""
    found = [v for a in agents for v in check_agent(profile, log_of(a, chat_id), history, who=a.name)]
    if requirement is not None:
        found = [v if keeps_requirement(v) else relabel(v, requirement) for v in found]
    return found


def keeps_requirement(v: Violation) -> bool:
    """Under a delivery or concurrency requirement, what is not about the order stays its own."""
    return v.premise or not v.requirement.startswith("ORDER-")


def relabel(v: Violation, requirement: str) -> Violation:
    return Violation(requirement, v.expected, f"[{v.requirement}] {v.actual}")


async def whole_chat_checks(
    p: Profile, cid: str, agents: Sequence[Agent], customer: Customer, history: list[dict[str, Any]], who: str
) -> list[dict[str, Any]]:
    """The history is complete (as `who` requested it), and every agent's and the customer's view agree
    with it. Returns the customer's messages."""
    messages = await customer.chat_messages()
    raise_first(check_history_complete(p, history, who))
    raise_first(party_checks(p, cid, agents, history))
    raise_first(check_customer(p, messages, history))
    return messages


# -- every view of the chats against the notifications (the pure checks of conformance.views) --------


def last_channel_ready(agent: Agent) -> bool:
    """Whether the agent's last channel echo said Ready (so that its barrier keeps its channel state)."""
    echoes = agent.notifications.channel_states()
    return not echoes or match.channel_state(agent.profile, ChannelState.READY)(echoes[-1]) is None


def checkable(book: ChatBook) -> list[Agent]:
    """The book's agents whose notifications can be brought up to date without changing anything: not
    those whose session the test ended (a Ready or NotReady would start it again), nor those whose
    notification channel is gone."""
    return [a for a in book.agents if a.name not in book.ended and a.notifications.lost is None]


@dataclass
class _Read:
    """What the view checks of one book have read so far: each agent's notifications from the book's
    start, by interaction (read on from where the last check stopped), and the chats checked once they
    were over for everyone (every agent told Completed or nothing, the customer's chat ended): later
    checks only see that no list holds them."""

    upto: dict[str, int]
    logs: dict[str, dict[str, list[dict[str, Any]]]]
    over: set[str]


_READ: weakref.WeakKeyDictionary[ChatBook, _Read] = weakref.WeakKeyDictionary()


def _logs(book: ChatBook, agent: Agent, read: _Read) -> dict[str, list[dict[str, Any]]]:
    """The agent's notifications about each interaction, from the book's start on."""
    start = read.upto.get(agent.name, book.marks.get(agent.name, 0))
    found = read.logs.setdefault(agent.name, {})
    for n in agent.notifications.since(start):
        cid = interaction_of(n.data)
        if cid is not None:
            found.setdefault(cid, []).append(n.data)
    read.upto[agent.name] = agent.notifications.mark()
    return found


async def _agent_views(agent: Agent, ids: Sequence[str]) -> AgentViews:
    short, full, *each = await asyncio.gather(
        agent.client.list_interactions(),
        agent.client.list_interactions(all_fields=True),
        *(agent.client.get_interaction(cid) for cid in ids),
    )
    return AgentViews(agent.name, short, full, dict(zip(ids, each, strict=True)))


async def views_agree(book: ChatBook, *, synced: bool = False) -> None:
    """Every view of every chat of the book agrees with the notifications (`conformance.views`): the list,
    `?fields=*` and GET of each interaction of every agent told of one of them, and each customer's
    transcript. Those agents are first brought up to date with a barrier that keeps their channel state
    (`synced`: the caller just did that). The requests of one check go out together."""
    chats = list(book.made)
    if not chats:
        return
    read = _READ.setdefault(book, _Read({}, {}, set()))
    ids = [chat.id for chat in chats]
    agents = [a for a in checkable(book) if any(_logs(book, a, read).get(cid) for cid in ids)]
    if not agents:
        return
    if not synced:
        await asyncio.gather(*(agent.barrier(ready=last_channel_ready(agent)) for agent in agents))
    profile = agents[0].profile
    logs = {a.name: {cid: list(_logs(book, a, read).get(cid, ())) for cid in ids} for a in agents}
    told = {
        agent.name: [cid for cid, log in logs[agent.name].items()
                     if cid not in read.over and established(profile, log).state is not None]
        for agent in agents
    }
    live = [chat for chat in chats if chat.id not in read.over and chat.customer.client.chat_id is not None]
    views, transcripts = await asyncio.gather(
        asyncio.gather(*(_agent_views(agent, told[agent.name]) for agent in agents)),
        asyncio.gather(*(chat.customer.chat_messages(requirement=None) for chat in live)),
    )
    found: list[Violation] = []
    for agent, seen in zip(agents, views, strict=True):
        found += check_agent_views(profile, seen, logs[agent.name])
        found += check_customer_listed(profile, agent.name, logs[agent.name])
    for chat, transcript in zip(live, transcripts, strict=True):
        found += check_customer_view(profile, transcript, [logs[a.name][chat.id] for a in agents])
    if _ahead(book, read, agents, views, ids):
        # Views ahead of the notifications: a barrier taken now, after the views were read, brings in
        # every notification of what they showed; what the notifications still do not say is the views'.
        await asyncio.gather(*(agent.barrier(ready=last_channel_ready(agent)) for agent in agents))
        found += _ahead(book, read, agents, views, ids)
    raise_first(found)
    for chat in chats:
        states = {established(profile, logs[a.name][chat.id]).state for a in agents}
        if chat.customer.client.chat_ended and states <= {State.COMPLETED, None}:
            read.over.add(chat.id)


def _ahead(
    book: ChatBook, read: _Read, agents: Sequence[Agent], views: Sequence[AgentViews], ids: Sequence[str]
) -> list[Violation]:
    """`check_agent_ahead` of each agent's views, against the notifications of all these agents (those
    that the barriers bring up to date) read so far."""
    everyone = {a.name: {cid: list(_logs(book, a, read).get(cid, ())) for cid in ids} for a in agents}
    return [v for seen in views for v in check_agent_ahead(agents[0].profile, seen, everyone)]


@contextlib.contextmanager
def watch_views(book: ChatBook) -> Iterator[None]:
    """While it lasts, `views_agree` runs after every synced step of the book's agents and of the
    customers it makes (a flow's every step)."""

    async def hook() -> None:
        await views_agree(book)

    book.watch = hook
    for agent in book.agents:
        agent.after_step.append(hook)
    try:
        yield
    finally:
        book.watch = None
        for agent in book.agents:
            with contextlib.suppress(ValueError):
                agent.after_step.remove(hook)
        for customer in [*book.loose, *(chat.customer for chat in book.made)]:
            with contextlib.suppress(ValueError):
                customer.after_step.remove(hook)
