"""``make demo`` doubles as a smoke test: the whole main job against the simulator."""

from __future__ import annotations

from fakes import run_demo

from ringrx_iac.harness import mask_headers


def test_demo_runs_every_step_with_the_expected_exit_codes() -> None:
    code, out = run_demo("ringrx_iac.demo", NO_COLOR="1")
    assert code == 0, out[-4000:]
    assert "Demo complete" in out
    assert out.count("(as expected)") == 8  # the eight CLI steps (examples/full.yaml first)
    assert "Drift detected" in out
    assert "/ringrx/sms/%2B18185559876" in out
    # The demo secrets never reach the output: not in plans, not in the received request.
    assert "demo-crm-key-0000" not in out
    assert "demo-basic-password" not in out
    assert "X-Api-Key: ******** (masked)" in out


def test_mask_headers_hides_secret_values() -> None:
    headers = [
        ("Authorization", "Basic cmluZ3J4OnMzY3JldA=="),
        ("X-Api-Key", "key-value-1"),
        ("X-Custom", "prefix-s3cret-suffix"),
        ("X-From", "8185551234"),
    ]
    masked = dict(mask_headers(headers, ["s3cret"]))
    assert masked["Authorization"] == "Basic ********"
    assert "key-value-1" not in masked["X-Api-Key"]
    assert "s3cret" not in masked["X-Custom"]
    assert masked["X-From"] == "8185551234"
