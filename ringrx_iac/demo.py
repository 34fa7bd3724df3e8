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
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from ringrx_iac.api import endpoints as ep
from ringrx_iac.sensitive import is_secret_header_name

# Demo-only values for the ${env:...} secrets of the demo configuration (not real secrets,
# but treated like ones: masked wherever the demo prints a request).
DEMO_SECRETS: dict[str, str] = {
    "CRM_KEY": "demo-crm-key-0000",
    "CRM_BASIC_PASSWORD": "demo-basic-password",
}
# The simulator's default seed holds these demo API credentials (used if it does not print them).
DEFAULT_SIM_ENV: dict[str, str] = {
    "RINGRX_API_TOKEN": "demo-api-token",
    "RINGRX_API_SECRET": "demo-api-secret",
}
# The repository's full example (present in a clone). The demo config below is modelled
# on it, with every URL pointing at the local receiver.
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "full.yaml"
SMS_NUMBER = "+18185559876"
PORTAL_EDIT_NAME = "All CDRs"
PORTAL_EDIT_URL = "https://changed-in-the-portal.example.com/cdr/{id}"
STEP_TIMEOUT = 180.0
START_TIMEOUT = 30.0
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


class DemoError(Exception):
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


# --------------------------------------------------------------------------- receiver


@dataclass
class Received:
    """One request the receiver got (secret header values already masked)."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    content_type: str
    size: int


def mask_headers(
    headers: Sequence[tuple[str, str]], secrets: Sequence[str]
) -> list[tuple[str, str]]:
    """Headers with secret values masked: by header name, or by containing a known secret."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out.append((name, f"{scheme} ********".strip()))
        elif is_secret_header_name(name) or any(s and s in value for s in secrets):
            out.append((name, "******** (masked)"))
        else:
            out.append((name, value))
    return out


@dataclass
class Receiver:
    """A local webhook receiver on 127.0.0.1 that records what it gets and answers 200."""

    secrets: Sequence[str]
    received: queue.Queue[Received] = field(default_factory=queue.Queue)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.received.put(
                    Received(
                        method=self.command,
                        path=self.path,
                        headers=mask_headers(list(self.headers.items()), receiver.secrets),
                        content_type=self.headers.get("Content-Type", ""),
                        size=len(body),
                    )
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = do_GET = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # printed by the demo instead

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


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


# --------------------------------------------------------------------------- simulator


class Simulator:
    """``ringrx-iac simulator --port 0`` as a subprocess; its env parsed from its output."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        self.args = list(args)  # extra options, e.g. ["--seed", FILE, "--latency", "0.02"]
        self.proc: subprocess.Popen[str] | None = None
        self.env: dict[str, str] = {}
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ringrx_iac", "simulator", "--port", "0", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while "RINGRX_BASE_URL" not in self.env:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.05, left))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                tail = "\n".join(self.output[-20:])
                raise DemoError(f"the simulator did not print RINGRX_BASE_URL:\n{tail}")
            self._parse(line)
        for key, value in DEFAULT_SIM_ENV.items():
            self.env.setdefault(key, value)
        self.wait_ready()

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def _parse(self, line: str) -> None:
        text = line.strip()
        if text.startswith("export "):
            text = text[len("export ") :]
        key, sep, value = text.partition("=")
        if sep and key.startswith("RINGRX_") and key.isupper():
            self.env[key] = value.strip().strip("'\"")

    def wait_ready(self) -> None:
        """Wait until the admin API answers."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                admin("GET", self.base_url, "/_sim/stats")
                return
            except (httpx.HTTPError, DemoError):
                if time.monotonic() > deadline:
                    raise DemoError(f"the simulator at {self.base_url} does not answer") from None
                time.sleep(0.1)

    @property
    def base_url(self) -> str:
        return self.env["RINGRX_BASE_URL"].rstrip("/")

    def stop(self) -> None:
        """SIGTERM (the simulator stops cleanly on it), SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def admin(method: str, base_url: str, path: str, body: Any = None) -> Any:
    """A call to the simulator's admin API; raises DemoError on a non-2xx answer."""
    with httpx.Client(base_url=base_url, timeout=30.0, trust_env=False) as http:
        response = http.request(method, path, json=body)
    if response.status_code >= 300:
        raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else None


# --------------------------------------------------------------------------- the walk


@dataclass
class Demo:
    """The walk through the main job; ``run`` returns the process exit code."""

    workdir: Path
    sim: Simulator = field(default_factory=Simulator)
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
        except DemoError as exc:
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
