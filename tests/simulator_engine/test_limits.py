"""The customer side's limits (conformance/simulator/limits.py): field lengths, user data, kept chats."""

from __future__ import annotations

import pytest

from conformance.protocol import DEFAULT_PROFILE
from conformance.simulator import core, limits
from conformance.simulator.accounts import SERVICE

from .world import World


def start(w: World, **form: str) -> dict:
    return w.engine.customer_start(SERVICE, {"nickname": "Cust", **form}).body


@pytest.mark.parametrize(
    ("field", "limit"),
    [("nickname", limits.MAX_NICKNAME_LENGTH), ("subject", limits.MAX_SUBJECT_LENGTH),
     ("userData[Tag]", limits.MAX_USER_DATA_VALUE_LENGTH)],
)
def test_start_fields_up_to_their_limit_in_code_points(field: str, limit: int) -> None:
    w = World()
    assert start(w, **{field: "😀" * limit})["statusCode"] == 0
    refused = start(w, **{field: "x" * (limit + 1)})
    assert refused["statusCode"] == 2 and set(refused) == {"statusCode", "statusMessage"}
    assert len(w.engine.chats) == 1


def test_user_data_keys_are_limited_in_length_and_number() -> None:
    w = World()
    longest = "k" * limits.MAX_USER_DATA_KEY_LENGTH
    assert start(w, **{f"userData[{longest}]": "v"})["statusCode"] == 0
    assert start(w, **{f"userData[{longest}k]": "v"})["statusCode"] == 2
    most = {f"userData[k{i}]": "" for i in range(limits.MAX_USER_DATA_KEYS)}
    assert start(w, **most)["statusCode"] == 0
    assert start(w, **most, **{"userData[one-more]": "v"})["statusCode"] == 2
    assert len(w.engine.chats) == 2


def test_customer_message_text_follows_the_profile_limit() -> None:
    w = World()
    chat, _ = w.start()
    limit = DEFAULT_PROFILE.limits.max_text_length
    assert w.customer(chat, "send", message="😀" * limit).body["statusCode"] == 0
    assert w.customer(chat, "send", message="x" * (limit + 1)).body["statusCode"] == 2


def test_live_chats_are_capped_the_oldest_finished_ones_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "MAX_LIVE_CHATS", 3)
    w = World()
    first, _ = w.start()
    second, _ = w.start()
    w.start()
    assert w.engine.customer_start(SERVICE, {"nickname": "late"}).body["statusCode"] == 3  # none finished
    assert w.customer(second, "disconnect").body == {"statusCode": 0}
    assert start(w)["statusCode"] == 0  # frees `second`, the oldest finished chat; `first` is still live
    assert len(w.engine.chats) == 3
    assert w.customer(second, "refresh").body["statusCode"] == 6
    assert w.customer(first, "refresh").body["statusCode"] == 0


def test_a_chat_an_agent_still_handles_is_never_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "MAX_LIVE_CHATS", 1)
    w = World()
    chat, iid = w.owned_chat("a1")
    assert w.customer(chat, "disconnect").body == {"statusCode": 0}
    assert start(w)["statusCode"] == 3  # a1 still has it (Processing, the customer gone)
    assert w.op("a1", iid, "StopProcessing").body == {"statusCode": 0}
    assert start(w)["statusCode"] == 0
    assert w.view("a1", iid) == {}


def test_stored_text_has_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = 3 * limits.MAX_USER_DATA_VALUE_LENGTH
    monkeypatch.setattr(core, "MAX_STORED_UNITS", budget)
    w = World()
    chat, _ = w.start()
    assert start(w, **{"userData[big]": "x" * limits.MAX_USER_DATA_VALUE_LENGTH})["statusCode"] == 0
    texts = 0
    while (reply := w.customer(chat, "send", message="y" * 1000).body)["statusCode"] == 0:
        texts += 1
    assert reply["statusCode"] == 3 and 0 < texts < budget // 1000
    assert w.engine.stored_units <= budget
    assert w.engine.stored_units == sum(c.units for c in w.engine.chats.values())
