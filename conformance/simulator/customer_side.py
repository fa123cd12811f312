"""The customer side (section 5): the GMS Chat API v2 subset, on form-encoded parameters."""

from __future__ import annotations

from conformance.protocol import ChatMessageType, ParticipantType, Status, Visibility
from conformance.simulator.chat import Chat, Role, Sender, render_event
from conformance.simulator.core import Core, Outcome, Outgoing, new_token
from conformance.simulator.limits import (
    EVENT_UNITS,
    MAX_NICKNAME_LENGTH,
    MAX_SUBJECT_LENGTH,
    MAX_USER_DATA_KEY_LENGTH,
    MAX_USER_DATA_KEYS,
    MAX_USER_DATA_VALUE_LENGTH,
)
from conformance.simulator.validation import Refusal, check_string, invalid, missing

ACTIONS = ("send", "refresh", "startTyping", "stopTyping", "disconnect")
_TYPING = {"startTyping": ChatMessageType.TYPING_STARTED, "stopTyping": ChatMessageType.TYPING_STOPPED}
_USER_DATA = ("userData[", "]")


class CustomerSide(Core):
    def customer_start(self, service: str, form: dict[str, str]) -> Outcome:
        try:
            if service != self.service and "unknown-service-accepted" not in self.faults:
                raise Refusal(Status.NOT_FOUND, "the service does not exist")
            if "nickname" not in form:
                raise missing("nickname")
            nickname = check_string("nickname", form["nickname"], MAX_NICKNAME_LENGTH)
            subject = form.get("subject")
            if subject is not None:
                check_string("subject", subject, MAX_SUBJECT_LENGTH, allow_empty=True)
            user_data = _user_data(form)
            units = sum(map(len, (nickname, subject or "", *user_data, *user_data.values())))
            if not self.make_room(1, units + EVENT_UNITS):
                raise Refusal(Status.FORBIDDEN, "the server holds too many chats; try again later")
        except Refusal as refusal:
            return self.refused(refusal)
        chat = Chat(interaction_id=new_token(), chat_id=new_token(), customer_user_id=new_token(),
                    secure_key=new_token(), customer=Sender(new_token(), nickname, ParticipantType.CUSTOMER),
                    user_data=user_data, subject=subject, units=units)
        self.keep(chat)
        self.add_event(chat, ChatMessageType.PARTICIPANT_JOINED, chat.customer, Visibility.ALL)
        chat.step_events = []
        out: list[Outgoing] = []
        self.route(out)
        messages, next_position = self.transcript(chat, 1)
        if "start-answers-no-messages" in self.faults:
            messages = []  # yet nextPosition is past the customer's own ParticipantJoined
        body = self.ok(chatId=chat.chat_id, userId=chat.customer_user_id, secureKey=chat.secure_key,
                       alias=form.get("alias", "0"), nextPosition=next_position, messages=messages)
        return Outcome(body, out)

    def customer_action(self, service: str, chat_id: str, action: str, form: dict[str, str]) -> Outcome:
        try:
            return self._customer_action(service, chat_id, action, form)
        except Refusal as refusal:
            return self.refused(refusal)

    def _customer_action(self, service: str, chat_id: str, action: str, form: dict[str, str]) -> Outcome:
        known_service = service == self.service or "unknown-service-accepted" in self.faults
        if not known_service or action not in ACTIONS:
            raise Refusal(Status.NOT_FOUND, "the resource does not exist")
        required: tuple[str, ...] = ("userId", "secureKey", *(("message",) if action == "send" else ()))
        if "customer-missing-key-not-found" in self.faults:
            required = required[2:]  # the credentials' absence then answers 6, below
        if "alias-required" in self.faults:
            required = (*required, "alias")
        for name in required:
            if name not in form:
                raise missing(name)
        chat = self.by_chat_id.get(chat_id)
        if ("wrong-secure-key-distinct" in self.faults and chat is not None
                and form["userId"] == chat.customer_user_id and form["secureKey"] != chat.secure_key):
            raise Refusal(Status.FORBIDDEN, "the secure key is wrong")
        user_id, secure_key = form.get("userId"), form.get("secureKey")
        if "credentials-prefix-accepted" in self.faults and chat is not None and user_id and secure_key:
            user_id = chat.customer_user_id if chat.customer_user_id.startswith(user_id) else user_id
            secure_key = chat.secure_key if chat.secure_key.startswith(secure_key) else secure_key
        if chat is None or user_id != chat.customer_user_id or secure_key != chat.secure_key:
            raise Refusal(Status.NOT_FOUND, "the chat does not exist")
        position = self._position_of(form)
        if action != "refresh" and "actions-ignore-position" in self.faults:
            position = None
        out: list[Outgoing] = []
        if action == "send":
            text = check_string("message", form["message"], self.profile.limits.max_text_length)
            self._customer_event(chat, ChatMessageType.TEXT, out, text)
        elif action in _TYPING:
            self._customer_event(chat, _TYPING[action], out)
        elif action == "disconnect" and not chat.ended and "customer-disconnect-ignored" not in self.faults:
            self._customer_leaves(chat, out)
        body = self.ok()
        if "alias" in form:
            body["alias"] = form["alias"]
        if action == "refresh" or position is not None:
            messages, next_position = self.transcript(chat, position or self._default_position())
            body.update(messages=messages, nextPosition=next_position, chatEnded=chat.ended)
        return Outcome(body, out)

    def _default_position(self) -> int:
        """transcriptPosition when absent: 1 (fault absent-position-skips-first: 2)."""
        return 2 if "absent-position-skips-first" in self.faults else 1

    def _position_of(self, form: dict[str, str]) -> int | None:
        value = form.get("transcriptPosition")
        if value is None:
            return None
        if not (value.isascii() and value.isdecimal()):
            raise invalid("transcriptPosition", "not a non-negative integer")
        return int(value)

    def _customer_event(self, chat: Chat, kind: ChatMessageType, out: list[Outgoing],
                        text: str | None = None) -> None:
        if chat.ended:
            raise Refusal(Status.INVALID_PARAMETER, "the chat has ended")
        if not self.make_room(0, EVENT_UNITS + len(text or "")):
            raise Refusal(Status.FORBIDDEN, "the server holds too much chat text; try again later")
        before = self.snapshot(chat)
        self.add_event(chat, kind, chat.customer, Visibility.ALL, text)
        self.tell(chat, before, out)

    def _customer_leaves(self, chat: Chat, out: list[Outgoing]) -> None:
        """One step: withdraw pending invitations, then the customer's ParticipantLeft; the chat ends."""
        before = self.snapshot(chat)
        for member in list(chat.members.values()):
            if member.role is Role.INVITED:
                self.withdraw(chat, member)
        chat.customer_connected = False
        self.add_event(chat, ChatMessageType.PARTICIPANT_LEFT, chat.customer, Visibility.ALL)
        chat.ended = True
        self.tell(chat, before, out)

    def transcript(self, chat: Chat, start: int) -> tuple[list[dict[str, object]], int]:
        """The customer's messages from index `start` on, and nextPosition (last visible index + 1)."""
        leak = "consultation-leaks-to-customer" in self.faults
        visible = [e for e in chat.events
                   if e.visibility is Visibility.ALL or (leak and e.type is ChatMessageType.TEXT)]
        messages = [render_event(self.profile, e) for e in visible if e.index >= start]
        after_last = 0 if "next-position-is-last-index" in self.faults else 1
        return messages, (visible[-1].index + after_last if visible else 1)


def _user_data(form: dict[str, str]) -> dict[str, str]:
    """The form's `userData[<key>]` fields, within the limits (or Refusal 2)."""
    prefix, suffix = _USER_DATA
    user_data: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith(prefix) and key.endswith(suffix) and len(key) > len(prefix + suffix):
            name = key[len(prefix):-len(suffix)]
            check_string("userData key", name, MAX_USER_DATA_KEY_LENGTH)
            user_data[name] = check_string(key, value, MAX_USER_DATA_VALUE_LENGTH, allow_empty=True)
            if len(user_data) > MAX_USER_DATA_KEYS:
                raise invalid("userData", f"more than {MAX_USER_DATA_KEYS} keys")
    return user_data
