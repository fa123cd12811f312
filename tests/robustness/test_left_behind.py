"""What the suite could not remove from the server is listed in the summary, never left silently."""

from __future__ import annotations

import json
from pathlib import Path

from tests.robustness.harness import Proxy, ServerProcess, http_response, run_suite, write_target

STOP = b'"StopProcessing"'
BUSY = json.dumps({"statusCode": 4, "statusMessage": "busy"}).encode()
REFUSAL = http_response(200, BUSY, "application/json")


def test_chats_the_server_would_not_let_go_are_listed(tmp_path: Path) -> None:
    def refuse_stop(request: bytes, n: int) -> bytes | None:
        return REFUSAL if request.startswith(b"POST ") and STOP in request else None

    with ServerProcess(tmp_path) as server, Proxy(server.port, answer=refuse_stop) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, 5)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "ACCEPT-01",
                        "--hypothesis-profile", "dev", deadline_s=90)
    left = run.summary["left_behind"]
    assert left and all(" still Processing" in line for line in left), left
    assert "left on the server: " in (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "note: left on the server: " in run.stdout
