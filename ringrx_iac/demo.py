"""``make demo``: the main job, end to end, against a local RingRx simulator.

Starts ``ringrx-iac simulator --port 0`` and a tiny local webhook receiver, writes a demo
configuration whose callbacks point at the receiver, then runs the real CLI as a user
would: validate, plan, apply, plan again (no changes), an edit "in the portal", drift,
apply (fixed), drift (in sync), and finally fires an SMS event so the receiver shows the
token-replaced request RingRx would send. Everything started here is stopped at the end.

The demo exits 1 when any step's exit code is not the expected one, so it doubles as a
smoke test (``tests/test_demo.py``).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from ringrx_iac.api import endpoints as ep
from ringrx_iac.harness import (
    HarnessError,
    Received,
    Receiver,
    SimulatorProcess,
    admin,
)

# Demo-only values for the ${env:...} secrets of the demo configuration (not real secrets,
# but treated like ones: masked wherever the demo prints a request).
DEMO_SECRETS: dict[str, str] = {
    "CRM_KEY": "demo-crm-key-0000",
    "CRM_BASIC_PASSWORD": "demo-basic-password",
}
# The repository's full example (present in a clone). The demo config below is modelled
# on it, with every URL pointing at the local receiver.
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "full.yaml"
SMS_NUMBER = "+18185559876"
PORTAL_EDIT_NAME = "All CDRs"
PORTAL_EDIT_URL = "https://changed-in-the-portal.example.com/cdr/{id}"
STEP_TIMEOUT = 180.0
_BORING_HEADERS = {"host", "content-length", "accept", "accept-encoding", "connection"}

DEMO_CONFIG = textwrap.dedent(
    """\
    # ringrx-iac demo configuration (written by `make demo`).
    # {{ receiver_url }} is a template variable (--var receiver_url=...); {from}, {to}, {id}
    # are RingRx tokens, replaced by RingRx when it sends an event.
    version: 1
    ignore: ["Legacy *"]
    safety: {max_delete_percent: 30, protected: ["All CDRs"]}
    defaults:
      headers: {X-Source: ringrx-demo}
    callbacks:
      - name: CRM inbound SMS
        type: sms
        url: "{{ receiver_url }}/ringrx/sms/{to}"
        allow_insecure_url: true   # the demo receiver is plain http on loopback
        headers:
          X-Api-Key: "${env:CRM_KEY}"
          X-From: "{from}"
          X-Sent-At: "{timestamp}"
        basic_auth: {username: ringrx, password: "${env:CRM_BASIC_PASSWORD}"}
        bind: {phone_numbers: ["+1 818 555 9876", "8185551234"]}
      - name: Front desk voicemail
        type: voicemail
        url: "{{ receiver_url }}/ringrx/voicemail/{id}?mailbox={mailbox}"
        allow_insecure_url: true
        bind: {mailboxes: ["1001"]}
      - name: All CDRs
        type: cdr
        url: "{{ receiver_url }}/ringrx/cdr/{id}"
        allow_insecure_url: true
    """
)


class DemoError(HarnessError):
    """A step did not go as expected; the message says which and why."""


# --------------------------------------------------------------------------- output


def say(text: str = "") -> None:
    """Print and flush (CLI subprocesses share our stdout)."""
    print(text, flush=True)


def banner(number: int, title: str, command: str | None = None) -> None:
    say()
    say("=" * 78)
    say(f" Step {number}: {title}")
    if command:
        say(f" $ {command}")
    say("=" * 78)


def show_received(item: Received) -> None:
    decoded = unquote(item.path)
    say(
        f"  {item.method} {item.path}"
        + (f"   (decoded: {decoded})" if decoded != item.path else "")
    )
    for name, value in item.headers:
        if name.lower() not in _BORING_HEADERS:
            say(f"    {name}: {value}")
    say(f"    (body: {item.size} bytes, {item.content_type or 'no content type'})")


# --------------------------------------------------------------------------- the walk


@dataclass
class Demo:
    """The walk through the main job; ``run`` returns the process exit code."""

    workdir: Path
    sim: SimulatorProcess = field(default_factory=SimulatorProcess)
    receiver: Receiver = field(default_factory=lambda: Receiver(list(DEMO_SECRETS.values())))
    step: int = 0

    def cli_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RINGRX_")}
        env.update(self.sim.env)
        env.update(DEMO_SECRETS)
        no_proxy = ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
        return env

    def cli(self, title: str, args: Sequence[str], expect: int) -> None:
        """Run ``ringrx-iac ARGS`` (output straight to the terminal) and check its exit code."""
        self.step += 1
        shown = " ".join(["ringrx-iac", *args]).replace(self.receiver.url, "$RECEIVER")
        banner(self.step, title, shown)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "ringrx_iac", *args],
                env=self.cli_env(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                timeout=STEP_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DemoError(
                f"step {self.step} ({title}) did not finish in {STEP_TIMEOUT:.0f} s"
            ) from None
        verdict = "as expected" if proc.returncode == expect else f"EXPECTED {expect}"
        say(f"-> exit code {proc.returncode} ({verdict})")
        if proc.returncode != expect:
            raise DemoError(
                f"step {self.step} ({title}) exited {proc.returncode}, expected {expect}"
            )

    def run(self) -> int:
        try:
            self.receiver.start()
            say("Starting the RingRx simulator (ringrx-iac simulator --port 0) ...")
            self.sim.start()
            say(f"Simulator: {self.sim.base_url}   webhook receiver: {self.receiver.url}")
            self.walk()
        except HarnessError as exc:
            say()
            say(f"DEMO FAILED: {exc}")
            return 1
        except KeyboardInterrupt:
            say("\nInterrupted.")
            return 1
        finally:
            self.sim.stop()
            self.receiver.stop()
        say()
        say(
            "Demo complete: every step gave the expected exit code. Simulator and receiver stopped."
        )
        return 0

    def walk(self) -> None:
        if EXAMPLE.is_file():
            self.cli(
                "validate the shipped example (every callback type)",
                ["validate", str(EXAMPLE)],
                0,
            )
        config = self.workdir / "callbacks.yaml"
        config.write_text(DEMO_CONFIG, encoding="utf-8")
        var = ["--var", f"receiver_url={self.receiver.url}"]
        path = config.name
        say()
        say(f"Demo configuration ({config}):")
        say(textwrap.indent(DEMO_CONFIG, "  | ").rstrip())

        self.cli(
            "validate the configuration (offline; secrets not needed)", ["validate", path, *var], 0
        )
        self.cli(
            "plan: what apply would change (exit 2 = changes)",
            ["plan", path, *var, "--detailed-exitcode"],
            2,
        )
        self.cli("apply", ["apply", path, *var, "--auto-approve"], 0)
        self.cli(
            "plan again: nothing left to do (exit 0 = no changes)",
            ["plan", path, *var, "--detailed-exitcode"],
            0,
        )
        self.portal_edit()
        self.cli("drift: the portal edit is detected (exit 2)", ["drift", path, *var], 2)
        self.cli("apply: put the configuration back", ["apply", path, *var, "--auto-approve"], 0)
        self.cli("drift: in sync again (exit 0)", ["drift", path, *var], 0)
        self.fire_event()

    def portal_edit(self) -> None:
        self.step += 1
        banner(self.step, f'someone edits "{PORTAL_EDIT_NAME}" in the RingRx portal')
        state = admin("GET", self.sim.base_url, "/_sim/state")
        name_f, id_f, url_f = (ep.CALLBACK_FIELDS[k] for k in ("name", "id", "url"))
        matches = [cb for cb in state.get("callbacks", []) if cb.get(name_f) == PORTAL_EDIT_NAME]
        if len(matches) != 1:
            raise DemoError(
                f'expected one callback named "{PORTAL_EDIT_NAME}", found {len(matches)}'
            )
        cb_id = matches[0][id_f]
        admin("PATCH", self.sim.base_url, f"/_sim/callbacks/{cb_id}", {url_f: PORTAL_EDIT_URL})
        say(f"PATCH /_sim/callbacks/{cb_id}  url -> {PORTAL_EDIT_URL}")

    def fire_event(self) -> None:
        self.step += 1
        banner(self.step, f"RingRx sends an SMS event for {SMS_NUMBER} to the bound callback")
        say(f'POST /_sim/events/sms  {{"target": "{SMS_NUMBER}"}}')
        answer = admin("POST", self.sim.base_url, "/_sim/events/sms", {"target": SMS_NUMBER})
        deliveries = answer.get("deliveries", []) if isinstance(answer, Mapping) else []
        for d in deliveries:
            status = d.get("status")
            say(f'  delivered by "{d.get("callback_name")}": HTTP {status}')
            if status != 200:
                raise DemoError(f"the delivery failed: {d.get('error') or status}")
        if not deliveries:
            raise DemoError("the event fired no callback")
        say()
        say("The local receiver got (token-replaced; secret values masked):")
        try:
            item = self.receiver.received.get(timeout=10)
        except queue.Empty:
            raise DemoError("the receiver got nothing") from None
        show_received(item)
        if SMS_NUMBER not in unquote(item.path):
            raise DemoError(f"the {{to}} token was not replaced in {item.path!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo in a temporary directory that is removed afterwards."""
    del argv
    workdir = Path(tempfile.mkdtemp(prefix="ringrx-demo-"))
    try:
        return Demo(workdir).run()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
