"""Plan and apply-report renderers: every action, secrets, escaping, colour, wording."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from ringrx_iac.render.plan import (
    describe_change,
    md_code,
    md_escape,
    render_apply_report,
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)
from ringrx_iac.render.terminal import color_enabled

ANSI = re.compile(r"\x1b\[")
# A secret-looking value that is NOT in any dict below: it must never appear anywhere.
SECRET = "s3cr3t-Pa55w0rd"


def change_create() -> dict[str, Any]:
    return {
        "action": "create",
        "callback": "CRM inbound SMS",
        "type": "sms",
        "fields": {
            "url": "https://hooks.example.com/ringrx/sms?from={from}",
            "headers": {"X-Api-Key": "(sensitive)", "X-Source": "ringrx"},
            "basic_auth": {"username": "ringrx", "password": "(sensitive)"},
        },
    }


def full_plan() -> dict[str, Any]:
    changes: list[dict[str, Any]] = [
        change_create(),
        {
            "action": "update",
            "callback": "All CDRs",
            "id": 42,
            "fields": [
                {
                    "field": "url",
                    "old": "https://old.example.com/a",
                    "new": "https://new.example.com/b",
                },
                {
                    "field": "basic_auth.password",
                    "old": "(sensitive)",
                    "new": "(sensitive value changed)",
                },
            ],
        },
        {
            "action": "replace",
            "callback": "Fax hook",
            "id": 43,
            "old_type": "sms",
            "new_type": "fax",
            "fields": {"url": "https://hooks.example.com/fax"},
        },
        {"action": "delete", "callback": "Old", "id": 44, "type": "cdr"},
        {
            "action": "bind",
            "callback": "CRM inbound SMS",
            "target_kind": "phone_numbers",
            "target": "+18185559876",
            "target_id": 7,
        },
        {
            "action": "rebind",
            "callback": "CRM inbound SMS",
            "from_callback": "Old SMS",
            "target_kind": "phone_numbers",
            "target": "+18185551234",
            "target_id": 8,
        },
        {
            "action": "unbind",
            "callback": "Old SMS",
            "target_kind": "phone_numbers",
            "target": "+18185550000",
            "target_id": 9,
        },
    ]
    return {
        "format_version": "1.0",
        "tool_version": "0.1.0",
        "fingerprint": {"live": "sha256:aaaa", "desired": "sha256:bbbb"},
        "changes": changes,
        "summary": {
            "create": 1,
            "update": 1,
            "replace": 1,
            "delete": 1,
            "bind": 1,
            "rebind": 1,
            "unbind": 1,
            "total": 7,
        },
        "warnings": [],
    }


def empty_plan() -> dict[str, Any]:
    plan = full_plan()
    plan["changes"] = []
    plan["summary"] = {a: 0 for a in plan["summary"]}
    return plan


def many_binds(n: int) -> dict[str, Any]:
    changes = [
        {
            "action": "bind",
            "callback": "Mass SMS",
            "target_kind": "phone_numbers",
            "target": f"+1818555{i:04d}",
            "target_id": i,
        }
        for i in range(n)
    ]
    return {"format_version": "1.0", "changes": changes, "summary": {"bind": n, "total": n}}


# --------------------------------------------------------------------------- text


def test_text_shows_every_action_with_its_mark() -> None:
    out = render_plan_text(full_plan(), color=False)
    assert '  + create callback "CRM inbound SMS" (sms)' in out
    assert '  ~ update callback "All CDRs" (id 42)' in out
    assert '-/+ replace callback "Fax hook" (type sms -> fax, id 43)' in out
    assert '  - delete callback "Old" (cdr, id 44)' in out
    assert '  + bind "CRM inbound SMS" to 1 phone number:' in out
    assert '  ~ rebind 1 phone number from "Old SMS" to "CRM inbound SMS":' in out
    assert '  - unbind 1 phone number from "Old SMS":' in out
    for target in ("+18185559876", "+18185551234", "+18185550000"):
        assert target in out


def test_text_update_shows_field_level_old_and_new() -> None:
    out = render_plan_text(full_plan(), color=False)
    assert 'url: "https://old.example.com/a" -> "https://new.example.com/b"' in out
    assert "basic_auth.password: (sensitive) -> (sensitive value changed)" in out


def test_text_create_shows_fields_with_sensitive_marker() -> None:
    out = render_plan_text(full_plan(), color=False)
    assert '"https://hooks.example.com/ringrx/sms?from={from}"' in out
    assert "X-Api-Key: (sensitive)" in out
    assert "password: (sensitive)" in out


def test_text_summary_line() -> None:
    plan = full_plan()
    plan["summary"].update({"create": 2, "bind": 3})
    out = render_plan_text(plan, color=False)
    assert out.rstrip().endswith(
        "Plan: 2 to create, 1 to update, 1 to replace, 1 to delete; "
        "3 to bind, 1 to rebind, 1 to unbind."
    )


def test_text_summary_counted_from_changes_without_summary() -> None:
    plan = full_plan()
    del plan["summary"]
    out = render_plan_text(plan, color=False)
    assert "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete; 1 to bind," in out


def test_text_no_changes_wording() -> None:
    out = render_plan_text(empty_plan(), color=False)
    assert out.strip() == "No changes. RingRx callbacks match the configuration."


def test_text_drift_wording() -> None:
    assert render_plan_text(empty_plan(), color=False, title="drift").strip() == (
        "In sync: RingRx callbacks match the configuration."
    )
    out = render_plan_text(full_plan(), color=False, title="drift")
    assert "Drift detected: 1 to create, 1 to update" in out
    assert "Plan:" not in out


def test_text_colour_only_when_asked() -> None:
    assert not ANSI.search(render_plan_text(full_plan(), color=False))
    coloured = render_plan_text(full_plan(), color=True)
    assert "\x1b[32m  +\x1b[0m create" in coloured  # green +
    assert "\x1b[33m  ~\x1b[0m update" in coloured  # yellow ~
    assert "\x1b[35m-/+\x1b[0m replace" in coloured  # magenta -/+
    assert "\x1b[31m  -\x1b[0m delete" in coloured  # red -


def test_text_many_binds_are_grouped_and_truncated() -> None:
    out = render_plan_text(many_binds(25), color=False)
    assert out.count("+ bind ") == 1  # one group heading
    assert '+ bind "Mass SMS" to 25 phone numbers:' in out
    assert "+18185550009" in out
    assert "+18185550010" not in out
    assert "... and 15 more" in out


def test_text_twenty_binds_all_shown() -> None:
    out = render_plan_text(many_binds(20), color=False)
    assert "+18185550019" in out
    assert "more" not in out


def test_text_escapes_terminal_control_characters() -> None:
    plan = full_plan()
    plan["changes"][0]["callback"] = "evil\x1b[31mred\nnext"
    out = render_plan_text(plan, color=False)
    assert "\x1b" not in out
    assert '"evil\\u001b[31mred\\nnext"' in out


def test_text_shows_warnings() -> None:
    plan = empty_plan()
    plan["warnings"] = [
        {
            "code": "RRX301",
            "severity": "warning",
            "message": "literal password",
            "hint": "use ${env:NAME}",
            "file": "cb.yaml",
            "line": 4,
            "column": 7,
        }
    ]
    out = render_plan_text(plan, color=False)
    assert "cb.yaml:4:7: warning: [RRX301] literal password" in out
    assert "hint: use ${env:NAME}" in out
    assert out.rstrip().endswith("No changes. RingRx callbacks match the configuration.")


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("title", ["plan", "drift"])
def test_no_renderer_reveals_a_secret(title: str) -> None:
    plan = full_plan()
    outputs = [
        render_plan_text(plan, color=False, title=title),
        render_plan_text(plan, color=True, title=title),
        render_plan_markdown(plan, title=title),
        render_plan_json(plan),
    ]
    for out in outputs:
        assert SECRET not in out
        assert "(sensitive)" in out
        assert "(sensitive value changed)" in out


# --------------------------------------------------------------------------- markdown


def test_markdown_heading_table_and_details() -> None:
    out = render_plan_markdown(full_plan())
    assert out.startswith("### ringrx-iac plan\n")
    assert "| action | count |" in out
    assert "| `+` create | 1 |" in out
    assert "| `-/+` replace | 1 |" in out
    assert "| `-` unbind | 1 |" in out
    assert out.count("<details>") == out.count("</details>") == 2
    assert "<summary>Callbacks (4 changes)</summary>" in out
    assert "<summary>Bindings (3 changes)</summary>" in out
    assert "`https://old.example.com/a` → `https://new.example.com/b`" in out
    assert "_(sensitive)_ → _(sensitive value changed)_" in out


def test_markdown_no_changes_and_drift() -> None:
    out = render_plan_markdown(empty_plan())
    assert "No changes. RingRx callbacks match the configuration." in out
    assert "<details>" not in out
    assert "| action |" not in out
    drift = render_plan_markdown(full_plan(), title="drift")
    assert drift.startswith("### ringrx-iac drift")
    assert "Drift detected: 1 to create" in drift


def _outside_code_spans(markdown: str) -> str:
    """The markdown with code spans removed (what GitHub would interpret as markup)."""
    return re.sub(r"(`+)(?:(?!\1).)*?\1", "", markdown)


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert(1)</script>",
        "a|b",
        "`tick` and ``two``",
        "**bold** _it_ [link](http://x)",
        "</details><img src=x onerror=alert(1)>",
        "line\nbreak",
    ],
)
def test_markdown_escapes_user_text(name: str) -> None:
    plan = full_plan()
    for change in plan["changes"]:
        change["callback"] = name
    plan["changes"][0]["fields"]["headers"] = {name: name}
    plan["changes"][4]["target"] = name
    out = render_plan_markdown(plan)
    outside = _outside_code_spans(out)
    assert "<script" not in outside
    assert "<img" not in outside
    assert [line for line in out.splitlines() if line in ("<details>", "</details>")] == [
        "<details>",
        "</details>",
        "<details>",
        "</details>",
    ]
    # Table rows are untouched by user text: exactly the 7 action rows + header + rule.
    table_rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table_rows) == 9
    assert all(line.count("|") == 3 for line in table_rows)
    # No raw line break from user text: every change is one list item per line.
    assert "line\nbreak" not in out


def test_md_code_survives_backticks_and_md_escape_neutralises_html() -> None:
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("") == "_(empty)_"
    escaped = md_escape("<b>a|b</b> & *x* [y]")
    assert "<" not in escaped and ">" not in escaped and "|" not in escaped
    assert "&amp;" in escaped and "\\*x\\*" in escaped and "\\[y\\]" in escaped


def test_markdown_truncates_many_binds_per_group() -> None:
    out = render_plan_markdown(many_binds(30))
    assert "`+18185550009`" in out
    assert "+18185550010" not in out
    assert "and 20 more" in out


def test_markdown_warnings_escaped() -> None:
    plan = empty_plan()
    plan["warnings"] = [
        {"code": "RRX1", "severity": "warning", "message": "<b>x</b>", "file": "a.yaml"}
    ]
    out = render_plan_markdown(plan)
    assert "<summary>Warnings (1)</summary>" in out
    assert "&lt;b&gt;x&lt;/b&gt;" in out


# --------------------------------------------------------------------------- json


def test_json_round_trips_and_keeps_order_and_unicode() -> None:
    plan = full_plan()
    plan["changes"][0]["callback"] = "Zürich SMS"
    out = render_plan_json(plan)
    assert json.loads(out) == plan
    assert "Zürich" in out
    assert list(json.loads(out)) == list(plan)
    assert out.startswith('{\n  "format_version": "1.0"')


# --------------------------------------------------------------------------- apply report


def _report(**kw: Any) -> dict[str, Any]:
    plan = full_plan()
    report: dict[str, Any] = {
        "done": plan["changes"][:5],
        "failed": [],
        "skipped": [],
        "interrupted": False,
        "converged": True,
        "summary": {"done": 5, "failed": 0, "skipped": 0},
    }
    report.update(kw)
    return report


def test_apply_report_complete() -> None:
    out = render_apply_report(_report(), color=False)
    assert "Apply complete: 5 done." in out
    assert "Account converged." in out
    assert "Failed" not in out and "Skipped" not in out and "Done (" not in out


def test_apply_report_failed_and_skipped() -> None:
    plan = full_plan()
    failed = [{**plan["changes"][0], "error": "RingRx rejected the callback: url is invalid"}]
    skipped = [
        {**plan["changes"][4], "reason": 'depends on failed create "CRM inbound SMS"'},
        {**plan["changes"][5], "reason": 'depends on failed create "CRM inbound SMS"'},
    ]
    out = render_apply_report(
        _report(
            done=plan["changes"][1:4],
            failed=failed,
            skipped=skipped,
            converged=False,
            summary={"done": 3, "failed": 1, "skipped": 2},
        ),
        color=False,
    )
    assert (
        'create callback "CRM inbound SMS" (sms): RingRx rejected the callback: url is invalid'
        in out
    )
    assert 'bind phone_numbers +18185559876 to "CRM inbound SMS": depends on failed create' in out
    assert "Apply failed: 3 done, 1 failed, 2 skipped." in out
    done = out.split("Done (3):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert done == [
        '  ~ update callback "All CDRs" (id 42)',
        '-/+ replace callback "Fax hook" (type sms -> fax, id 43)',
        '  - delete callback "Old" (cdr, id 44)',
    ]
    assert "Account has not converged; run plan to see what is left." in out
    assert not ANSI.search(out)
    assert ANSI.search(render_apply_report(_report(failed=failed), color=True))


def test_apply_report_interrupted() -> None:
    out = render_apply_report(
        _report(interrupted=True, converged=None, summary={"done": 2, "failed": 0, "skipped": 4}),
        color=False,
    )
    assert "Apply interrupted: 2 done, 0 failed, 4 skipped." in out
    assert "converged" not in out


def test_describe_change_for_every_action() -> None:
    texts = [describe_change(c) for c in full_plan()["changes"]]
    assert texts == [
        'create callback "CRM inbound SMS" (sms)',
        'update callback "All CDRs" (id 42)',
        'replace callback "Fax hook" (type sms -> fax, id 43)',
        'delete callback "Old" (cdr, id 44)',
        'bind phone_numbers +18185559876 to "CRM inbound SMS"',
        'rebind phone_numbers +18185551234 from "Old SMS" to "CRM inbound SMS"',
        'unbind phone_numbers +18185550000 from "Old SMS"',
    ]


# --------------------------------------------------------------------------- colour switch


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (False, {"FORCE_COLOR": "1"}, True),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": "0"}, False),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_color_enabled(tty: bool, env: dict[str, str], expected: bool) -> None:
    assert color_enabled(_Stream(tty), env) is expected


def test_color_enabled_on_stream_without_isatty() -> None:
    assert color_enabled(object(), {}) is False


def test_counted_nouns_are_singular_for_one() -> None:
    """Say "1 change" and "to 1 fax service", never "1 changes" or "1 fax_services"."""
    change = {
        "action": "bind",
        "callback": "Fax hook",
        "target_kind": "fax_services",
        "target": "Main Fax",
    }
    plan = {"format_version": "1.0", "changes": [change], "summary": {"bind": 1, "total": 1}}
    assert 'bind "Fax hook" to 1 fax service:' in render_plan_text(plan, color=False)
    markdown = render_plan_markdown(plan)
    assert "<summary>Bindings (1 change)</summary>" in markdown
    assert "1 fax service" in markdown and "fax_services" not in markdown
    two = {**plan, "changes": [change, {**change, "target": "Back Fax"}]}
    assert "to 2 fax services:" in render_plan_text(two, color=False)
