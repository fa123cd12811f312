"""A tiny suite whose outcomes are known, for the runner's own tests."""

import pytest

from conformance.expect import NonConformance

requirement = pytest.mark.requirement


@pytest.fixture
def broken_state():
    """A state the server cannot reach: its setup meets a deviation of SESSION-02."""
    raise NonConformance("SESSION-02", "an invitation", "none within 2 s")


@requirement("AUTH-01")
def test_me_passes(transcript):
    transcript.note("alice", "GET /api/v2/me -> 200")


@requirement("AUTH-02", "AUTH-03")
def test_blames_one_id(transcript):
    transcript.note("alice", "POST without token -> 200 with secret-password-xyz")
    raise NonConformance("AUTH-03", "HTTP 403", "HTTP 200")


@requirement("AUTH-04")
def test_should_fails():
    raise NonConformance("AUTH-04", "at most 512 bytes", "600 bytes")


@requirement("STATUS-01")
def test_harness_error():
    raise RuntimeError("boom")


@requirement("STATUS-03")
def test_harness_assert_is_an_error():
    consultant = None
    assert consultant is not None


@requirement("STATUS-02")
def test_skipped():
    pytest.skip("needs four agents")


@requirement("ACCEPT-01")
def test_blocked_by_a_fixture(broken_state):
    pass


@requirement("ACCEPT-03")
def test_blocked_on_the_way():
    raise NonConformance("ACCEPT-02", "StatusChange first", "ParticipantsUpdated first")


def test_not_a_suite_test():
    assert True
