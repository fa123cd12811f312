"""The ten interaction operations of section 7, with the error precedence of section 2."""

from __future__ import annotations

from collections.abc import Callable

from conformance.protocol import (
    INTERACTION_OPERATIONS,
    ChatMessageType,
    Field,
    NotificationType,
    Operation,
    ParticipantType,
    Position,
    Status,
    Visibility,
)
from conformance.simulator.chat import Chat, Member, Role, Sender
from conformance.simulator.core import Core, Json, Outcome, Outgoing
from conformance.simulator.validation import Refusal, check_event_id, check_string, invalid, missing

Handler = Callable[[Chat, Member, Json, list[Outgoing]], Json]
_TYPING = (ChatMessageType.TYPING_STARTED, ChatMessageType.TYPING_STOPPED)
_OWNER_CONSULTING = (Position.OWNER_CONSULTANT_INVITED, Position.OWNER_CONSULTANT_JOINED)


class InteractionOperations(Core):
    def find_member(self, user_id: str, interaction_id: str) -> tuple[Chat, Member]:
        """The chat and this agent's place in it, or Refusal(6): unknown, or not this agent's."""
        chat = self.chats.get(interaction_id)
        member = chat.members.get(user_id) if chat is not None else None
        if chat is not None and member is None and "foreign-interaction-visible" in self.faults:
            member = next(iter(chat.taking_part()), None) or next(iter(chat.members.values()), None)
        if chat is None or member is None:
            raise Refusal(Status.NOT_FOUND, "the interaction does not exist")
        return chat, member

    def interaction_operation(self, user_id: str, interaction_id: str, body: object) -> Outcome:
        try:
            if not isinstance(body, dict):
                raise Refusal(Status.MISSING_PARAMETER, "the body is not a JSON object")
            chat, member = self.find_member(user_id, interaction_id)
            operation = self.operation_of(body, INTERACTION_OPERATIONS)
            position = self.position(chat, member)
            if self._answers_zero(operation, position):
                return Outcome(self.ok(), [])
            allowed = self.capabilities(position)
            if ("transfer-during-consultation" in self.faults
                    and position is Position.OWNER_CONSULTANT_INVITED):
                allowed = allowed | {Operation.TRANSFER}
            if operation not in allowed:
                wire = self.profile.wire(operation)
                raise Refusal(Status.INVALID_PARAMETER, f"{wire} is not possible now")
            out: list[Outgoing] = []
            reply = self._handlers()[operation](chat, member, body, out)
            self.route(out)
            return Outcome(reply, out)
        except Refusal as refusal:
            return self.refused(refusal)

    def operation_of(self, body: Json, known: tuple[Operation, ...]) -> Operation:
        name = self.profile.wire(Field.OPERATION)
        if name not in body:
            raise missing(name)
        operation = self.profile.parse(Operation, body[name])
        if operation is None or (operation not in known and "foreign-operation-accepted" not in self.faults):
            raise invalid(name, "unknown operation")
        return operation

    def _answers_zero(self, operation: Operation, position: Position) -> bool:
        """Seeded faults that answer 0 to a misuse and change nothing."""
        f = self.faults
        processing = position not in (Position.INVITED, Position.COMPLETED)
        early = (Position.OWNER, Position.OWNER_CONSULTANT_INVITED)
        return (("accept-twice" in f and operation is Operation.ACCEPT and processing)
                or ("reject-after-accept" in f and operation is Operation.REJECT and processing)
                or ("stop-while-invited" in f and operation is Operation.STOP_PROCESSING
                    and position is Position.INVITED)
                or ("second-consultation" in f and operation is Operation.INITIATE_CONSULTATION
                    and position in _OWNER_CONSULTING)
                or ("complete-transfer-early" in f and operation is Operation.COMPLETE_TRANSFER
                    and position in early)
                or ("complete-conference-early" in f and operation is Operation.COMPLETE_CONFERENCE
                    and position in early))

    def _handlers(self) -> dict[Operation, Handler]:
        return {
            Operation.ACCEPT: self._accept,
            Operation.REJECT: self._reject,
            Operation.SEND_MESSAGE: self._send_message,
            Operation.SEND_NOTIFICATION: self._send_notification,
            Operation.TRANSFER: self._transfer,
            Operation.STOP_PROCESSING: self._stop_processing,
            Operation.REQUEST_CHAT_HISTORY: self._request_chat_history,
            Operation.INITIATE_CONSULTATION: self._initiate_consultation,
            Operation.COMPLETE_TRANSFER: self._complete_transfer,
            Operation.COMPLETE_CONFERENCE: self._complete_conference,
        }

    # ---- the operations: each validates everything first, then changes the chat -----------------
    def _accept(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        name = self.profile.wire(Field.NICKNAME)
        nickname = member.sender.nickname
        if name in body:
            nickname = check_string(name, body[name], self.profile.limits.max_nickname_length,
                                    allow_empty="empty-nickname-accepted" in self.faults)
        before = self.snapshot(chat)
        member.sender = Sender(member.sender.participant_id, nickname, ParticipantType.AGENT)
        member.joined = True
        member.role = Role.CONSULTANT if member.as_consultant else Role.OWNER
        visibility = member.visibility
        if "consultant-join-visible-to-all" in self.faults:
            visibility = Visibility.ALL
        self.add_event(chat, ChatMessageType.PARTICIPANT_JOINED, member.sender, visibility)
        self.tell(chat, before, out)
        return self.ok()

    def _reject(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        before = self.snapshot(chat)
        self.withdraw(chat, member)
        if "reoffer-to-rejecter" in self.faults:
            chat.invited_ever.discard(member.user_id)
        if "rejected-chat-not-requeued" in self.faults and chat.needs_agent() and not self.candidates(chat):
            chat.unqueued = True  # nobody Ready to take it now: dropped instead of waiting in the queue
        silent = frozenset({member.user_id}) if "reject-not-notified" in self.faults else frozenset()
        self.tell(chat, before, out, silent)
        return self.ok()

    def _send_message(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        name = self.profile.wire(Field.TEXT)
        if name not in body:
            raise (invalid(name, "absent") if "missing-text-is-invalid" in self.faults else missing(name))
        value, limit = body[name], self.profile.limits.max_text_length
        if "failed-message-delivered" in self.faults and isinstance(value, str) and len(value) > limit:
            self._say(chat, member, ChatMessageType.TEXT, out, check_string(name, value))
            refusal = invalid(name, f"longer than {limit} characters")
            return {"statusCode": self.profile.code(refusal.status), "statusMessage": refusal.message}
        text = check_string(name, value, None if "long-text-accepted" in self.faults else limit)
        if "text-stripped" in self.faults:
            text = text.strip()
        self._say(chat, member, ChatMessageType.TEXT, out, text)
        return self.ok()

    def _send_notification(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        name = self.profile.wire(Field.NOTIFICATION)
        if name not in body:
            raise missing(name)
        kind = self.profile.parse(ChatMessageType, body[name])
        if kind not in _TYPING:
            if "any-typing-value" not in self.faults:
                raise invalid(name, "not a typing notification")
            kind = ChatMessageType.TYPING_STARTED
        if kind is ChatMessageType.TYPING_STOPPED and "typing-stopped-as-started" in self.faults:
            kind = ChatMessageType.TYPING_STARTED
        assert kind is not None
        self._say(chat, member, kind, out)
        return self.ok()

    def _say(self, chat: Chat, member: Member, kind: ChatMessageType, out: list[Outgoing],
             text: str | None = None) -> None:
        """A Text or typing event from an agent: `Agents` from a consultant, `All` otherwise."""
        visibility = member.visibility
        if ("conference-stays-private" in self.faults and member.role is Role.CONFERENCE
                and member.as_consultant):
            visibility = Visibility.AGENTS
        before = self.snapshot(chat)
        self.add_event(chat, kind, member.sender, visibility, text)
        self.tell(chat, before, out)

    def _transfer(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        agent_field, skill_field = self.profile.wire(Field.AGENT_ID), self.profile.wire(Field.SKILL)
        if agent_field not in body and skill_field not in body:
            raise missing(f"{agent_field} or {skill_field}")
        if agent_field in body and skill_field in body:
            raise invalid(agent_field, f"only one of {agent_field} and {skill_field} may be given")
        if agent_field in body:
            target = check_string(agent_field, body[agent_field])
            if target == member.user_id and "transfer-to-self" in self.faults:
                return self.ok()
            self._check_target(chat, member, agent_field, target)
        else:
            skill = check_string(skill_field, body[skill_field])
            if not any(skill in a.skills for a in self.accounts.values()):
                raise invalid(skill_field, "unknown skill")
            pool = [uid for uid in self.accounts if uid not in chat.invited_ever and self.agents[uid].ready]
            if "skill-transfer-ignores-skill" not in self.faults:
                pool = [uid for uid in pool if skill in self.accounts[uid].skills]
            if not pool:
                raise invalid(skill_field, "no Ready agent with this skill that was not invited yet")
            target = pool[0]
        before = self.snapshot(chat)
        member.role = Role.COMPLETED
        if "transfer-history-without-leave" not in self.faults:
            self.add_event(chat, ChatMessageType.PARTICIPANT_LEFT, member.sender, member.visibility)
        self.invite(chat, target)
        silent = frozenset({member.user_id}) if "transfer-initiator-stays" in self.faults else frozenset()
        self.tell(chat, before, out, silent)
        return self.ok()

    def _check_target(self, chat: Chat, member: Member, name: str, target: str) -> None:
        """The agent named as a Transfer or consultation target must be another Ready agent, new here."""
        if target == member.user_id:
            raise invalid(name, "the agent itself")
        if target not in self.accounts:
            raise invalid(name, "unknown agent")
        known = chat.members.get(target)
        if known is not None and known.taking_part:
            raise invalid(name, "already a participant")
        if target in chat.invited_ever:
            raise invalid(name, "already invited to this chat")
        if not self.agents[target].ready:
            raise invalid(name, "the agent is not Ready")

    def _stop_processing(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        before = self.snapshot(chat)
        member.role = Role.COMPLETED
        if "stop-not-told" not in self.faults:
            self.add_event(chat, ChatMessageType.PARTICIPANT_LEFT, member.sender, member.visibility)
        if chat.consultant == member.user_id:
            chat.consultant = None
        remaining = chat.taking_part()
        if len(remaining) == 1 and remaining[0].role is not Role.OWNER:
            remaining[0].role = Role.OWNER  # a conference member left alone, or a consultant after the owner
            chat.consultant = None
        if not remaining and "last-stop-keeps-chat" not in self.faults:
            chat.ended = True
        self.tell(chat, before, out)
        return self.ok()

    def _request_chat_history(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        if "consultant-history-refused" in self.faults and member.role is Role.CONSULTANT:
            raise Refusal(Status.INVALID_PARAMETER, "RequestChatHistory is not possible now")
        name = self.profile.wire(Field.EVENT_ID)
        start = 0
        if name in body:
            start = check_event_id(name, body[name], allow_negative="negative-event-id" in self.faults)
        events = self.agent_history(chat, start, after="event-id-exclusive" in self.faults and start > 0)
        if "history-omits-typing" in self.faults:
            events = [e for e in events if e.type not in _TYPING]
        out.append(self._to(member, self.message_log(NotificationType.CHAT_HISTORY, chat, events)))
        return self.ok()

    def _initiate_consultation(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        name = self.profile.wire(Field.AGENT_ID)
        if name not in body:
            raise missing(name)
        target = check_string(name, body[name])
        self._check_target(chat, member, name, target)
        before = self.snapshot(chat)
        self.invite(chat, target, as_consultant=True)
        chat.consultant = target
        self.tell(chat, before, out)
        return self.ok()

    def _complete_transfer(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        consultant = self._joined_consultant(chat)
        before = self.snapshot(chat)
        joined = (ChatMessageType.PARTICIPANT_JOINED, consultant.sender)
        left = (ChatMessageType.PARTICIPANT_LEFT, member.sender)
        order = (left, joined) if "complete-transfer-leave-first" in self.faults else (joined, left)
        for kind, sender in order:
            self.add_event(chat, kind, sender, Visibility.ALL)
        consultant.role, consultant.visibility = Role.OWNER, Visibility.ALL
        if "complete-transfer-keeps-consultant" in self.faults:
            consultant.frozen = Position.CONSULTANT
        member.role = Role.COMPLETED
        chat.consultant = None
        self.tell(chat, before, out)
        return self.ok()

    def _complete_conference(self, chat: Chat, member: Member, body: Json, out: list[Outgoing]) -> Json:
        consultant = self._joined_consultant(chat)
        before = self.snapshot(chat)
        consultant.role, consultant.visibility = Role.CONFERENCE, Visibility.ALL
        member.role = Role.CONFERENCE
        chat.consultant = None
        hidden = "conference-join-hidden" in self.faults
        self.add_event(chat, ChatMessageType.PARTICIPANT_JOINED, consultant.sender,
                       Visibility.AGENTS if hidden else Visibility.ALL)
        self.tell(chat, before, out)
        return self.ok()

    def _joined_consultant(self, chat: Chat) -> Member:
        consultant = chat.members.get(chat.consultant) if chat.consultant else None
        if consultant is None or consultant.role is not Role.CONSULTANT:
            raise Refusal(Status.INVALID_PARAMETER, "no consultant has joined")
        return consultant
