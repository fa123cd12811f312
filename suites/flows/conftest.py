"""The flows' fixtures: agents as Parties, tagged chats (see chat_steps.py)."""

from suites.flows.chat_steps import chats, offered_chat, owned_chat, p_a, p_b, p_c, parties, profile

__all__ = ["chats", "offered_chat", "owned_chat", "p_a", "p_b", "p_c", "parties", "profile"]
