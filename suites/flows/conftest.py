"""The flows' fixtures: the harness's (conformance.fixtures) plus `chats` and `profile` (steps.py)."""

from suites.flows.steps import chats, profile

__all__ = ["chats", "profile"]
