"""Cross-view invariants: the REST views of every party agree with what that party's notifications
established (profile sections 3.1, 4 and 5). Pure: no I/O; the views are fetched by
`conformance.steps.views_agree`, which brings every agent's notifications up to date first (and, when a
view is ahead, again after fetching them).

The notifications are the reference. For each agent and each interaction in scope:
- its state and capabilities are those of its last StatusChange; its participants (the customer and the
  agents taking part, with their types, nicknames and visibility) and its user data those of its last
  InteractionStateChanged (participants are compared only while it takes part: an invited agent is told
  nothing until its Accept, rule 1 of section 3.1);
- `GET /api/v2/me/interactions` (`uris`) and `?fields=*` (`interactions`) list it exactly while that state
  is Invited or Processing, both lists alike, and each listed object agrees as `GET .../{id}` does;
- `GET .../{id}` answers the interaction as established (once Completed: 200 with state Completed, or
  statusCode 6).
All of these views are SESSION-03's (the requirement that owns the list, `fields=*` and `GET .../{id}`).
`check_agent_views` judges a view that lags behind the notifications (or two views that disagree with
each other). A view ahead of them (further in Invited -> Processing -> Completed, or showing what the
agent was never told of) may be right about a notification that was lost, which the notification checks
judge; `check_agent_ahead` judges it only where the protocol would have told it to some agent and no
agent's notifications, read past a barrier taken after the views were fetched, say it:
- an interaction listed that no notification ever invited the agent to (SESSION-02: every invitation
  is a StatusChange Invited to the agent);
- a participant that no InteractionStateChanged of any agent ever listed (whoever joins is listed to
  itself by its Accept, and to every agent taking part);
- Completed (or statusCode 6) while the agent's last StatusChange says Processing and another agent,
  Processing, still lists it as a participant (had it left, that agent would have been told).
Not judged: a view ahead that only the agent itself would have been told of (its own Accept's, Reject's,
stop's or transfer's StatusChange, an invitation withdrawn): there a lost notification and a wrong view
look alike, and the notification checks judge the loss.

The participants themselves (`check_customer_listed`, NOTIFY-04, section 3.1): for an agent taking part,
the last participants it was told list the customer exactly until the customer's ParticipantLeft.

The customer's transcript agrees with the `All`-visibility messages the agents received (ChatHistory and
NewMessages): each of them up to the customer's own departure is in it, at its index, with the same
content (else ORDER-02, as `chat_checks.check_customer` judges the same thing against a history), and
nothing any agent received as `Agents` is (CUSTOMER-02).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.chat_checks import Violation, essence
from conformance.messages import FROM, INDEX, PARTICIPANTS, TYPE, VISIBILITY, messages_in
from conformance.notifications import INTERACTION, MESSAGE_TYPE, NOTIFICATION_TYPE
from conformance.protocol import (
    ChatMessageType,
    MessageType,
    NotificationType,
    ParticipantType,
    Profile,
    State,
    Status,
    Visibility,
)
from conformance.reply import Reply

OWNER = "SESSION-03"  # the requirement that owns GET /me/interactions, ?fields=* and GET .../{id}
URIS, INTERACTIONS, USER_DATA = "uris", "interactions", "userData"
STATE, CAPABILITIES = "state", "capabilities"
_PARTICIPANT_KEYS = ("participantId", "nickname", "type", "visibility")


@dataclass(frozen=True)
class Established:
    """What an agent's notifications about one interaction established (None: never told)."""

    state: State | None
    capabilities: frozenset[str]
    participants: tuple[tuple[Any, ...], ...] | None
    user_data: Any

    @property
    def listed(self) -> bool:
        return self.state in (State.INVITED, State.PROCESSING)


def participants_key(raw: Any) -> tuple[tuple[Any, ...], ...] | None:
    """The participants as a comparable value (order aside), or None when it is no list of objects."""
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        return None
    return tuple(sorted(tuple(repr(p.get(k)) for k in _PARTICIPANT_KEYS) for p in raw))


