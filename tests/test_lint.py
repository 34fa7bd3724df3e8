"""Every lint rule fires on its case, with its code, severity, location and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.diagnostics.codes import RULES
from ringrx_iac.validate import validate as load


def lint_text(tmp_path: Path, callbacks: str, top: str = "") -> list[Diagnostic]:
    text = "version: 1\n" + top + "callbacks:\n" + callbacks
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    result = load(path, env={})
    assert result.config is not None, [str(d.message) for d in result.diagnostics]
    return result.diagnostics


def only(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def cb(url: str, type_: str = "sms", name: str = "X", extra: str = "") -> str:
    return f'  - name: {name}\n    type: {type_}\n    url: "{url}"\n{extra}'


def test_clean_callback_has_no_finding(tmp_path: Path) -> None:
    assert lint_text(tmp_path, cb("https://h.example.com/sms?to={to}")) == []


def test_unknown_token_other_type_hint_and_column(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("https://h.example.com/sms/{caller}"))
    assert d.code == "RRX101" and d.severity == "error"
    assert "{caller} is a token of voicemail, fax" in d.message
    assert d.hint == "sms uses {from}"
    assert d.location is not None and (d.location.line, d.location.column) == (5, 37)


def test_unknown_token_nearest(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("https://h.example.com/v/{mailboxx}", "voicemail"))
    assert d.code == "RRX101" and d.hint == "did you mean {mailbox}?"


def test_unknown_token_in_header_value(tmp_path: Path) -> None:
    (d,) = lint_text(
        tmp_path, cb("https://h.example.com/x", extra="    headers: {X-Id: '{nope}'}\n")
    )
    assert d.code == "RRX101" and "header 'X-Id'" in d.message


def test_unknown_token_in_default_header(tmp_path: Path) -> None:
    diags = lint_text(
        tmp_path,
        cb("https://h.example.com/x"),
        top="defaults: {headers: {X-Caller: '{caller}'}}\n",
    )
    (d,) = only(diags, "RRX101")
    assert "applies to sms callbacks" in d.message
    assert d.location is not None and d.location.line == 2


@pytest.mark.parametrize(
    ("type_", "token"), [("sms", "uuid"), ("call_alert", "dialed_user_emails")]
)
def test_payload_only_token_is_a_warning(tmp_path: Path, type_: str, token: str) -> None:
    (d,) = lint_text(tmp_path, cb(f"https://h.example.com/x/{{{token}}}", type_))
    assert (d.code, d.severity) == ("RRX102", "warning")


def test_malformed_placeholder_suggests_the_fix(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("https://h.example.com/f?p={pages }", "fax"))
    assert d.code == "RRX103" and d.hint == "write {pages}"


def test_unbalanced_braces(tmp_path: Path) -> None:
    diags = lint_text(tmp_path, cb("https://h.example.com/x?a={to&b=}"))
    assert [d.code for d in diags] == ["RRX104", "RRX104"]


def test_token_in_host(tmp_path: Path) -> None:
    (d,) = only(lint_text(tmp_path, cb("https://{to}.example.com/x")), "RRX105")
    assert d.severity == "error"


def test_token_in_basic_auth(tmp_path: Path) -> None:
    extra = "    basic_auth: {username: 'u{to}', password: '${env:P}'}\n"
    (d,) = lint_text(tmp_path, cb("https://h.example.com/x", extra=extra))
    assert d.code == "RRX106"


def test_http_url_needs_opt_in(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("http://h.example.com/x"))
    assert d.code == "RRX201"
    assert (
        lint_text(tmp_path, cb("http://h.example.com/x", extra="    allow_insecure_url: true\n"))
        == []
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h.example.com/x",
        "h.example.com/x",
        "https:///x",
        "https://h.example.com:99999/",
        "https://h.example.com/a b",
    ],
)
def test_invalid_urls(tmp_path: Path, url: str) -> None:
    assert [d.code for d in lint_text(tmp_path, cb(url))] == ["RRX202"]


def test_phi_token_in_query_is_a_warning(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("https://h.example.com/x?msg={message}"))
    assert (d.code, d.severity) == ("RRX203", "warning")
    # in the path it is not flagged
    assert lint_text(tmp_path, cb("https://h.example.com/x/{message}")) == []


def test_header_rules(tmp_path: Path) -> None:
    extra = (
        "    headers:\n"
        "      Bad Name: a\n"
        '      X-Multi: "a\\nb"\n'
        "      x-source: b\n"
        "      X-Dup: a\n"
        "      x-dup: b\n"
    )
    diags = lint_text(
        tmp_path,
        cb("https://h.example.com/x", extra=extra),
        top="defaults: {headers: {X-Source: a}}\n",
    )
    assert sorted(d.code for d in diags) == ["RRX301", "RRX302", "RRX303", "RRX303"]
    assert any("default header 'X-Source'" in d.message for d in diags)


def test_literal_secret_header_warning(tmp_path: Path) -> None:
    (d,) = lint_text(
        tmp_path, cb("https://h.example.com/x", extra="    headers: {X-Api-Key: abc123}\n")
    )
    assert (d.code, d.severity) == ("RRX304", "warning")
    assert "abc123" not in d.message


def test_basic_auth_rules(tmp_path: Path) -> None:
    half = lint_text(
        tmp_path, cb("https://h.example.com/x", extra="    basic_auth: {username: u}\n")
    )
    assert [d.code for d in half] == ["RRX401"]
    literal = lint_text(
        tmp_path,
        cb("https://h.example.com/x", extra="    basic_auth: {username: u, password: hunter2}\n"),
    )
    assert [(d.code, d.severity) for d in literal] == [("RRX402", "warning")]
    assert "hunter2" not in literal[0].message
    bad = lint_text(
        tmp_path,
        cb("https://h.example.com/x", extra="    basic_auth: {username: u, password: '${env:}'}\n"),
    )
    assert [d.code for d in bad] == ["RRX403"]


def test_bind_on_global_and_wrong_key(tmp_path: Path) -> None:
    (d,) = lint_text(
        tmp_path, cb("https://h.example.com/x", "cdr", extra="    bind: {groups: [Reception]}\n")
    )
    assert d.code == "RRX501"
    (d,) = lint_text(
        tmp_path,
        cb("https://h.example.com/x", "voicemail", extra="    bind: {phone_numbers: ['1']}\n"),
    )
    assert d.code == "RRX502" and "'mailboxes'" in d.message


def test_target_bound_twice_compares_e164(tmp_path: Path) -> None:
    text = cb(
        "https://h.example.com/a",
        name="A",
        extra="    bind: {phone_numbers: ['+1 818 555 9876']}\n",
    )
    text += cb(
        "https://h.example.com/b", name="B", extra="    bind: {phone_numbers: ['8185559876']}\n"
    )
    (d,) = lint_text(tmp_path, text)
    assert d.code == "RRX503"
    assert "'B'" in d.message and "'A'" in d.message and "c.yaml:6" in d.message


def test_target_listed_twice_in_one_callback(tmp_path: Path) -> None:
    (d,) = lint_text(
        tmp_path,
        cb(
            "https://h.example.com/a",
            "fax",
            extra="    bind: {fax_services: [Main Fax, Main Fax]}\n",
        ),
    )
    assert d.code == "RRX503" and "listed twice" in d.message


def test_bad_phone_number(tmp_path: Path) -> None:
    (d,) = lint_text(
        tmp_path, cb("https://h.example.com/a", extra="    bind: {phone_numbers: ['12']}\n")
    )
    assert d.code == "RRX504"
    assert d.location is not None and d.location.line == 6


def test_many_global_callbacks_warn(tmp_path: Path) -> None:
    text = cb("https://h.example.com/a", "cdr", "A") + cb("https://h.example.com/b", "cdr", "B")
    text += cb("https://h.example.com/c", "recording", "C")
    (d,) = lint_text(tmp_path, text)
    assert (d.code, d.severity) == ("RRX505", "warning")


def test_duplicate_names(tmp_path: Path) -> None:
    text = cb("https://h.example.com/a", name="A") + cb("https://h.example.com/b", name="A")
    (d,) = lint_text(tmp_path, text)
    assert d.code == "RRX601" and "c.yaml:3" in d.message


def test_ignore_and_protected(tmp_path: Path) -> None:
    diags = lint_text(
        tmp_path,
        cb("https://h.example.com/a", name="Legacy SMS"),
        top="ignore: ['Legacy *']\nsafety: {protected: ['Legacy SMSS']}\n",
    )
    assert [(d.code, d.severity) for d in diags] == [("RRX602", "warning"), ("RRX603", "warning")]
    assert diags[1].hint == "did you mean 'Legacy SMS'?"


def test_every_rule_has_a_hint_and_valid_severity() -> None:
    for rule in RULES.values():
        assert rule.hint and rule.summary and rule.severity in ("error", "warning")
        assert rule.code.startswith("RRX") and len(rule.code) == 6


def test_rules_are_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        row = f"| `{rule.code}` | {rule.name} | {rule.severity} |"
        assert row in doc, f"{rule.code} is not in docs/lint-rules.md as {row}"


def test_url_credentials_are_not_echoed(tmp_path: Path) -> None:
    (d,) = lint_text(tmp_path, cb("https://user:s3cret@:99/x"))
    assert d.code == "RRX206" and "s3cret" not in d.message


def test_a_repeated_finding_is_reported_at_every_occurrence(tmp_path: Path) -> None:
    """Values checked clean are not checked again; values with a finding always are."""
    secret = '    headers: {X-Api-Key: "literal-key"}\n'
    auth = '    basic_auth: {username: u, password: "pw"}\n'
    callbacks = "".join(
        cb(f"https://h.example.com/sms/{n}", name=f"cb{n}", extra=secret + auth) for n in range(3)
    )
    diags = lint_text(tmp_path, callbacks)
    assert [d.location.line for d in only(diags, "RRX304") if d.location] == [6, 11, 16]
    assert [d.location.line for d in only(diags, "RRX402") if d.location] == [7, 12, 17]


def test_a_header_clean_for_one_type_is_still_checked_for_another(tmp_path: Path) -> None:
    header = '    headers: {X-To: "{to}"}\n'
    callbacks = cb("https://h.example.com/a", name="a", extra=header) + cb(
        "https://h.example.com/b", type_="voicemail", name="b", extra=header
    )
    (d,) = only(lint_text(tmp_path, callbacks), "RRX101")
    assert "{to}" in d.message and "voicemail" in d.message
    assert d.location is not None and d.location.line == 10
