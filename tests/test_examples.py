"""Every example validates cleanly, with no environment variable set."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringrx_iac.config.template import collect_variables
from ringrx_iac.validate import validate as load

EXAMPLES = Path(__file__).parents[1] / "examples"
SCHEMA = Path(__file__).parents[1] / "schemas" / "ringrx-iac.schema.json"
SEED_TARGETS = {
    "phone_numbers": {"+18185559876", "8185551234", "+18185550100"},
    "mailboxes": {"1001", "1002", "Front desk", "Billing"},
    "fax_services": {"Main Fax", "7001"},
    "outreach_profiles": {"Appointment reminders", "Recalls"},
    "groups": {"Reception", "Triage", "8000", "8100"},
}


def _cases() -> list[tuple[str, Path, list[Path]]]:
    multi = EXAMPLES / "multi-env"
    return [
        ("minimal", EXAMPLES / "minimal.yaml", []),
        ("full", EXAMPLES / "full.yaml", []),
        ("split", EXAMPLES / "split", []),
        ("multi-env staging", multi / "callbacks.yaml.j2", [multi / "staging.vars.yaml"]),
        ("multi-env prod", multi / "callbacks.yaml.j2", [multi / "prod.vars.yaml"]),
    ]


@pytest.mark.parametrize(("label", "path", "var_files"), _cases(), ids=[c[0] for c in _cases()])
def test_example_is_clean(label: str, path: Path, var_files: list[Path]) -> None:
    result = load(path, collect_variables([], var_files), env={})
    assert [str(d.location) + " " + d.message for d in result.diagnostics] == []
    assert result.config is not None and result.config.callbacks


def test_full_example_uses_every_type_and_seed_targets() -> None:
    from ringrx_iac.phone import to_e164

    result = load(EXAMPLES / "full.yaml", env={})
    assert result.config is not None
    assert {c.type for c in result.config.callbacks} == {
        "sms",
        "voicemail",
        "fax",
        "cdr",
        "recording",
        "outreach",
        "call_alert",
    }
    seed_phones = {to_e164(p) for p in SEED_TARGETS["phone_numbers"]}
    for callback in result.config.callbacks:
        for key, targets in callback.bind.items() if callback.bind else []:
            for target in targets:
                if key == "phone_numbers":
                    assert to_e164(target) in seed_phones
                else:
                    assert target in SEED_TARGETS[key], (callback.name, target)


def test_every_example_declares_the_schema() -> None:
    files = [
        p
        for p in EXAMPLES.rglob("*")
        if p.is_file() and ".vars." not in p.name and p.name != "fleet.yaml"  # an inventory
    ]
    assert files
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1].strip()).resolve()
        assert target == SCHEMA.resolve(), path
