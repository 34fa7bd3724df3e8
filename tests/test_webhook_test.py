"""``ringrx-iac test``: receiver contract tests against a loopback receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import run_cli
from receiver import Answer, Received, Receiver

JUNIT_XSD = Path(__file__).parent / "data" / "junit.xsd"
KEY = "contract-key-9f8e7d"
PASSWORD = "contract-pw-1a2b3c"
ENV = {"CRM_KEY": KEY, "CRM_PASSWORD": PASSWORD}

CONFIG = """\
version: 1
callbacks:
  - name: CRM inbound SMS
    type: sms
    url: "https://hooks.example.com/ok/sms?from={from}&msg={message}"
    headers: {X-Api-Key: "${env:CRM_KEY}", X-To: "{to}"}
    basic_auth: {username: ringrx, password: "${env:CRM_PASSWORD}"}
  - name: Failing CDRs
    type: cdr
    url: "https://hooks.example.com/fail/{id}"
  - name: Slow faxes
    type: fax
    url: "https://hooks.example.com/slow/{id}"
  - name: Counting alerts
    type: call_alert
    url: "https://hooks.example.com/count/{uuid}"
  - name: Echo voicemail
    type: voicemail
    url: "https://hooks.example.com/echo/{mailbox}"
    headers: {X-Api-Key: "${env:CRM_KEY}"}
"""


def answer(req: Received, n: int) -> Answer:
    """/ok: 200 JSON; /fail: 500; /slow: 1 s late; /count: a new answer each time;
    /echo: 200 with the request's headers in the body (a careless receiver)."""
    if req.path.startswith("/ok"):
        return Answer(200, json.dumps({"ok": True, "data": {"id": 7}}).encode(), "application/json")
    if req.path.startswith("/fail"):
        return Answer(500, b"boom")
    if req.path.startswith("/slow"):
        return Answer(200, b"late", delay=1.0)
    if req.path.startswith("/count"):
        return Answer(200, f"seen {n}".encode())
    if req.path.startswith("/echo"):
        return Answer(200, repr(req.headers).encode())
    return Answer(404)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver(answer=answer) as r:
        yield r


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "callbacks.yaml").write_text(CONFIG)
    return tmp_path


def write_tests(project: Path, text: str) -> None:
    (project / "tests.yaml").write_text(text)


