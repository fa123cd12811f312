"""The reference server's engine: the whole chat profile as pure, synchronous code (no I/O).

Entry points take authenticated identities and parsed bodies and return an Outcome: the reply body
(always with statusCode) and the notifications to queue, in order, before the reply is sent.
"""

from __future__ import annotations

import hmac

from conformance.protocol import Channel, ChannelState, Field, MessageType, Operation, State, Status
from conformance.simulator.accounts import AgentAccount
from conformance.simulator.chat import TAKING_PART, Chat, Member, Role, render_sender
from conformance.simulator.core import Json, Outcome, Outgoing
from conformance.simulator.customer_side import CustomerSide
from conformance.simulator.operations import InteractionOperations
from conformance.simulator.validation import Refusal, check_string, invalid

__all__ = ["AgentAccount", "Engine", "Outcome", "Outgoing"]


class Engine(InteractionOperations, CustomerSide):
    def authenticate(self, user_name: str, password: str) -> str | None:
        """The user id of the agent with these credentials, or None."""
        for account in self.accounts.values():
            named = account.user_name == user_name
            if "unknown-user-by-order" in self.faults:
                named = account.user_name >= user_name
            if named and hmac.compare_digest(
                account.password.encode("utf-8"), password.encode("utf-8", "surrogatepass")
            ):
                return account.id
        return None

    def me(self, user_id: str) -> Outcome:
        account = self.accounts.get(user_id)
        if account is None:
            return self.refused(Refusal(Status.NOT_FOUND, "the user does not exist"))
        user = {"id": account.id, "userName": account.user_name, "firstName": account.first_name,
                "lastName": account.last_name, "uri": f"{self.profile.http.api_prefix}/users/{account.id}"}
        return Outcome(self.ok(user=user), [])

    def session_operation(self, user_id: str, body: object) -> Outcome:
        """POST /me: StartContactCenterSession (with channels) and EndContactCenterSession."""
        try:
            if not isinstance(body, dict):
                raise Refusal(Status.MISSING_PARAMETER, "the body is not a JSON object")
            operation = self.operation_of(body, (Operation.START_SESSION, Operation.END_SESSION))
            status, out = self.agents[user_id], list[Outgoing]()
            if operation is Operation.START_SESSION:
                name = self.profile.wire(Field.CHANNELS)
                if name in body:
                    channels = body[name]
                    if not isinstance(channels, list):
                        raise invalid(name, "not a list")
                    for channel in channels if "session-channels-unchecked" not in self.faults else ():
                        check_string(name, channel)
                status.session = True
                return Outcome(self.ok(), [])
            status.session = status.ready = False
            if "end-session-keeps-ready" in self.faults:
                status.ready = True  # the session ended, but routing still sees the agent Ready
            ends = TAKING_PART if "end-session-ends-chats" in self.faults else ()  # its chats in progress too
            for chat in self.chats.values():
                member = chat.members.get(user_id)
                if member is not None and member.role in (Role.INVITED, *ends):
                    before = self.snapshot(chat)
                    self.withdraw(chat, member)
                    self.tell(chat, before, out)
            self.route(out)
            return Outcome(self.ok(), out)
        except Refusal as refusal:
            return self.refused(refusal)

    def channel_operation(self, user_id: str, channel: str, body: object) -> Outcome:
        """POST /me/channels/{channel}: Ready or NotReady, starting the session when needed."""
        try:
            unknown = channel != self.profile.media
            if "unknown-channel-by-order" in self.faults:
                unknown = channel > self.profile.media
            if unknown:
                raise Refusal(Status.NOT_FOUND, "the channel does not exist")
            if not isinstance(body, dict):
                raise Refusal(Status.MISSING_PARAMETER, "the body is not a JSON object")
            operation = self.operation_of(body, (Operation.READY, Operation.NOT_READY))
        except Refusal as refusal:
            return self.refused(refusal)
        status = self.agents[user_id]
        status.session, status.ready = True, operation is Operation.READY
        out: list[Outgoing] = []
        if not (status.ready and "ready-not-notified" in self.faults):
            state = ChannelState.READY if status.ready else ChannelState.NOT_READY
            out.append(Outgoing(user_id, Channel.CHANNELS, {
                "messageType": self.profile.wire(MessageType.CHANNEL_STATE_CHANGED),
                "channels": [
                    {"channel": self.profile.media, "userState": {"state": self.profile.wire(state)}}
                ],
            }))
        self.route(out)
        return Outcome(self.ok(), out)

    def list_interactions(self, user_id: str, base_url: str, all_fields: bool) -> Outcome:
        """The agent's Invited and Processing interactions, as absolute uris (and objects with fields=*)."""
        mine = [(chat, chat.members[user_id]) for chat in self.chats.values()
                if user_id in chat.members and chat.members[user_id].role is not Role.COMPLETED]
        kept = [chat for chat in self.chats.values() if user_id in chat.members
                and chat.members[user_id].role is Role.COMPLETED and chat.members[user_id].joined]
        prefix = f"{base_url.rstrip('/')}{self.profile.http.api_prefix}/me/interactions/"
        shown = [chat for chat, _ in mine] + (kept if "completed-still-listed" in self.faults else [])
        body = self.ok(uris=[prefix + chat.interaction_id for chat in shown])
        if all_fields:
            if "full-list-omits-invited" in self.faults:
                mine = [(chat, member) for chat, member in mine if member.role is not Role.INVITED]
            body["interactions"] = [self.rest_view(chat, member) for chat, member in mine]
        return Outcome(body, [])

    def get_interaction(self, user_id: str, interaction_id: str) -> Outcome:
        try:
            chat, member = self.find_member(user_id, interaction_id)
        except Refusal as refusal:
            return self.refused(refusal)
        inter = self.rest_view(chat, member)
        if "view-stale-state" in self.faults and member.role is Role.COMPLETED and member.joined:
            inter["state"], inter["capabilities"] = self.profile.wire(State.PROCESSING), []
        if "view-conference-member-completed" in self.faults and member.role is Role.CONFERENCE:
            inter["state"], inter["capabilities"] = self.profile.wire(State.COMPLETED), []
        if "view-user-data-missing" in self.faults:
            inter["userData"] = {}
        return Outcome(self.ok(interaction=inter), [])

    def rest_view(self, chat: Chat, member: Member) -> Json:
        """The interaction object of the REST views (the one notifications carry, but for seeded faults)."""
        inter = self.interaction(chat, member)
        if "view-phantom-participant" in self.faults and member.role is Role.INVITED:
            visibility = self.profile.wire(member.visibility)
            me = {**render_sender(self.profile, member.sender), "visibility": visibility}
            inter["participants"] = [*inter["participants"], me]
        if "view-stale-participant" in self.faults:
            gone = [m for m in chat.members.values() if m.role is Role.COMPLETED and m.joined]
            inter["participants"] = [*inter["participants"], *(
                {**render_sender(self.profile, m.sender), "visibility": self.profile.wire(m.visibility)}
                for m in gone
            )]
        return inter