def established(profile: Profile, log: Sequence[dict[str, Any]]) -> Established:
    """The state, capabilities (last StatusChange), participants and user data (last
    InteractionStateChanged) of one agent's notifications about one interaction, in arrival order."""
    state: State | None = None
    caps: frozenset[str] = frozenset()
    participants = None
    user_data: Any = None
    changed = profile.wire(MessageType.INTERACTION_STATE_CHANGED)
    for data in log:
        inter = data.get(INTERACTION)
        if data.get(MESSAGE_TYPE) != changed or not isinstance(inter, dict):
            continue
        participants, user_data = participants_key(inter.get(PARTICIPANTS)), inter.get(USER_DATA)
        if profile.parse(NotificationType, data.get(NOTIFICATION_TYPE)) == NotificationType.STATUS_CHANGE:
            state = profile.parse(State, inter.get(STATE))
            raw = inter.get(CAPABILITIES)
            caps = frozenset(map(str, raw)) if isinstance(raw, list) else frozenset()
    return Established(state, caps, participants, user_data)


@dataclass(frozen=True)
class AgentViews:
    """One agent's REST views, fetched after its notifications were brought up to date."""

    who: str
    short: Reply  # GET /api/v2/me/interactions
    full: Reply  # GET /api/v2/me/interactions?fields=*
    each: Mapping[str, Reply]  # GET /api/v2/me/interactions/{id}, for each interaction it was told of


def listed_ids(short: Reply) -> list[str] | None:
    """The interaction ids of the short list (the last path segment of each uri), or None."""
    uris = (short.body or {}).get(URIS)
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        return None
    return [u.rstrip("/").rsplit("/", 1)[-1] for u in uris]


def listed_objects(full: Reply) -> dict[str, dict[str, Any]] | None:
    """The interaction objects of `fields=*` by id, or None when there is no such list."""
    objects = (full.body or {}).get(INTERACTIONS)
    if not isinstance(objects, list):
        return None
    return {str(o.get("id")): o for o in objects if isinstance(o, dict)}


def _object_disagrees(profile: Profile, told: Established, inter: Any, completed_ok: bool) -> str | None:
    """Why an interaction object disagrees with what the notifications established (None: it agrees)."""
    if not isinstance(inter, dict):
        return f"no interaction object: {inter!r}"[:300]
    state = profile.parse(State, inter.get(STATE))
    if told.state is None or state != told.state:
        return f"state {inter.get(STATE)!r}"
    raw = inter.get(CAPABILITIES)
    caps = frozenset(map(str, raw)) if isinstance(raw, list) else None
    if caps != told.capabilities:
        return f"capabilities {sorted(caps) if caps is not None else raw!r}"
    if completed_ok and state == State.COMPLETED:
        return None
    if inter.get(USER_DATA) != told.user_data:
        return f"userData {inter.get(USER_DATA)!r}"
    if state == State.PROCESSING and participants_key(inter.get(PARTICIPANTS)) != told.participants:
        return f"participants {inter.get(PARTICIPANTS)!r}"
    return None


def _told(profile: Profile, told: Established) -> str:
    state = profile.wire(told.state) if told.state else "nothing"
    shown = f"state {state}, capabilities {sorted(told.capabilities)}"
    if told.state == State.PROCESSING:
        listed = [" ".join(p) for p in told.participants or ()]
        shown += f", participants {listed}"
    return shown + f", userData {told.user_data!r}"


