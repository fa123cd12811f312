"""Seeded faults: named, realistic deviations the reference server can be started with.

Each fault declares the requirement IDs it breaks; the self-test switches it on, runs the suite
tests of those IDs, and expects every one of them to be reported failed (warning, for SHOULD).
Where the fault lives (engine, HTTP app, Bayeux endpoint, customer side) is said in `where`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    where: str
    description: str
    breaks: tuple[str, ...]


def _f(name: str, where: str, description: str, *breaks: str) -> Fault:
    return Fault(name, where, description, breaks)


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        # 1. Transport and authentication
        _f("me-without-uri", "app", "GET /api/v2/me omits user.uri", "AUTH-01"),
        _f("wrong-password-with-cookie", "app",
           "a wrong Basic password is accepted when a valid session cookie comes with it", "AUTH-02"),
        _f("unknown-user-by-order", "engine",
           "user names are compared by order, not equality: an unknown name sorting just before an agent's "
           "(its prefix) logs in with that agent's password", "AUTH-02"),
        _f("csrf-not-enforced", "app", "POSTs on /me/interactions/{id} without the CSRF token are processed",
           "AUTH-03"),
        _f("auth-error-lists-users", "app", "the 401 body lists the known user names", "AUTH-04"),
        _f("foreign-interaction-visible", "engine",
           "an agent can read and operate on another agent's interaction", "AUTH-05"),
        # 2. Return values
        _f("success-with-status-message", "app", 'successful replies carry statusMessage "OK"', "STATUS-01"),
        _f("error-extra-key", "app", "error bodies carry an extra key requestId", "STATUS-02"),
        _f("missing-text-is-invalid", "engine", "SendMessage without text answers 2 instead of 1",
           "STATUS-03", "MESSAGE-03"),
        _f("errors-are-http-200", "app", "error replies use HTTP 200", "STATUS-04"),
        _f("failed-message-delivered", "engine",
           "a SendMessage refused for a too long text still delivers the message", "STATUS-05"),
        _f("foreign-operation-accepted", "engine",
           "an operationName of another endpoint is taken (Ready on /me ends the session, Accept on the "
           "channel is NotReady)", "STATUS-03"),
        _f("session-channels-unchecked", "engine",
           "StartContactCenterSession takes a channels list holding non-strings (answers 0, not 2)",
           "STATUS-03"),
        _f("unknown-channel-by-order", "engine",
           "channel names are compared by order, not equality: an unknown channel sorting before the chat "
           "channel (its prefix) is taken for it", "STATUS-03"),
        _f("lone-surrogate-crashes", "app", "a string holding a lone surrogate gives HTTP 500", "STATUS-06"),
        # 3. Notifications
        _f("disconnect-refused", "bayeux", "/meta/disconnect answers successful: false", "NOTIFY-01"),
        _f("unsubscribe-ignored", "bayeux",
           "/meta/unsubscribe answers successful but the client stays subscribed", "NOTIFY-01"),
        _f("handshake-without-session", "bayeux", "a handshake without an authenticated session succeeds",
           "NOTIFY-02"),
        _f("unknown-client-not-402", "bayeux",
           "an unknown clientId gets error 401 with advice.reconnect retry", "NOTIFY-03"),
        _f("customer-listed-after-leaving", "engine",
           "the interaction's participants still list the customer after it disconnected (the "
           "ParticipantsUpdated of its leave is sent, with the customer in it)", "NOTIFY-04"),
        _f("timestamp-not-utc", "engine", "message timestamps end in +00:00 instead of Z", "NOTIFY-04"),
        _f("messages-to-all-ready-agents", "engine",
           "NewMessages also go to every Ready agent, taking part or not", "NOTIFY-05", "STATE-05",
           "ORDER-01"),
        _f("foreign-client-id-served", "bayeux",
           "a Bayeux request naming another agent's clientId is served as that client's (CometD's default, "
           "which binds no client to a session): a connect on one agent's session takes the other's "
           "notifications", "NOTIFY-05"),
        _f("deliver-to-dropped-connect", "bayeux",
           "messages are removed from the queue when written to a connect whose client went away",
           "NOTIFY-06"),
        _f("redeliver-after-reconnect", "bayeux",
           "a new connect after a dropped one delivers the last batch again", "NOTIFY-06"),
        _f("handshake-types-as-string", "bayeux",
           'a successful handshake reply gives supportedConnectionTypes as the string "long-polling", '
           "not an array", "NOTIFY-01"),
        _f("handshake-types-unchecked", "bayeux",
           "a handshake offering no connection type the server supports (not long-polling) succeeds",
           "NOTIFY-01"),
        _f("subscription-not-echoed", "bayeux",
           "successful /meta/subscribe and /meta/unsubscribe replies leave out subscription", "NOTIFY-01"),
        _f("held-connect-id-dropped", "bayeux",
           "the reply to a held /meta/connect (every one after the first) carries no id", "NOTIFY-01"),
        _f("error-without-args", "bayeux",
           'Bayeux errors read "402:Unknown client" (no args field: one colon, not two)', "NOTIFY-01"),
        _f("timeout-advice-as-string", "bayeux",
           '/meta/connect replies advise timeout as a string ("30000")', "NOTIFY-01"),
        _f("unknown-client-reply-without-channel", "bayeux",
           "the 402 reply to a /meta/subscribe, /meta/unsubscribe or /meta/disconnect of an unknown "
           "client has no channel", "NOTIFY-01"),
        _f("zero-timeout-ignored", "bayeux",
           "a held /meta/connect advising timeout 0 (a poll) is held to the server's maximum", "NOTIFY-07"),
        _f("idle-timeout-loses-next-message", "bayeux",
           "after a held connect timed out with nothing to deliver, the next message for that client "
           "is lost", "NOTIFY-06"),
        _f("rehandshake-replays-last-batch", "bayeux",
           "a handshake after the user's client was disconnected (402 next) replays that client's last "
           "batch", "NOTIFY-06"),
        _f("idle-connect-overstays", "bayeux", "an idle connect is held 3 s past the advised timeout",
           "NOTIFY-07"),
        # 4. Agent session and routing
        _f("ready-not-notified", "engine", "Ready sends no channel notification", "SESSION-01"),
        _f("not-ready-agent-invited", "engine", "NotReady agents are invited to new chats", "SESSION-02"),
        _f("end-session-keeps-ready", "engine",
           "an agent whose session ended (EndContactCenterSession) stays Ready for routing: new chats are "
           "offered to it", "SESSION-02"),
        _f("end-session-ends-chats", "engine",
           "EndContactCenterSession also completes the chats the agent is working on (they are re-routed)",
           "SESSION-02"),
        _f("chats-never-offered", "engine", "routing never offers a chat to any agent", "SESSION-02"),
        _f("rejected-chat-not-requeued", "engine",
           "a chat rejected while no other agent it may go to is Ready is dropped from the routing queue: "
           "it is never offered again, not even when such an agent becomes Ready", "SESSION-02"),
        _f("relative-uris", "app", "GET /me/interactions lists relative uris", "SESSION-03"),
        _f("view-stale-state", "engine",
           "GET /me/interactions/{id} of an interaction the agent took part in and completed still says "
           "Processing", "SESSION-03"),
        _f("view-stale-participant", "engine",
           "the REST views (GET .../{id}, ?fields=*) still list the agents that left the chat as "
           "participants",
           "SESSION-03"),
        _f("completed-still-listed", "engine",
           "GET /me/interactions (uris) still lists the interactions the agent took part in and completed",
           "SESSION-03"),
        _f("full-list-omits-invited", "engine",
           "GET /me/interactions?fields=* leaves out the agent's Invited interactions (uris has them)",
           "SESSION-03"),
        _f("view-phantom-participant", "engine",
           "the REST views (GET .../{id}, ?fields=*) of an invited agent list it among the participants "
           "before it accepts (it never joined)", "SESSION-03"),
        _f("view-conference-member-completed", "engine",
           "GET /me/interactions/{id} of an agent taking part in a conference says Completed (the other "
           "agents still list it, and no notification says it left)", "SESSION-03"),
        _f("view-user-data-missing", "engine", "GET /me/interactions/{id} answers userData {}", "SESSION-03"),
        # 5. Customer side
        _f("customer-disconnect-ignored", "engine", "the customer's disconnect answers 0 and ends nothing",
           "CUSTOMER-01"),
        _f("unknown-service-accepted", "customer",
           "the {service} of the customer's requests is not checked: a chat starts, and is refreshed, on any",
           "STATUS-03"),
        _f("customer-missing-key-not-found", "customer",
           "a customer request without userId or secureKey answers 6 (like a wrong one), not 1", "STATUS-03"),
        _f("credentials-prefix-accepted", "customer",
           "the customer's userId and secureKey are checked as prefixes: a value the right one starts with "
           "(one char short) is taken for it", "CUSTOMER-03"),
        _f("alias-required", "customer",
           "a customer request (send, refresh, typing, disconnect) without alias answers statusCode 1",
           "CUSTOMER-01"),
        _f("start-answers-no-messages", "customer",
           "the start answers messages [] with nextPosition 2: the customer's own ParticipantJoined is "
           "neither in the start's answer nor in a refresh from its nextPosition", "CUSTOMER-01"),
        _f("actions-ignore-position", "customer",
           "send, the typing calls and disconnect answer only statusCode 0 when given a transcriptPosition "
           "(no messages, no nextPosition)", "CUSTOMER-01"),
        _f("absent-position-skips-first", "customer",
           "a refresh without transcriptPosition starts at index 2: the first message is left out",
           "CUSTOMER-01"),
        _f("next-position-is-last-index", "customer",
           "nextPosition is the last index the customer can see, not that plus 1 (the next refresh repeats "
           "the last message)", "CUSTOMER-01"),
        _f("consultation-leaks-to-customer", "engine",
           "a consultant's messages reach the customer's transcript", "CUSTOMER-02", "MESSAGE-04",
           "COMPLETE-TRANSFER-02"),
        _f("wrong-secure-key-distinct", "customer",
           "a wrong secureKey gets 403 and statusCode 3, unlike an unknown chat", "CUSTOMER-03"),
        # 6. States and capabilities
        _f("owner-may-reject", "engine", "an owner's capabilities also list Reject", "STATE-01", "STATE-02",
           "REJECT-03"),
        _f("transfer-during-consultation", "engine",
           "Transfer is accepted while a consultation invitation is pending", "STATE-02"),
        _f("consultant-history-refused", "engine", "RequestChatHistory by a consultant fails with 2",
           "STATE-03"),
        _f("reoffer-to-rejecter", "engine",
           "a rejected chat is offered again to the agent that rejected it", "STATE-04", "REJECT-02"),
        _f("messages-after-completed", "engine",
           "an agent that stopped still receives the chat's NewMessages", "STATE-05", "ORDER-01"),
        # 7. Operations
        _f("consultant-accepts-as-owner", "engine",
           "accepting a consultation invitation gives owner capabilities", "ACCEPT-01", "STATE-01"),
        _f("accept-participants-first", "engine",
           "Accept sends ParticipantsUpdated before StatusChange", "ACCEPT-02", "ORDER-01"),
        _f("accept-history-drops-first-text", "engine",
           "the ChatHistory of an Accept omits the customer's first message", "ACCEPT-03", "ORDER-03",
           "REJECT-02", "TRANSFER-03"),
        _f("accept-twice", "engine", "Accept of an interaction already Processing answers 0", "ACCEPT-04",
           "STATE-02", "STATUS-03"),
        _f("empty-nickname-accepted", "engine", "Accept takes an empty nickname", "ACCEPT-05"),
        _f("reject-not-notified", "engine", "Reject answers 0 but sends no StatusChange", "REJECT-01"),
        _f("reject-after-accept", "engine", "Reject of an accepted interaction answers 0", "REJECT-03",
           "STATE-02"),
        _f("text-stripped", "engine", "message texts are stripped of surrounding whitespace", "MESSAGE-01"),
        _f("index-reused-after-typing", "engine",
           "the event after a typing notification reuses its index", "MESSAGE-02", "ORDER-02", "HISTORY-01"),
        _f("long-text-accepted", "engine", "texts longer than 4096 characters are accepted", "MESSAGE-03",
           "STATUS-03"),
        _f("typing-stopped-as-started", "engine", "TypingStopped is delivered as TypingStarted", "TYPING-01"),
        _f("any-typing-value", "engine", "SendNotification takes any notification value", "TYPING-02"),
        _f("transfer-initiator-stays", "engine",
           "after a Transfer the initiator gets no StatusChange Completed", "TRANSFER-01"),
        _f("skill-transfer-ignores-skill", "engine",
           "a Transfer to a skill invites the first Ready agent, skilled or not", "TRANSFER-02",
           "TRANSFER-04"),
        _f("transfer-history-without-leave", "engine",
           "the new owner's history lacks the initiator's ParticipantLeft", "TRANSFER-03"),
        _f("transfer-to-self", "engine", "a Transfer to the initiator itself answers 0", "TRANSFER-04"),
        _f("stop-not-told", "engine", "the others do not see the ParticipantLeft of a StopProcessing",
           "STOP-01"),
        _f("last-stop-keeps-chat", "engine", "the customer's chat goes on after the last agent stopped",
           "STOP-02"),
        _f("stopped-chat-reoffered", "engine",
           "a chat that ended when its last agent stopped is offered to another Ready agent", "STOP-02"),
        _f("stop-while-invited", "engine", "StopProcessing of an invitation answers 0", "STOP-03",
           "STATE-02"),
        _f("history-omits-typing", "engine", "RequestChatHistory leaves out typing events",
           "HISTORY-01", "ORDER-03"),
        _f("event-id-exclusive", "engine", "RequestChatHistory starts after eventId instead of at it",
           "HISTORY-02"),
        _f("negative-event-id", "engine", "a negative eventId is taken as 0", "HISTORY-03"),
        _f("owner-caps-kept-on-consult", "engine",
           "InitiateConsultation leaves the owner's capabilities unchanged", "CONSULT-01", "STATE-01"),
        _f("consultant-join-visible-to-all", "engine",
           "the consultant's join has visibility All and reaches the customer", "CONSULT-02", "CUSTOMER-02",
           "COMPLETE-TRANSFER-02"),
        _f("stale-caps-after-consult-reject", "engine",
           "after a rejected consultation the owner keeps the consultant-invited capabilities", "CONSULT-03"),
        _f("second-consultation", "engine", "a second InitiateConsultation while one is under way answers 0",
           "CONSULT-04", "STATE-02"),
        _f("complete-transfer-keeps-consultant", "engine",
           "after CompleteTransfer the new owner keeps consultant capabilities", "COMPLETE-TRANSFER-01"),
        _f("complete-transfer-leave-first", "engine",
           "CompleteTransfer shows the customer the leave before the join", "COMPLETE-TRANSFER-02"),
        _f("complete-transfer-early", "engine",
           "CompleteTransfer answers 0 before the consultant joined", "COMPLETE-TRANSFER-03",
           "STATE-02", "STATUS-03"),
        _f("conference-join-hidden", "engine", "CompleteConference does not show the customer the join",
           "COMPLETE-CONFERENCE-01"),
        _f("conference-stays-private", "engine",
           "after CompleteConference the consultant's messages stay visible to agents only",
           "COMPLETE-CONFERENCE-02"),
        _f("complete-conference-early", "engine",
           "CompleteConference answers 0 before the consultant joined", "COMPLETE-CONFERENCE-03",
           "STATE-02"),
        _f("consult-join-status-first", "engine",
           "on a consultant's join the owner gets StatusChange before ParticipantsUpdated", "ORDER-01",
           "CONSULT-02"),
        _f("reorder-concurrent-messages", "bayeux",
           "a connect reply holding NewMessages from two senders delivers them in reverse", "ORDER-04"),
    )
}


# Faults that show only under concurrency (many chats, many held long-polls at once): a single-chat run,
# the suite included, never meets their condition; `gws-conformance load` reports them (docs/load.md).
# Not in FAULTS: the self-test expects the suite to catch every one of those.
CONTENTION_HELD_CONNECTS = 24  # "under contention": at least this many connects held at once
RACE_WINDOW_S = 0.002  # two connects of different clients answered this close together "race"
SLOW_DELIVERY_S = 0.5  # slow-delivery: how late each connect reply carrying messages is answered

LOAD_FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        _f("reorder-under-contention", "bayeux",
           f"with {CONTENTION_HELD_CONNECTS}+ connects held at once, a connect reply carrying several "
           "messages delivers its first two swapped", "ORDER-04"),
        _f("lost-on-racing-connects", "bayeux",
           f"with {CONTENTION_HELD_CONNECTS}+ connects held at once, a connect answered within "
           f"{RACE_WINDOW_S * 1000:g} ms of another client's drops its first NewMessages", "ORDER-04"),
        _f("slow-delivery", "bayeux",
           f"every connect reply carrying messages is answered {SLOW_DELIVERY_S:g} s late (a slow server, no "
           "deviation: a load run must give latency figures, not violations)"),
    )
}


def check_fault_names(names: list[str] | tuple[str, ...] | set[str]) -> frozenset[str]:
    """The given fault names (FAULTS or LOAD_FAULTS), or ValueError naming the unknown ones."""
    unknown = sorted(set(names) - FAULTS.keys() - LOAD_FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault {', '.join(unknown)} (gws-conformance faults lists them)")
    return frozenset(names)