def run(project: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(["test", str(project / "callbacks.yaml"), *args], ENV if env is None else env)


def test_passing_tests_send_the_real_request(project: Path, receiver: Receiver) -> None:
    write_tests(
        project,
        """\
tests:
  - name: sms accepted
    callback: CRM inbound SMS
    event: {message: "hello world"}
    expect: {status: 200, body_contains: '"ok"', json: {ok: true, data.id: 7}}
  - callback: CRM inbound SMS
    status: 2xx
    replay: 2
""",
    )
    result = run(project, "--receiver-base", receiver.url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tests.yaml::sms accepted PASSED" in out
    assert "tests.yaml::CRM inbound SMS #2 PASSED" in out
    assert "3 passed" not in out and "2 passed in" in out
    assert len(receiver.requests) == 3  # 1 + a replay of 2
    got = receiver.requests[0]
    assert got.path == "/ok/sms?from=8185551234&msg=hello%20world"
    assert got.header("X-Api-Key") == KEY
    assert got.header("X-To") == "8185559876"
    assert (
        got.header(
            "Authorization",
        )
        is not None
    )
    assert json.loads(got.body)["message"] == "hello world"
    assert KEY not in result.output and PASSWORD not in result.output


def test_failures_timeouts_replays_and_junit(
    project: Path, receiver: Receiver, tmp_path: Path
) -> None:
    write_tests(
        project,
        """\
defaults: {timeout: 5}
tests:
  - {name: ok, callback: CRM inbound SMS}
  - {name: wrong status, callback: Failing CDRs, expect: {status: "200-299"}}
  - {name: accepts 5xx, callback: Failing CDRs, status: [5xx], body_contains: boom}
  - {name: too slow, callback: Slow faxes, timeout: 0.2}
  - {name: not idempotent, callback: Counting alerts, replay: 2}
  - {name: wrong json, callback: CRM inbound SMS, expect: {json: {ok: 1, data.id: 8, nope: 1}}}
  - {name: echo, callback: Echo voicemail, body_contains: nothing-like-this}
""",
    )
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    result = run(project, "--receiver-base", receiver.url + "/", "--junit", str(junit))
    assert result.exit_code == 1
    out = result.stdout
    for name, word in [
        ("ok", "PASSED"),
        ("wrong status", "FAILED"),
        ("accepts 5xx", "PASSED"),
        ("too slow", "FAILED"),
        ("not idempotent", "FAILED"),
        ("wrong json", "FAILED"),
        ("echo", "FAILED"),
    ]:
        assert f"tests.yaml::{name} {word}" in out, name
    assert "expected status 2xx, got 500" in out
    assert "no answer within 0.2s" in out
    assert "not idempotent: answer 2 differs from answer 1" in out
    assert "expected JSON field 'ok' = 1, got True" in out
    assert "expected JSON field 'data.id' = 8, got 7" in out
    assert "expected JSON field 'nope', the body has none" in out
    assert "5 failed, 2 passed in" in out
    # The echoing receiver put the secret in its body: the report masks it.
    assert KEY not in out and "(redacted)" in out
    xml = junit.read_text()
    assert KEY not in xml
    import xmlschema

    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(str(junit))  # raises when the XML does not follow the schema
    data: Any = schema.to_dict(str(junit))
    suite = data["testsuite"][0]
    assert (suite["@tests"], suite["@failures"], suite["@errors"]) == (7, 5, 0)
    cases = {c["@name"]: c for c in suite["testcase"]}
    assert "failure" in cases["too slow"] and "failure" not in cases["ok"]


def test_the_junit_schema_rejects_a_malformed_report() -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    bad = "<testsuites><testsuite name='x' tests='1'><testcase classname='c' time='0'/></testsuite></testsuites>"
    assert not schema.is_valid(bad)  # the testcase has no name


def test_unreachable_receiver_is_an_error(project: Path) -> None:
    write_tests(project, "tests: [{callback: CRM inbound SMS}]\n")
    result = run(project, "--receiver-base", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "tests.yaml::CRM inbound SMS #1 ERROR" in result.stdout
    assert "cannot reach the receiver" in result.stdout
    assert "1 error in" in result.stdout


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("tests: [{callback: Nope}]\n", "tests.yaml:1:9: test 'Nope #1' names callback 'Nope'"),
        (
            "tests: [{callback: CRM inbound SMS, statuss: 200}]\n",
            "tests.yaml:1:37: unknown key 'statuss'",
        ),
        ("tests: [{callback: CRM inbound SMS, status: 2xy}]\n", "status '2xy' is not a status"),
        ("tests: [{callback: CRM inbound SMS, replay: 0}]\n", "replay must be a whole number"),
        ("tests: [{callback: CRM inbound SMS, timeout: -1}]\n", "timeout must be a number"),
        ("tests: []\n", "'tests' must be a non-empty list"),
        ("tests: [{callback: a, name: x}, {callback: a, name: x}]\n", "two tests are named 'x'"),
    ],
)
def test_bad_tests_file(project: Path, tests: str, message: str) -> None:
    write_tests(project, tests)
    result = run(project, "--receiver-base", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_usage_errors(project: Path, receiver: Receiver) -> None:
    write_tests(project, "tests: [{callback: CRM inbound SMS}]\n")
    assert run(project).exit_code == 1  # neither --receiver-base nor --live-urls
    result = run(project, "--receiver-base", receiver.url, "--live-urls")
    assert result.exit_code == 1
    result = run(project, "--receiver-base", "ftp://x")
    assert result.exit_code == 1 and "not an http(s) URL" in result.stderr
    missing = run(project, "--receiver-base", receiver.url, env={"CRM_KEY": KEY})
    assert missing.exit_code == 1
    assert "CRM_PASSWORD" in missing.stderr
    assert receiver.requests == []  # nothing is sent before every secret resolves
    result = run(project, "--receiver-base", receiver.url, "--tests", str(project / "no.yaml"))
    assert result.exit_code == 1 and "no.yaml: no such file" in result.stderr


def test_live_urls_send_to_the_real_url(tmp_path: Path, receiver: Receiver) -> None:
    (tmp_path / "callbacks.yaml").write_text(
        "version: 1\ncallbacks:\n  - name: local\n    type: cdr\n"
        f'    url: "{receiver.url}/ok/{{id}}"\n    allow_insecure_url: true\n'
    )
    write_tests(tmp_path, "tests: [{callback: local, json: {ok: true}}]\n")
    result = run(tmp_path, "--live-urls")
    assert result.exit_code == 0, result.output
    assert [r.path for r in receiver.requests] == ["/ok/880001"]


def test_receiver_base_keeps_a_path_prefix(project: Path, receiver: Receiver) -> None:
    write_tests(project, "tests: [{callback: Failing CDRs, status: 404}]\n")
    result = run(project, "--receiver-base", receiver.url + "/prefix")
    assert result.exit_code == 0, result.output
    assert [r.path for r in receiver.requests] == ["/prefix/fail/880001"]


def test_a_config_directory_holds_its_tests_yaml(tmp_path: Path, receiver: Receiver) -> None:
    """tests.yaml inside a config directory is found, and is not read as configuration."""
    config = tmp_path / "callbacks"
    config.mkdir()
    (config / "crm.yaml").write_text(CONFIG)
    (config / "tests.yaml").write_text("tests: [{callback: Failing CDRs, status: 500}]\n")
    assert run_cli(["validate", str(config)], {}).exit_code == 0
    result = run_cli(["test", str(config), "--receiver-base", receiver.url], ENV)
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.stdout


def test_live_urls_refuse_hosts_outside_the_policy(tmp_path: Path, receiver: Receiver) -> None:
    (tmp_path / "callbacks.yaml").write_text(
        "version: 1\npolicy: {allowed_hosts: [hooks.example.com], require_https: false}\n"
        "callbacks:\n  - name: local\n    type: cdr\n"
        f'    url: "{receiver.url}/ok/{{id}}"\n    allow_insecure_url: true\n'
    )
    write_tests(tmp_path, "tests: [{callback: local}]\n")
    result = run(tmp_path, "--live-urls")
    assert result.exit_code == 1
    assert "policy.allowed_hosts" in result.stderr
    assert receiver.requests == []


def test_refused_lists_destinations_outside_the_policy() -> None:
    from ringrx_iac.config.models import Config
    from ringrx_iac.webhook.destinations import refused

    config = Config.model_validate(
        {"version": 1, "policy": {"allowed_hosts": ["hooks.example.com", "*.crm.example.org"]}}
    )
    urls = {
        "a": "https://hooks.example.com/x",
        "b": "https://eu.crm.example.org/y",
        "c": "https://evil.example.net/z",
    }
    assert refused(urls, config) == [
        "callback 'c': host 'evil.example.net' is not in policy.allowed_hosts"
    ]
    assert refused(urls, Config.model_validate({"version": 1})) == []