def check_agent_views(
    profile: Profile, views: AgentViews, logs: Mapping[str, Sequence[dict[str, Any]]]
) -> list[Violation]:
    """One agent's views against its notifications, for every interaction of `logs` (id -> the data of
    every notification it received about it, in arrival order)."""
    found: list[Violation] = []
    who = views.who

    def bad(expected: str, actual: str) -> None:
        found.append(Violation(OWNER, f"{who}: {expected}", actual))

    ok = profile.code(Status.SUCCESS)
    short_ids = listed_ids(views.short) if views.short.status_code == ok else None
    objects = listed_objects(views.full) if views.full.status_code == ok else None
    if short_ids is None:
        bad("GET /me/interactions answers statusCode 0 with uris (a list of strings)",
            f"HTTP {views.short.http_status} {views.short.text[:200]}")
    if objects is None:
        bad("GET /me/interactions?fields=* answers statusCode 0 with interactions (a list of objects)",
            f"HTTP {views.full.http_status} {views.full.text[:200]}")
    for cid, log in logs.items():
        told = established(profile, log)
        in_short = short_ids is not None and cid in short_ids
        in_full = objects is not None and cid in objects
        if short_ids is not None and objects is not None and in_short != in_full:
            bad(f"{cid} in both lists or in neither (?fields=* and uris the same interactions)",
                f"interactions {sorted(objects)}; uris {short_ids}")
        if told.state is None:
            continue  # never told of it: what a view shows is a lost invitation's business, or AUTH-05's
        reply = views.each.get(cid)
        listed = objects.get(cid) if objects is not None else None
        listed_state = profile.parse(State, listed.get(STATE)) if listed is not None else None
        shown = [_view_state(profile, reply), listed_state]
        if any(v is not None and _RANK[v] > _RANK[told.state] for v in shown):
            continue  # a view ahead of the notifications: a lost notification, which their checks judge
        want = "listed" if told.listed else "not listed"
        because = f"its notifications established {_told(profile, told)}"
        if short_ids is not None and in_short != told.listed:
            uris = (views.short.body or {}).get(URIS)
            bad(f"{cid} {want} in GET /me/interactions ({because})", f"uris {uris!r}")
        if objects is not None and in_full != told.listed:
            bad(f"{cid} {want} in GET /me/interactions?fields=* ({because})",
                f"interactions {sorted(objects)}; uris {short_ids}")
        if objects is not None and in_full and told.listed:
            why = _object_disagrees(profile, told, objects[cid], completed_ok=False)
            if why is not None:
                bad(f"{cid} in ?fields=* as {because}", f"{why}: {objects[cid]!r}"[:600])
        if reply is None:
            continue
        if told.state == State.COMPLETED and reply.status_code == profile.code(Status.NOT_FOUND):
            continue  # a Completed interaction may be gone (section 4)
        if reply.status_code != ok:
            bad(f"GET /me/interactions/{cid} answers statusCode 0 ({because})",
                f"HTTP {reply.http_status} {reply.text[:300]}")
            continue
        inter = (reply.body or {}).get(INTERACTION)
        why = _object_disagrees(profile, told, inter, completed_ok=True)
        if why is not None:
            bad(f"GET /me/interactions/{cid} as {because}", f"{why}: {inter!r}"[:600])
    return found


_RANK = {State.INVITED: 0, State.PROCESSING: 1, State.COMPLETED: 2}
PARTICIPANT_ID = "participantId"
Logs = Mapping[str, Sequence[dict[str, Any]]]  # interaction id -> one agent's notification data about it


def participant_ids(raw: Any) -> set[str]:
    """The participantIds of a participants list (what is not a string id aside: other checks judge it)."""
    if not isinstance(raw, list):
        return set()
    return {p[PARTICIPANT_ID] for p in raw if isinstance(p, dict) and isinstance(p.get(PARTICIPANT_ID), str)}


def _changes(profile: Profile, log: Sequence[dict[str, Any]]) -> list[tuple[bool, State | None, set[str]]]:
    """Each InteractionStateChanged of the log: whether a StatusChange, its state, its participantIds."""
    changed = profile.wire(MessageType.INTERACTION_STATE_CHANGED)
    found = []
    for data in log:
        inter = data.get(INTERACTION)
        if data.get(MESSAGE_TYPE) == changed and isinstance(inter, dict):
            kind = profile.parse(NotificationType, data.get(NOTIFICATION_TYPE))
            state, ids = profile.parse(State, inter.get(STATE)), participant_ids(inter.get(PARTICIPANTS))
            found.append((kind == NotificationType.STATUS_CHANGE, state, ids))
    return found


