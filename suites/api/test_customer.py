"""Section 5: the customer side (GMS Chat API v2)."""

from __future__ import annotations

import pytest

from conformance.api import (
    ALIAS,
    CHAT_ENDED,
    SECURE_KEY,
    USER_ID,
    ChatMessageType,
    ParticipantType,
    Status,
    Visibility,
    expect,
    index_of,
    match,
    messages_of,
)


@pytest.mark.requirement("CUSTOMER-01")
async def test_customer_chats_reads_the_transcript_and_disconnects(accepted_chat, profile):
    chat, owner, customer = accepted_chat, accepted_chat.owner, accepted_chat.customer.client
    mark = owner.notifications.mark()
    expect.success(await customer.send("hello from the customer ✓"), "CUSTOMER-01")
    await expect.notification(
        owner,
        "CUSTOMER-01",
        match.new_message(profile, chat.id, ChatMessageType.TEXT, text="hello from the customer ✓"),
        "the customer's message",
        since=mark,
    )
    await owner.send_message(chat.id, "hello from the agent")
    refreshed = expect.success(await customer.refresh(1), "CUSTOMER-01")
    texts = [m.get("text") for m in messages_of(refreshed)]
    expect.that(
        "hello from the agent" in texts, "CUSTOMER-01", "the agent's message in the transcript", texts
    )
    mark = owner.notifications.mark()
    expect.success(await customer.disconnect(), "CUSTOMER-01")
    await expect.notification(
        owner,
        "CUSTOMER-01",
        match.new_message(profile, chat.id, ChatMessageType.PARTICIPANT_LEFT),
        "the customer's ParticipantLeft",
        since=mark,
    )
    after = expect.success(await customer.refresh(), "CUSTOMER-01")
    expect.that((after.body or {}).get(CHAT_ENDED) is True, "CUSTOMER-01", "chatEnded true", after.body)


@pytest.mark.requirement("CUSTOMER-01")
async def test_refresh_answers_from_its_position_and_the_next_position_after_the_last(accepted_chat):
    """Section 5: `refresh` returns the messages with index >= transcriptPosition, and `nextPosition` is
    the last index the customer can see plus 1 (two sends in a row: one ends on an odd index, one on an
    even one)."""
    customer = accepted_chat.customer.client
    for text in ("first", "second"):
        expect.success(await customer.send(text), "CUSTOMER-01")
        whole = expect.success(await customer.refresh(1), "CUSTOMER-01")
        indexes = [index_of(m) for m in messages_of(whole)]
        expect.that(bool(indexes) and all(isinstance(i, int) for i in indexes), "CUSTOMER-01",
                    "the transcript's messages with integer indexes", indexes)
        default = expect.success(await customer.refresh(), "CUSTOMER-01")
        expect.that([index_of(m) for m in messages_of(default)] == indexes, "CUSTOMER-01",
                    f"without transcriptPosition: from 1, as refresh(1): {indexes}",
                    [index_of(m) for m in messages_of(default)])
        nxt = (whole.body or {}).get("nextPosition")
        expect.that(nxt == indexes[-1] + 1, "CUSTOMER-01", f"nextPosition {indexes[-1] + 1} (last index + 1)",
                    nxt)
        tail = expect.success(await customer.refresh(indexes[-1]), "CUSTOMER-01")
        expect.that([index_of(m) for m in messages_of(tail)] == indexes[-1:], "CUSTOMER-01",
                    f"from position {indexes[-1]}: only the message {indexes[-1]}",
                    [index_of(m) for m in messages_of(tail)])
        after = expect.success(await customer.refresh(indexes[-1] + 1), "CUSTOMER-01")
        expect.that(messages_of(after) == [] and (after.body or {}).get("nextPosition") == nxt, "CUSTOMER-01",
                    f"from position {nxt}: no message, nextPosition {nxt}", after.body)


