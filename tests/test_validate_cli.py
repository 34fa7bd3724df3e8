"""``ringrx-iac validate`` and ``schema`` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringrx_iac.cli import main

GOOD = 'version: 1\ncallbacks:\n  - {name: A, type: cdr, url: "https://h.example.com/{id}"}\n'
WARN = GOOD.replace("https://h.example.com/{id}", "https://h.example.com/x?n={caller_id_name}")
BAD = GOOD.replace("{id}", "{caller}")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["validate", write(tmp_path, GOOD)], capsys)
    assert code == 0
    assert out == "valid (1 file, 1 callback)\n"


def test_error_text_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    code, out, _ = run(["validate", path], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}:3:54: error RRX101: unknown token {{caller}}")
    assert lines[1].startswith("    hint: ")
    assert lines[-1] == "invalid: 1 error, 0 warnings (1 file, 1 callback)"
    assert "\x1b[" not in out  # not a TTY: no colour


def test_warning_passes_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, WARN)
    assert run(["validate", path], capsys)[0] == 0
    assert run(["validate", "--strict", path], capsys)[0] == 1


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    code, out, _ = run(["validate", "--format", "json", path], capsys)
    doc = json.loads(out)
    assert code == 1
    assert doc["valid"] is False and doc["errors"] == 1 and doc["warnings"] == 0
    assert doc["files"] == [path]
    (diag,) = doc["diagnostics"]
    assert diag["code"] == "RRX101" and diag["line"] == 3 and diag["column"] == 54
    assert diag["severity"] == "error" and diag["hint"]


def test_github_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BAD)
    code, out, _ = run(["validate", "--format", "github", path], capsys)
    assert code == 1
    assert out.startswith(f"::error file={path},line=3,col=54,title=RRX101::unknown token")
    assert out.rstrip().endswith(")")
    _, out, _ = run(["validate", "--format", "github", write(tmp_path, WARN)], capsys)
    assert out.startswith("::warning ")


def test_vars_and_var_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("h.example.com", "{{ host }}"))
    code, out, _ = run(["validate", path], capsys)
    assert (
        code == 1 and "undefined template variable 'host'" in out and "c.yaml:3:43" in out
    )  # the name in the tag
    assert run(["validate", path, "--var", "host=h.example.com"], capsys)[0] == 0
    var_file = tmp_path / "v.yaml"
    var_file.write_text("host: h.example.com\n")
    assert run(["validate", path, "--var-file", str(var_file)], capsys)[0] == 0


def test_bad_usage_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    code, _, err = run(["validate", path, "--var", "novalue"], capsys)
    assert code == 1 and "KEY=VALUE" in err
    code, _, err = run(["validate", path, "--var-file", str(tmp_path / "none.yaml")], capsys)
    assert code == 1 and "no such file" in err
    assert run(["validate", path, "--format", "xml"], capsys)[0] == 1


def test_no_traceback_on_garbage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\x00\xff\xfe garbage: [")
    code, out, err = run(["validate", str(path)], capsys)
    assert code == 1
    assert "Traceback" not in out + err
    assert "RRX003" in out


def test_schema_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["schema"], capsys)
    assert code == 0
    assert json.loads(out)["title"] == "ringrx-iac configuration"


def test_text_colour_only_when_asked() -> None:
    from ringrx_iac.diagnostics import Diagnostic, Location
    from ringrx_iac.render.diagnostics import render_text

    diag = Diagnostic("RRX101", "error", "m", "h", Location("f.yaml", 1, 2))
    assert "\x1b[31m" in render_text([diag], ["f.yaml"], color=True)
    assert "\x1b[" not in render_text([diag], ["f.yaml"], color=False)


def test_github_format_says_valid_with_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["validate", "--format", "github", write(tmp_path, GOOD)], capsys)
    assert code == 0
    assert out == "::notice title=ringrx-iac validate::valid (1 file)\n"
    _, out, _ = run(["validate", "--format", "github", write(tmp_path, WARN)], capsys)
    assert (
        out.splitlines()[-1] == "::notice title=ringrx-iac validate::valid with 1 warning (1 file)"
    )
    _, out, _ = run(["validate", "--format", "github", write(tmp_path, BAD)], capsys)
    assert "::notice" not in out


def test_several_paths_are_each_checked_with_one_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit passes every changed file: each is a configuration of its own."""
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("name: A", "name: B"), encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    a, b, bad = (str(tmp_path / n) for n in ("a.yaml", "b.yaml", "bad.yaml"))
    code, out, _ = run(["validate", a, b], capsys)
    assert (code, out) == (0, "valid (2 files, 2 callbacks)\n")
    code, out, _ = run(["validate", a, bad, b], capsys)
    assert code == 1
    assert out.startswith(f"{bad}:3:54: error RRX101")
    assert out.splitlines()[-1] == "invalid: 1 error, 0 warnings (3 files, 3 callbacks)"
    code, out, _ = run(["validate", "--format", "json", a, bad], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["valid"] is False and doc["files"] == [a, bad]


def test_usage_errors_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["plan", "--format", "xml", write(tmp_path, GOOD)], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("error: Invalid value for '--format': 'xml' is not one of")
    assert err.rstrip().endswith("(see 'ringrx-iac plan --help')")
    code, _, err = run(["validate"], capsys)
    assert code == 1 and err.count("\n") == 1 and "Missing argument 'PATHS...'" in err
    code, _, err = run(["nosuch"], capsys)
    assert code == 1 and err.count("\n") == 1 and "No such command 'nosuch'" in err


@pytest.mark.parametrize("command", ["plan", "drift", "apply", "validate"])
def test_help_describes_format(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([command, "--help"], capsys)
    help_line = " ".join(out.split("--format", 1)[1].split())
    assert code == 0 and "json" in help_line and "for" in help_line.split("--", 1)[0]