def own_participant_id(profile: Profile, log: Sequence[dict[str, Any]]) -> str | None:
    """The agent's own participantId: the one that its notifications, from its first StatusChange
    Processing on, list first that none did before (an invited agent is not listed until it joins, and
    its Accept tells it the participants), when exactly one is new."""
    before: set[str] = set()
    joined = False
    for status, state, ids in _changes(profile, log):
        joined = joined or (status and state == State.PROCESSING)
        if joined and ids - before:
            new = ids - before
            return next(iter(new)) if len(new) == 1 else None
        before |= ids
    return None


def check_agent_ahead(profile: Profile, views: AgentViews, everyone: Mapping[str, Logs]) -> list[Violation]:
    """What one agent's views claim beyond the notifications that the protocol would have sent:
    - an interaction listed (uris or ?fields=*) that no notification ever invited the agent to;
    - a participant (any view, any state) that no InteractionStateChanged of any agent ever listed, when
      whoever joins is listed to itself (its StatusChange Processing) and to the others taking part;
    - Completed (or statusCode 6) while the agent's last StatusChange says Processing and another agent,
      Processing, still lists it as a participant: had it left, that agent would have been told.
    `everyone` holds every agent's notifications (by name, then interaction), read past a barrier taken
    after the views were fetched (`steps.views_agree`): whatever the views showed had happened by then,
    so its notifications were in. A view ahead in any other way (its own Completed or Processing lost,
    which only it would have been told) may be right: the notification checks judge that."""
    found: list[Violation] = []
    ok = profile.code(Status.SUCCESS)
    short_ids = listed_ids(views.short) if views.short.status_code == ok else None
    objects = listed_objects(views.full) if views.full.status_code == ok else None

    def bad(expected: str, actual: str) -> None:
        found.append(Violation(OWNER, f"{views.who}: {expected} (after a barrier)", actual[:600]))

    for cid, log in everyone.get(views.who, {}).items():
        told = established(profile, log)
        if told.state is None:
            if (short_ids is not None and cid in short_ids) or (objects is not None and cid in objects):
                bad(f"{cid} not listed: no notification ever invited the agent to it",
                    f"uris {short_ids}; interactions {sorted(objects or {})}")
            continue
        others = [other.get(cid, ()) for name, other in everyone.items() if name != views.who]
        known = set().union(*(ids for other in [log, *others] for _, _, ids in _changes(profile, other)))
        me = own_participant_id(profile, log)
        kept_by = [other for other in others if (c := _changes(profile, other)) and me in c[-1][2]
                   and established(profile, other).state == State.PROCESSING]
        reply = views.each.get(cid)
        one = (reply.body or {}).get(INTERACTION) if reply is not None and reply.status_code == ok else None
        shown: dict[str, tuple[State | None, Any]] = {"GET .../{id}": (_view_state(profile, reply), one)}
        if objects is not None and cid in objects:
            shown["?fields=*"] = (profile.parse(State, objects[cid].get(STATE)), objects[cid])
        for view, (state, inter) in shown.items():
            said = repr(inter) if inter is not None else (reply.text[:200] if reply is not None else "")
            if told.state == State.PROCESSING and state == State.COMPLETED and me is not None and kept_by:
                bad(f"{cid} Processing in {view}, as its last StatusChange says and as another agent taking "
                    f"part still lists it ({me})", said)
            raw = inter.get(PARTICIPANTS) if isinstance(inter, dict) else None
            phantoms = participant_ids(raw) - known
            if phantoms:
                bad(f"{cid} in {view} with only the participants notifications listed (no agent was ever "
                    f"told of {sorted(phantoms)})", f"participants {raw!r}")
    return found


def _view_state(profile: Profile, reply: Reply | None) -> State | None:
    """The state GET .../{id} shows (statusCode 6: gone, as Completed), or None."""
    if reply is None:
        return None
    if reply.status_code == profile.code(Status.NOT_FOUND):
        return State.COMPLETED
    inter = (reply.body or {}).get(INTERACTION)
    return profile.parse(State, inter.get(STATE)) if isinstance(inter, dict) else None


