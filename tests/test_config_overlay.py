"""Baselines and overlays: ``extends:`` and ``override: true`` (config/overlay.py)."""

from __future__ import annotations

from pathlib import Path

from ringrx_iac.validate import validate as load

BASE = """\
version: 1
ignore: ["Legacy *"]
safety: {max_delete_percent: 20, protected: ["All CDRs"]}
defaults: {headers: {X-Source: ringrx, X-Tier: base}}
callbacks:
  - name: All CDRs
    type: cdr
    url: "https://hooks.example.com/{{ practice }}/cdr/{id}"
  - name: CRM inbound SMS
    type: sms
    url: "https://hooks.example.com/sms"
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _codes(result: object) -> list[str]:
    return [d.code for d in result.diagnostics]  # type: ignore[attr-defined]


def test_overlay_merges_lists_and_mappings_and_renders_base_with_account_vars(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "baseline/callbacks.yaml": BASE,
            "west/callbacks.yaml": """\
version: 1
extends: ../baseline/
ignore: ["Old *"]
safety: {max_delete_percent: 50, protected: ["Front desk"]}
defaults: {headers: {X-Tier: west}}
callbacks:
  - name: Front desk
    type: cdr
    url: "https://west.example.com/cdr/{id}"
""",
        },
    )
    result = load(tmp_path / "west", {"practice": "p42"})
    assert result.errors == []
    config = result.config
    assert config is not None
    assert [cb.name for cb in config.callbacks] == ["All CDRs", "CRM inbound SMS", "Front desk"]
    assert config.callbacks[0].url == "https://hooks.example.com/p42/cdr/{id}"
    assert config.ignore == ["Legacy *", "Old *"]
    assert config.safety.max_delete_percent == 50
    assert config.safety.protected == ["All CDRs", "Front desk"]
    assert config.defaults.headers == {"X-Source": "ringrx", "X-Tier": "west"}
    assert str(tmp_path / "baseline" / "callbacks.yaml") in result.files


def test_same_name_without_override_is_an_error_naming_both_places(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "baseline/callbacks.yaml": BASE,
            "east/callbacks.yaml": """\
version: 1
extends: ../baseline
callbacks:
  - name: CRM inbound SMS
    type: sms
    url: "https://east.example.com/sms"
""",
        },
    )
    result = load(tmp_path / "east", {"practice": "p1"})
    assert result.config is None
    [err] = [d for d in result.errors if d.code == "RRX032"]
    assert err.location is not None
    assert (err.location.file, err.location.line) == (str(tmp_path / "east/callbacks.yaml"), 4)
    assert f"{tmp_path / 'baseline/callbacks.yaml'}:9:5" in err.message
    assert "override: true" in err.hint


def test_override_true_replaces_the_baseline_callback(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "baseline/callbacks.yaml": BASE,
            "east.yaml": """\
version: 1
extends: baseline/callbacks.yaml
callbacks:
  - name: CRM inbound SMS
    override: true
    type: sms
    url: "https://east.example.com/sms"
""",
        },
    )
    result = load(tmp_path / "east.yaml", {"practice": "p1"})
    assert result.errors == []
    assert result.config is not None
    urls = {cb.name: cb.url for cb in result.config.callbacks}
    assert urls == {
        "All CDRs": "https://hooks.example.com/p1/cdr/{id}",
        "CRM inbound SMS": "https://east.example.com/sms",
    }


def test_errors_in_the_baseline_are_located_in_the_baseline_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "baseline/callbacks.yaml": BASE.replace("/cdr/{id}", "/cdr/{bogus}"),
            "west.yaml": "version: 1\nextends: baseline\n",
        },
    )
    result = load(tmp_path / "west.yaml", {"practice": "p1"})
    [err] = result.errors
    assert err.code == "RRX101"
    assert err.location is not None
    assert err.location.file == str(tmp_path / "baseline/callbacks.yaml")
    assert err.location.line == 8


def test_override_without_base_warns_and_missing_base_and_cycle_are_errors(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "a.yaml": "version: 1\nextends: b.yaml\n",
            "b.yaml": "version: 1\nextends: [a.yaml]\n",
            "c.yaml": "version: 1\nextends: nowhere/\n",
            "d.yaml": """\
version: 1
extends: e.yaml
callbacks:
  - {name: X, type: cdr, url: "https://x.example.com/{id}", override: true}
""",
            "e.yaml": "version: 1\n",
        },
    )
    cycle = load(tmp_path / "a.yaml")
    assert "RRX031" in _codes(cycle) and cycle.config is None
    missing = load(tmp_path / "c.yaml")
    [err] = missing.errors
    assert err.code == "RRX030" and err.location is not None and err.location.line == 2
    warned = load(tmp_path / "d.yaml")
    assert _codes(warned) == ["RRX033"] and warned.config is not None


def test_several_bases_apply_in_order(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "one.yaml": "version: 1\ncallbacks:\n  - {name: A, type: cdr, url: 'https://one/{id}'}\n",
            "two.yaml": "version: 1\ncallbacks:\n"
            "  - {name: A, type: cdr, url: 'https://two/{id}', override: true}\n",
            "top.yaml": "version: 1\nextends: [one.yaml, two.yaml]\n",
            "bad.yaml": "version: 1\nextends: 3\n",
        },
    )
    result = load(tmp_path / "top.yaml")
    assert result.config is not None
    assert [cb.url for cb in result.config.callbacks] == ["https://two/{id}"]
    assert "RRX021" in _codes(load(tmp_path / "bad.yaml"))


def test_other_sections_take_the_overlays_value(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "base.yaml": "version: 1\nmanage: no-purge\npolicy: {require_https: true}\n",
            "top.yaml": "version: 1\nextends: base.yaml\nmanage: full\n",
        },
    )
    result = load(tmp_path / "top.yaml")
    assert result.errors == []
    assert result.config is not None
    assert result.config.manage == "full"
    assert result.config.policy.require_https is True