@pytest.mark.requirement("CUSTOMER-01")
async def test_the_start_answer_and_a_refresh_from_its_next_position_leave_out_nothing(new_chat):
    """Section 5: the start answers `messages` and `nextPosition`; a customer that shows those messages and
    then refreshes from that nextPosition must see the transcript a refresh from 1 gives (its own join
    first): no message may fall between the two."""
    customer = new_chat.customer
    started = customer.started
    assert started is not None  # the fixture started the chat
    nxt = (started.body or {}).get("nextPosition")
    expect.that(isinstance(nxt, int) and not isinstance(nxt, bool), "CUSTOMER-01",
                "the start answers an integer nextPosition", started.body)
    rest = expect.success(await customer.client.refresh(nxt), "CUSTOMER-01")
    whole = expect.success(await customer.client.refresh(1), "CUSTOMER-01")
    shown = [index_of(m) for m in [*messages_of(started), *messages_of(rest)]]
    expected = [index_of(m) for m in messages_of(whole)]
    expect.that(shown == expected, "CUSTOMER-01",
                f"the start's messages, then the refresh from {nxt}: the indexes of a refresh from 1 "
                f"{expected}", shown)


@pytest.mark.requirement("CUSTOMER-01")
async def test_send_typing_and_disconnect_given_a_position_answer_the_transcript_from_there(new_chat):
    """Section 5: send, the typing calls and disconnect, given transcriptPosition, answer `messages` and
    `nextPosition` as refresh does; each answer is compared with a refresh from the same position made
    right after it (nothing else happens in the chat meanwhile)."""
    client = new_chat.customer.client
    steps = {
        "send": lambda: client.send("with a position", position=1),
        "startTyping": lambda: client.start_typing(position=1),
        "stopTyping": lambda: client.stop_typing(position=1),
        "disconnect": lambda: client.disconnect(position=1),
    }

    def seen(reply):
        return [index_of(m) for m in messages_of(reply)], (reply.body or {}).get("nextPosition")

    for name, step in steps.items():
        answer = expect.success(await step(), "CUSTOMER-01")
        refresh = expect.success(await client.refresh(1), "CUSTOMER-01")
        expect.that(seen(answer) == seen(refresh), "CUSTOMER-01",
                    f"{name} with transcriptPosition 1: the messages and nextPosition of a refresh from 1 "
                    f"{seen(refresh)}", answer.body)


@pytest.mark.requirement("CUSTOMER-01")
async def test_customer_requests_without_alias_succeed(accepted_chat):
    """Section 5: `alias` is echoed but not required: send and refresh without it succeed."""
    customer = accepted_chat.customer.client
    form = {k: v for k, v in customer.credentials().items() if k != ALIAS}
    expect.success(await customer.raw("send", {**form, "message": "sent without an alias"}), "CUSTOMER-01")
    refreshed = expect.success(await customer.raw("refresh", form), "CUSTOMER-01")
    texts = [m.get("text") for m in messages_of(refreshed)]
    expect.that("sent without an alias" in texts, "CUSTOMER-01", "the message in the transcript", texts)


@pytest.mark.requirement("CUSTOMER-02")
async def test_customer_never_sees_the_consultation(consultation_joined, profile):
    chat, owner, consultant = consultation_joined, consultation_joined.owner, consultation_joined.consultant
    await consultant.send_message(chat.id, "between agents only")
    await owner.send_message(chat.id, "for everyone")
    customer = chat.customer
    await customer.wait_for_message(lambda m: m.get("text") == "for everyone")
    seen = messages_of(await customer.client.refresh(1))
    private = [
        m
        for m in seen
        if m.get("visibility") != profile.wire(Visibility.ALL) or m.get("text") == "between agents only"
    ]
    expect.that(not private, "CUSTOMER-02", "only messages of visibility All", private)
    agent_joins = [
        m
        for m in seen
        if m.get("type") == profile.wire(ChatMessageType.PARTICIPANT_JOINED)
        and (m.get("from") or {}).get("type") == profile.wire(ParticipantType.AGENT)
    ]
    expect.that(len(agent_joins) == 1, "CUSTOMER-02", "only the owner's join", agent_joins)


