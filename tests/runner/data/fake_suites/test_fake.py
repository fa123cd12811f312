"""A tiny suite whose outcomes are known, for the runner's own tests."""

import pytest

requirement = pytest.mark.requirement


class NonConformance(AssertionError):
    def __init__(self, requirement: str, message: str) -> None:
        super().__init__(message)
        self.requirement = requirement
        self.level = "MUST"
        self.expected = "200"
        self.actual = "500"
        self.transcript = ""


@requirement("AUTH-01")
def test_me_passes(transcript):
    transcript.note("alice", "GET /api/v2/me -> 200")


@requirement("AUTH-02", "AUTH-03")
def test_blames_one_id(transcript):
    transcript.note("alice", "POST without token -> 200 with secret-password-xyz")
    raise NonConformance("AUTH-03", "no 403")


@requirement("AUTH-04")
def test_should_fails():
    assert 1 == 2


@requirement("STATUS-01")
def test_harness_error():
    raise RuntimeError("boom")


@requirement("STATUS-02")
def test_skipped():
    pytest.skip("needs four agents")


def test_not_a_suite_test():
    assert True
