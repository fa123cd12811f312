"""One agent's notification log: every Bayeux `data` received, numbered, with event-driven waits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.protocol import Channel, MessageType, Profile

# Keys of the notification payloads (section 3.1); their values are profile data, the keys are fixed.
MESSAGE_TYPE = "messageType"
NOTIFICATION_TYPE = "notificationType"
INTERACTION = "interaction"
INTERACTION_ID = "interactionId"


@dataclass(frozen=True)
class Notification:
    seq: int
    channel: str
    data: dict[str, Any]
    received_at: float  # time.monotonic()

    def brief(self) -> str:
        kind = (
            self.data.get(NOTIFICATION_TYPE) or self.data.get(MESSAGE_TYPE)
            if isinstance(self.data, dict)
            else ""
        )
        text = json.dumps(self.data, ensure_ascii=False, sort_keys=True)
        if len(text) > 400:
            text = text[:400] + "…"
        return f"#{self.seq} {self.channel} {kind}: {text}"


# A predicate says whether a notification matches: True/None mean "it matches" only when they are
# True or None respectively (see `matched`); a string is the reason it does not.
Predicate = Callable[[Notification], "str | bool | None"]


def matched(result: str | bool | None) -> bool:
    """None (no reason against) and True match; False and any reason string do not."""
    return result is None or result is True


class EventTimeout(Exception):
    """The awaited notification did not arrive in time."""

    def __init__(
        self,
        description: str,
        seen: list[Notification],
        reasons: list[str | None] | None = None,
        timeout: float = 0.0,
    ) -> None:
        self.description = description
        self.seen = seen
        self.reasons = reasons or [None] * len(seen)
        self.timeout = timeout
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"no notification {self.description} within {self.timeout:g} s; {len(self.seen)} seen:"]
        for n, why in zip(self.seen, self.reasons, strict=False):
            lines.append(f"  {n.brief()}" + (f"\n      not it: {why}" if why else ""))
        return "\n".join(lines)


class ChannelLost(Exception):
    """The notification channel is gone (the Bayeux connect loop died): a harness ERROR, never a FAIL."""

    def __init__(self, reason: str, description: str = "") -> None:
        self.reason = reason
        self.description = description
        wanted = f" while waiting for a notification {description}" if description else ""
        super().__init__(f"notification channel lost{wanted}: {reason}")


class NotificationLog:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.lost: str | None = None  # why the channel died; no more notifications will come
        self.interrupted: Exception | None = None  # a deviation the channel saw, for the next wait
        self._items: list[Notification] = []
        self._changed = asyncio.Condition()
        self._wakers: set[asyncio.Task[None]] = set()

    def append(self, channel: str, data: Any) -> Notification:
        """Record one notification (called from the Bayeux client's on_message, on the loop)."""
        item = Notification(
            len(self._items), channel, data if isinstance(data, dict) else {"": data}, time.monotonic()
        )
        self._items.append(item)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return item
        task = loop.create_task(self._wake())
        self._wakers.add(task)
        task.add_done_callback(self._wakers.discard)
        return item

    def channel_lost(self, reason: str) -> None:
        """The channel feeding this log is gone: current and later waits end with ChannelLost."""
        self.lost = reason
        self._wake_soon()

    def interrupt(self, error: Exception) -> None:
        """A deviation seen in the background (the Bayeux loop's replies): the next wait (current or
        later) raises it, once, so that it reaches the test that is running."""
        self.interrupted = error
        self._wake_soon()

    def _wake_soon(self) -> None:
        """Wake every wait (from any callback: the waking runs as a task of the running loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._wake())
        self._wakers.add(task)
        task.add_done_callback(self._wakers.discard)

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def mark(self) -> int:
        """The sequence number the next notification will get."""
        return len(self._items)

    def since(self, since: int = 0, until: int | None = None) -> list[Notification]:
        return self._items[since:until]

    def __len__(self) -> int:
        return len(self._items)

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float,  # noqa: ASYNC109 - a deadline in the harness's own terms
        since: int = 0,
        description: str = "matching",
    ) -> Notification:
        """The first notification from `since` on that matches; EventTimeout when none comes in time,
        ChannelLost (at once) when none has come and the channel is gone; a deviation the channel saw
        (`interrupt`) is raised first, once."""
        checked = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                if self.interrupted is not None:
                    error, self.interrupted = self.interrupted, None
                    raise error
                while checked < len(self._items):
                    item = self._items[checked]
                    checked += 1
                    if matched(predicate(item)):
                        return item
                if self.lost is not None:
                    raise ChannelLost(self.lost, description)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    continue  # checks what arrived, then gives up on the deadline
        seen = self._items[since:]
        reasons = [_reason(predicate(n)) for n in seen]
        raise EventTimeout(description, seen, reasons, timeout)

    async def watch(
        self,
        predicate: Predicate,
        timeout: float,  # noqa: ASYNC109 - a deadline in the harness's own terms
        since: int = 0,
    ) -> Notification | None:
        """The first notification from `since` on that matches, or None when none comes in time or the
        channel is gone. Unlike `wait_for`, it leaves a deviation the channel saw for the next wait."""
        checked = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                while checked < len(self._items):
                    item = self._items[checked]
                    checked += 1
                    if matched(predicate(item)):
                        return item
                remaining = deadline - loop.time()
                if self.lost is not None or remaining <= 0:
                    return None
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    continue

    def about(self, interaction_id: str, since: int = 0, until: int | None = None) -> list[Notification]:
        """The notifications about one interaction, in arrival order."""
        return [n for n in self._items[since:until] if interaction_of(n.data) == interaction_id]

    def channel_states(self, since: int = 0, until: int | None = None) -> list[Notification]:
        """The ChannelStateChanged notifications on the channels channel."""
        channel = self.profile.wire(Channel.CHANNELS)
        kind = self.profile.wire(MessageType.CHANNEL_STATE_CHANGED)
        return [
            n for n in self._items[since:until] if n.channel == channel and n.data.get(MESSAGE_TYPE) == kind
        ]


def interaction_of(data: dict[str, Any]) -> str | None:
    """data.interaction.id (InteractionStateChanged) or data.interactionId (MessageLogUpdated)."""
    inner = data.get(INTERACTION)
    if isinstance(inner, dict) and "id" in inner:
        return str(inner["id"])
    if INTERACTION_ID in data:
        return str(data[INTERACTION_ID])
    return None


def _reason(result: str | bool | None) -> str | None:
    if isinstance(result, str):
        return result
    return "did not match" if result is False else None