@pytest.mark.requirement("CUSTOMER-03")
async def test_wrong_secure_key_is_refused_like_an_unknown_chat(accepted_chat, profile):
    """Section 5: a wrong secureKey, a wrong userId (each also as near misses of the right one: one char
    short, sorting before it, and one char more, sorting after) and an unknown chatId get one answer."""
    customer = accepted_chat.customer.client
    expect.success(await customer.send("a secret only this customer may read"), "CUSTOMER-01")
    good = customer.credentials()
    replies = []
    for key, wrong in ((SECURE_KEY, "0" * 24), (USER_ID, "no-such-user-0")):
        for value in (wrong, str(good[key])[:-1], f"{good[key]}0"):
            replies.append(await customer.raw("refresh", {**good, key: value}))
    replies.append(await customer.raw("refresh", good, chat_id="no-such-chat-0"))
    for reply in replies:
        expect.failure(reply, "CUSTOMER-03", Status.NOT_FOUND, profile)
        expect.that("secret" not in reply.text, "CUSTOMER-03", "nothing of the chat", reply.text[:300])
    answers = {(r.http_status, r.text) for r in replies}
    expect.that(len(answers) == 1, "CUSTOMER-03", "identical answers", answers)


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize("service", ["aaa-no-such-service", "zzz-no-such-service"])
async def test_a_chat_on_an_unknown_service_is_not_found(service, accepted_chat, profile):
    """Section 5: an unknown {service} gets statusCode 6 (names sorting before and after the real one), to
    start a chat and to refresh an existing chat with its right credentials."""
    customer = accepted_chat.customer.client
    url = f"{customer.service_path.rsplit('/', 1)[0]}/{service}"
    reply = await customer.post_form(url, {"nickname": "nobody"})
    expect.failure(reply, "STATUS-03", Status.NOT_FOUND, profile)
    refresh = await customer.post_form(f"{url}/{customer.chat_id}/refresh", customer.credentials())
    expect.failure(refresh, "STATUS-03", Status.NOT_FOUND, profile)


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize(("action", "left_out"), [("refresh", USER_ID), ("refresh", SECURE_KEY),
                                                  ("send", USER_ID), ("send", "message")])
async def test_a_customer_request_without_a_required_key_is_missing_parameter(action, left_out, accepted_chat,
                                                                               profile):
    """Section 5: a missing userId or secureKey (or message at send) answers statusCode 1."""
    customer = accepted_chat.customer.client
    form = {**customer.credentials(), **({"message": "m"} if action == "send" else {})}
    reply = await customer.raw(action, {k: v for k, v in form.items() if k != left_out})
    expect.failure(reply, "STATUS-03", Status.MISSING_PARAMETER, profile)


@pytest.mark.requirement("STATUS-04")
async def test_customer_refusals_have_the_http_status_of_their_code(accepted_chat, profile):
    # The HTTP status of an error is STATUS-04's (a SHOULD), judged apart from CUSTOMER-03 (the refusal and
    # the three answers' sameness), so that a server answering errors with HTTP 200 leaves CUSTOMER-03 tested.
    customer = accepted_chat.customer.client
    good = customer.credentials()
    for reply in (
        await customer.raw("refresh", {**good, SECURE_KEY: "0" * 24}),
        await customer.raw("refresh", {**good, USER_ID: "no-such-user-0"}),
        await customer.raw("refresh", good, chat_id="no-such-chat-0"),
    ):
        code = reply.status_code
        expect.that(code is not None and code > 0, "STATUS-04", "an error statusCode", reply.text[:200])
        wanted = profile.http_status(code)  # 404 for statusCode 6 in the default profile
        expect.that(
            reply.http_status == wanted, "STATUS-04", f"HTTP {wanted} for statusCode {code}",
            f"HTTP {reply.http_status}",
        )
