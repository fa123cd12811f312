"""A small driver for the engine in unit tests: agents, customers and readable notification summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from conformance.protocol import DEFAULT_PROFILE, Channel
from conformance.simulator.accounts import BUILT_IN_AGENTS, SERVICE
from conformance.simulator.engine import Engine, Outcome

FIXED = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
BASE = "http://127.0.0.1:8090"


@dataclass
class CustomerChat:
    chat_id: str
    user_id: str
    secure_key: str
    tag: str


class World:
    def __init__(self, *faults: str, routing: str = "hints") -> None:
        self.engine = Engine(
            DEFAULT_PROFILE, BUILT_IN_AGENTS, SERVICE, frozenset(faults), clock=lambda: FIXED, routing=routing
        )
        self._tags = 0

    # agents
    def ready(self, *uids: str) -> Outcome:
        out = None
        for uid in uids:
            out = self.engine.channel_operation(uid, "chat", {"operationName": "Ready"})
        assert out is not None
        return out

    def not_ready(self, uid: str) -> Outcome:
        return self.engine.channel_operation(uid, "chat", {"operationName": "NotReady"})

    def op(self, uid: str, iid: str, name: str, **fields: object) -> Outcome:
        return self.engine.interaction_operation(uid, iid, {"operationName": name, **fields})

    def interaction_id(self, chat: CustomerChat) -> str:
        """Found as the suite does: through the tag in the user data."""
        for chat_ in self.engine.chats.values():
            if chat_.user_data.get("Tag") == chat.tag:
                return chat_.interaction_id
        raise AssertionError("no such chat")

    def view(self, uid: str, iid: str) -> dict:
        return self.engine.get_interaction(uid, iid).body.get("interaction", {})

    # customers
    def start(self, **user_data: str) -> tuple[CustomerChat, Outcome]:
        self._tags += 1
        tag = f"t{self._tags}"
        form = {"nickname": "Cust", "subject": "help", "userData[Tag]": tag}
        form.update({f"userData[{k}]": v for k, v in user_data.items()})
        out = self.engine.customer_start(SERVICE, form)
        body = out.body
        return CustomerChat(body["chatId"], body["userId"], body["secureKey"], tag), out

    def customer(self, chat: CustomerChat, action: str, **form: str) -> Outcome:
        full = {"userId": chat.user_id, "secureKey": chat.secure_key, **form}
        return self.engine.customer_action(SERVICE, chat.chat_id, action, full)

    def owned_chat(self, uid: str = "a1", **user_data: str) -> tuple[CustomerChat, str]:
        """A chat routed to `uid` and accepted by it."""
        self.ready(uid)
        chat, _ = self.start(RouteToAgent=self.engine.accounts[uid].user_name, **user_data)
        iid = self.interaction_id(chat)
        assert self.op(uid, iid, "Accept").body == {"statusCode": 0}
        return chat, iid

    def consulting(
        self, owner: str = "a1", consultant: str = "a2", join: bool = True
    ) -> tuple[CustomerChat, str]:
        chat, iid = self.owned_chat(owner)
        self.ready(consultant)
        assert self.op(owner, iid, "InitiateConsultation", agentId=consultant).body["statusCode"] == 0
        if join:
            assert self.op(consultant, iid, "Accept").body["statusCode"] == 0
        return chat, iid


def brief(data: dict) -> str:
    """One notification as a short string, e.g. 'StatusChange:Processing' or 'NewMessages:Text@3'."""
    if data["messageType"] == "ChannelStateChanged":
        return f"Channel:{data['channels'][0]['userState']['state']}"
    kind = data["notificationType"]
    if kind == "StatusChange":
        return f"StatusChange:{data['interaction']['state']}"
    if kind == "ParticipantsUpdated":
        return kind
    if kind == "ChatHistory":
        return f"ChatHistory:{[m['index'] for m in data['messages']]}"
    (message,) = data["messages"]
    return f"NewMessages:{message['type']}@{message['index']}"


def told(outcome: Outcome, uid: str, channel: Channel = Channel.INTERACTIONS) -> list[str]:
    return [brief(n.data) for n in outcome.notifications if n.user_id == uid and n.channel is channel]


def caps(data_or_view: dict) -> set[str]:
    view = data_or_view.get("interaction", data_or_view)
    return set(view["capabilities"])


def first(outcome: Outcome, uid: str) -> dict:
    return next(n.data for n in outcome.notifications if n.user_id == uid)


def last(outcome: Outcome, uid: str) -> dict:
    return [n.data for n in outcome.notifications if n.user_id == uid][-1]


OWNER = {
    "SendMessage",
    "SendNotification",
    "Transfer",
    "StopProcessing",
    "RequestChatHistory",
    "InitiateConsultation",
}
OWNER_CONSULT_INVITED = {"SendMessage", "SendNotification", "RequestChatHistory"}
OWNER_CONSULT_JOINED = {
    "SendMessage",
    "SendNotification",
    "RequestChatHistory",
    "CompleteTransfer",
    "CompleteConference",
}
MEMBER = {"SendMessage", "SendNotification", "RequestChatHistory", "StopProcessing"}
CUSTOMER_LEFT = {"RequestChatHistory", "StopProcessing"}


def step(event: str) -> list[str]:
    """What another agent taking part is told of a participant change (rule 4)."""
    return ["ParticipantsUpdated", f"NewMessages:{event}", "StatusChange:Processing"]