def _customer_left_at(profile: Profile, known: Mapping[Any, dict[str, Any]]) -> int | None:
    """The index of the customer's ParticipantLeft, when an agent was told of it."""
    left = profile.wire(ChatMessageType.PARTICIPANT_LEFT)
    customer = profile.wire(ParticipantType.CUSTOMER)
    for index in sorted(i for i in known if isinstance(i, int)):
        m = known[index]
        sender = m.get(FROM)
        if m.get(TYPE) == left and isinstance(sender, dict) and sender.get("type") == customer:
            return index
    return None


PARTICIPANTS_OWNER = "NOTIFY-04"  # the interaction object's fields (section 3.1)


def check_customer_listed(profile: Profile, who: str, logs: Logs) -> list[Violation]:
    """Section 3.1: an interaction's participants are the customer while connected and the agents taking
    part. For each interaction `who` takes part in (last StatusChange Processing), the participants of
    its last InteractionStateChanged list the customer exactly while no customer ParticipantLeft has
    reached it (the leave's ParticipantsUpdated comes before that message, but both are in once a step
    is over)."""
    customer = profile.wire(ParticipantType.CUSTOMER)
    changed = profile.wire(MessageType.INTERACTION_STATE_CHANGED)
    found: list[Violation] = []
    for cid, log in logs.items():
        told = established(profile, log)
        if told.state != State.PROCESSING or told.participants is None:
            continue
        left = _customer_left_at(profile, {m.get(INDEX): m for data in log for m in messages_in(data)})
        listed = any(p[2] == repr(customer) for p in told.participants)  # participants_key's repr
        if listed == (left is not None):
            expected = f"without the customer (it left: #{left})" if left is not None else "with the customer"
            last = [data for data in log if data.get(MESSAGE_TYPE) == changed][-1]
            found.append(Violation(PARTICIPANTS_OWNER, f"{who}: {cid}'s participants {expected}",
                                   f"participants {(last.get(INTERACTION) or {}).get(PARTICIPANTS)!r}"[:600]))
    return found


def check_customer_view(
    profile: Profile, transcript: Sequence[dict[str, Any]], logs: Sequence[Sequence[dict[str, Any]]]
) -> list[Violation]:
    """The customer's transcript against the messages every agent received about the chat (`logs`: one
    list of notification data per agent)."""
    everyone, agents = profile.wire(Visibility.ALL), profile.wire(Visibility.AGENTS)
    known: dict[Any, dict[str, Any]] = {}
    for log in logs:
        for data in log:
            for m in messages_in(data):
                known.setdefault(m.get(INDEX), m)
    private = {i for i, m in known.items() if m.get(VISIBILITY) == agents}
    leaked = [m for m in transcript if m.get(VISIBILITY) == agents or m.get(INDEX) in private]
    if leaked:
        return [Violation("CUSTOMER-02", "customer: no event the agents received as Agents",
                          f"customer saw {[essence(profile, m) for m in leaked[:6]]}")]
    got = {m.get(INDEX): m for m in transcript}
    order = [m.get(INDEX) for m in transcript]
    ints = [i for i in order if isinstance(i, int)]
    if len(ints) != len(order) or ints != sorted(set(ints)):
        return [Violation("ORDER-02", "customer: a transcript in increasing index order, no index twice",
                          f"customer saw indexes {order}")]
    until = _customer_left_at(profile, known)
    for index in sorted(i for i in known if isinstance(i, int)):
        m = known[index]
        if m.get(VISIBILITY) != everyone or (until is not None and index > until):
            continue
        mine = got.get(index)
        if mine is None or essence(profile, mine) != essence(profile, m):
            return [Violation(
                "ORDER-02",
                f"customer: event #{index} as the agents received it: {essence(profile, m)}",
                f"customer saw {essence(profile, mine) if mine else 'nothing'} at #{index}; indexes {order}",
            )]
    return []

