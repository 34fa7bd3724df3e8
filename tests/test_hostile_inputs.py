"""Hostile inputs: what a pull-request author (or an odd server) can throw at the tool.

For each input: the exit code, no traceback, no side effect (no file created, no write on
the simulator) and a located message (file:line:col, the field, or the reference).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fakes import admin, cli_env, run_cli_process, sim_writes

from ringrx_iac.cli import cli
from ringrx_iac.simulator.server import SimulatorServer

API_SECRET = "QQhostile-api-secret-4242"
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "pw"}],
    "api_keys": [{"token": "t", "secret": API_SECRET, "user": "demo"}],
    "callbacks": [{"id": 1, "name": "A", "callback_type": "cdr", "url": "https://h.example.com/a"}],
}
GOOD = "version: 1\ncallbacks:\n  - name: A\n    type: cdr\n    url: https://h.example.com/a\n"


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env or {}, catch_exceptions=True)


def check(
    result: Result, code: int, located: str | None = None, hidden: tuple[str, ...] = ()
) -> str:
    """Exit ``code``, no traceback (no uncaught exception), ``located`` found, ``hidden`` not."""
    out = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}\n{out}")
    assert result.exit_code == code, out
    assert "Traceback" not in out
    if located is not None:
        assert re.search(located, out), out
    for secret in hidden:
        assert secret not in out
    return out


def files_in(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


# -- templates: escapes and runaway work (validate, offline) -----------------------------

TEMPLATE_CASES = {
    "globals-popen": "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "self-module": "{{ self.__init__.__globals__ }}",
    "format-escape": "{{ '{0.__class__}'.format(1) }}",
    "mutate-list": "{{ [].append(1) }}",
    "mutate-dict": "{{ {}.update(a=1) }}",
    "include-file": "{% include '/etc/passwd' %}",
    "import-module": "{% import 'os' as os %}",
    "range-huge": "{% for i in range(10**9) %}{% endfor %}",
    "repeat-string": "{{ 'x' * 1000000000 }}",
    "repeat-list": "{{ [0] * 1000000000 }}",
    "huge-power": "{{ 9 ** 99999999 }}",
    "center-width": "{{ 'x' | center(1000000000) }}",
    "lipsum-count": "{{ lipsum(1000000000) }}",
    "env-api-secret": "{{ env.RINGRX_API_SECRET }}",
    "env-item-secret": "{{ env['RINGRX_API_SECRET'] }}",
    "env-home": "{{ env.HOME }}",
}


@pytest.mark.parametrize("expression", TEMPLATE_CASES.values(), ids=TEMPLATE_CASES.keys())
def test_template_attack_is_a_located_error_and_runs_nothing(
    tmp_path: Path, expression: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD.replace("name: A", f'name: "A{expression}"'))
    before = files_in(tmp_path)
    out = check(
        invoke(["validate", str(cfg)], {"RINGRX_API_SECRET": API_SECRET, "HOME": "/root"}),
        1,
        r"c\.yaml:3:\d+: error RRX00[45]",
        (API_SECRET,),
    )
    assert files_in(tmp_path) == before, out  # nothing ran: no PWNED file


def test_template_that_runs_too_long_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringrx_iac.config import sandbox

    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0.3)
    cfg = tmp_path / "c.yaml"
    loops = "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}"
    cfg.write_text(loops + "\n" + GOOD)
    check(invoke(["validate", str(cfg)]), 1, r"c\.yaml:1:\d+: error RRX004: template stopped")


def test_template_output_over_the_limit_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringrx_iac.config import sandbox

    monkeypatch.setattr(sandbox, "MAX_OUTPUT", 10_000)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("{% for i in range(5000) %}# xxxxxxxxxx\n{% endfor %}" + GOOD)
    check(invoke(["validate", str(cfg)]), 1, r"c\.yaml: error RRX004: .*exceeds 10000 characters")


# -- files that are not what they claim ------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "dir", "big"])
def test_config_path_that_is_not_a_small_regular_file(
    tmp_path: Path, fifo: Path, target: str
) -> None:
    paths = {"/dev/zero": Path("/dev/zero"), "fifo": fifo, "big": tmp_path / "big.yaml"}
    with open(tmp_path / "big.yaml", "wb") as fh:
        fh.truncate(10 * 1024 * 1024 + 1)
    if target == "dir":
        (tmp_path / "d" / "sub.yaml").mkdir(parents=True)  # a directory named like a file
        path = tmp_path / "d"
        located = r"RRX002|not a regular file"
    else:
        path = paths[target]
        located = rf"{re.escape(str(path))}.*(not a regular file|larger than 10 MB)"
    start = time.monotonic()
    check(invoke(["validate", str(path)]), 1, located)
    assert time.monotonic() - start < 5  # no hang on a FIFO, no 8 GB read of /dev/zero


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "dir"])
def test_var_file_that_is_not_a_regular_file(tmp_path: Path, fifo: Path, target: str) -> None:
    path = {"/dev/zero": "/dev/zero", "fifo": str(fifo), "dir": str(tmp_path)}[target]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD)
    start = time.monotonic()
    proc = run_cli_process(["validate", str(cfg), "--var-file", path], {})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert re.search(r"--var-file.*(not a regular file|is a directory)", proc.stderr), proc.stderr
    assert time.monotonic() - start < 30


def test_apply_plan_file_that_is_a_device(tmp_path: Path) -> None:
    check(invoke(["apply", "--plan", "/dev/zero"]), 1, r"plan file /dev/zero is a device")


def test_deeply_nested_yaml_is_one_located_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\nx: " + "[" * 50000 + "]" * 50000 + "\n")
    check(invoke(["validate", str(cfg)]), 1, r"c\.yaml:\d+:\d+: error RRX006: .*nested too deeply")


def test_alias_bomb_is_one_located_error(tmp_path: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    check(invoke(["validate", str(cfg)]), 1, r"c\.yaml:\d+:\d+: error RRX008")


# -- credentials in URLs ---------------------------------------------------------------


def test_url_with_credentials_is_an_error_that_hides_them(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD.replace("https://h", "https://bob:pa55-hidden-77@h"))
    for fmt in ("text", "json", "github"):
        check(invoke(["validate", str(cfg), "--format", fmt]), 1, r"RRX206", ("pa55-hidden-77",))


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED) as server:
        yield server


def test_base_url_with_credentials_is_refused_without_a_request(
    tmp_path: Path, sim: SimulatorServer
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD)
    url = sim.base_url.replace("http://", "http://bob:pa55-hidden-78@")
    env = cli_env(sim, RINGRX_BASE_URL=url, RINGRX_API_SECRET=API_SECRET)
    admin(sim, "POST", "/stats/reset")
    for args in (["plan", str(cfg)], ["drift", str(cfg)], ["import"], ["apply", str(cfg)]):
        check(invoke(args, env), 1, r"RINGRX_BASE_URL holds credentials", ("pa55-hidden-78",))
    assert sum(admin(sim, "GET", "/stats").values()) == 0


# -- secrets that would inject headers ---------------------------------------------------

INJECTIONS = {
    "crlf-env": ("${env:EVIL}", {"EVIL": "v\r\nX-Injected: 1"}, "carriage return"),
    "lf-env": ("${env:EVIL}", {"EVIL": "v\nX-Injected: 1"}, "line feed"),
    "esc-env": ("${env:EVIL}", {"EVIL": "v\x1b[2Jw"}, "U\\+001B"),
    "crlf-file": ("${file:evil.txt}", {}, "carriage return"),
    "nul-file": ("${file:nul.txt}", {}, "NUL"),
}


@pytest.mark.parametrize(("ref", "env", "what"), INJECTIONS.values(), ids=INJECTIONS.keys())
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_control_characters_in_a_secret_stop_before_any_write(
    tmp_path: Path, sim: SimulatorServer, ref: str, env: dict[str, str], what: str, command: str
) -> None:
    (tmp_path / "evil.txt").write_bytes(b"v\r\nX-Injected: 1\n")
    (tmp_path / "nul.txt").write_bytes(b"v\0X-Injected: 1")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD.replace("/a\n", f'/a\n    headers: {{X-Api-Key: "{ref}"}}\n'))
    args = [command, str(cfg)] + (["--auto-approve"] if command == "apply" else [])
    before = sim_writes(admin(sim, "GET", "/stats"))
    located = rf"c\.yaml:6:\d+: error RRX711: .*{re.escape(ref)}.*{what}"
    check(
        invoke(args, cli_env(sim, RINGRX_API_SECRET=API_SECRET, **env)), 1, located, ("X-Injected",)
    )
    assert sim_writes(admin(sim, "GET", "/stats")) == before


def test_basic_auth_password_with_a_line_break_is_refused(
    tmp_path: Path, sim: SimulatorServer
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD + '    basic_auth: {username: u, password: "${env:PW}"}\n')
    before = sim_writes(admin(sim, "GET", "/stats"))
    env = cli_env(sim, RINGRX_API_SECRET=API_SECRET, PW="line1\nline2-secret")
    check(invoke(["apply", str(cfg), "--auto-approve"], env), 1, r"\$\{env:PW\}", ("line2-secret",))
    assert sim_writes(admin(sim, "GET", "/stats")) == before


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "dir", "big"])
def test_secret_file_that_is_not_a_small_regular_file(
    tmp_path: Path, sim: SimulatorServer, fifo: Path, target: str
) -> None:
    (tmp_path / "big.txt").write_text("x" * (64 * 1024 + 1))
    path = {"/dev/zero": "/dev/zero", "fifo": str(fifo), "dir": str(tmp_path), "big": "big.txt"}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        GOOD.replace("/a\n", f'/a\n    headers: {{X-Api-Key: "${{file:{path[target]}}}"}}\n')
    )
    before = sim_writes(admin(sim, "GET", "/stats"))
    check(
        invoke(["apply", str(cfg), "--auto-approve"], cli_env(sim, RINGRX_API_SECRET=API_SECRET)),
        1,
        r"RRX711: .*(not a regular file|larger than 64 KiB)",
    )
    assert sim_writes(admin(sim, "GET", "/stats")) == before


# -- odd server answers ----------------------------------------------------------------

ODD_CALLBACKS = {
    "id-object": {"id": {"$oid": "1"}},
    "id-list": {"id": [1]},
    "id-null": {"id": None},
    "name-list": {"name": ["A"]},
    "url-object": {"url": {"href": "https://h"}},
    "headers-list": {"custom_headers": ["X-A: 1"]},
}


@pytest.mark.parametrize("patch", ODD_CALLBACKS.values(), ids=ODD_CALLBACKS.keys())
@pytest.mark.parametrize("command", ["plan", "import"])
def test_odd_callback_values_are_one_clear_error(
    tmp_path: Path, sim: SimulatorServer, patch: dict[str, Any], command: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD)
    sim.state.callbacks[1].update(patch)
    args = [command, str(cfg)] if command == "plan" else ["import"]
    field = next(iter(patch))
    check(
        invoke(args, cli_env(sim, RINGRX_API_SECRET=API_SECRET)),
        1,
        rf"error: .*RingRx answered a callback whose '{field}'",
    )
    assert sim_writes(admin(sim, "GET", "/stats")) == 0


class _Odd(BaseHTTPRequestHandler):
    """A server answering the token request, then ``mode`` for everything else."""

    mode = "trickle"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "token-object":
            self._send(200, b'{"access_token": {"a": 1}}')
        elif self.mode == "echo-422":
            self._send(422, b'{"errors": {"base": ["rejected: %s"]}}' % API_SECRET.encode())
        else:
            self._send(200, b'{"access_token": "tok-odd-0001", "expires_in": 3600}')

    def do_GET(self) -> None:  # noqa: N802
        if self.mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif self.mode == "huge":
            self._send(200, b"[", length=10**12)
        elif self.mode == "object":
            self._send(200, b'{"callbacks": "not a list"}')
        elif self.mode == "not-json":
            self._send(200, b"<html>hello</html>")
        elif self.mode == "bad-request-echo":
            self._send(400, b'{"error": "bad: %s"}' % API_SECRET.encode())
        else:
            self._send(200, b"[]")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-answer is what these tests do


@pytest.fixture
def odd_server() -> Iterator[tuple[str, type[_Odd]]]:
    handler = type("Handler", (_Odd,), {})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


ODD_SERVER = {
    "trickle": r"exceeded --timeout 1 s",
    "huge": r"larger than 50 MB|announces",
    "object": r"expected a JSON array",
    "not-json": r"not JSON",
    "token-object": r"no access token",
    "bad-request-echo": r"unexpected answer \(400\): bad: \(redacted\)",
}


@pytest.mark.parametrize(("mode", "located"), ODD_SERVER.items(), ids=ODD_SERVER.keys())
def test_odd_server_answers_end_in_one_line(
    tmp_path: Path, odd_server: tuple[str, type[_Odd]], mode: str, located: str
) -> None:
    url, handler = odd_server
    handler.mode = mode
    env = {"RINGRX_BASE_URL": url, "RINGRX_API_TOKEN": "t", "RINGRX_API_SECRET": API_SECRET}
    start = time.monotonic()
    result = invoke(["import", "--timeout", "1"], env)
    check(result, 1, located, (API_SECRET,))
    assert time.monotonic() - start < 30


def test_server_error_body_echoing_a_secret_is_redacted(
    tmp_path: Path, odd_server: tuple[str, type[_Odd]]
) -> None:
    url, handler = odd_server
    handler.mode = "echo-422"
    env = {"RINGRX_BASE_URL": url, "RINGRX_API_TOKEN": "t", "RINGRX_API_SECRET": API_SECRET}
    check(invoke(["import", "--debug"], env), 1, r"error: ", (API_SECRET,))


# -- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.parametrize("delay", [0.5, 1.0, 1.5])
def test_ctrl_c_at_start_up_is_one_line_and_exit_1(tmp_path: Path, delay: float) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD)
    env = {**os.environ, "RINGRX_BASE_URL": "http://127.0.0.1:9", "RINGRX_API_TOKEN": "t"}
    env["RINGRX_API_SECRET"] = API_SECRET
    proc = subprocess.Popen(
        [sys.executable, "-m", "ringrx_iac", "plan", str(cfg)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in out + err
    assert proc.returncode == 1, err
    assert len(err.strip().splitlines()) <= 2, err  # one line (plus, at most, the plan error)


def test_json_output_of_a_refused_config_holds_no_secret(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(GOOD.replace("name: A", 'name: "{{ env.RINGRX_API_SECRET }}"'))
    out = check(
        invoke(["validate", str(cfg), "--format", "json"], {"RINGRX_API_SECRET": API_SECRET}),
        1,
        r"RRX005",
        (API_SECRET,),
    )
    assert json.loads(out.split("\n", 1)[0] if False else out)["valid"] is False


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_env_secret_in_url_or_header_never_reaches_a_plan(
    tmp_path: Path, sim: SimulatorServer, fmt: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        GOOD.replace("/a\n", "/a?k={{ env.RINGRX_API_SECRET }}\n")
        + '    headers: {X-Note: "{{ env.RINGRX_API_SECRET }}"}\n'
    )
    env = cli_env(sim, RINGRX_API_SECRET=API_SECRET)
    admin(sim, "POST", "/stats/reset")
    check(
        invoke(["plan", str(cfg), "--format", fmt], env),
        1,
        r"c\.yaml:5:\d+: error RRX005",
        (API_SECRET,),
    )
    assert sum(admin(sim, "GET", "/stats").values()) == 0  # not even a token request
