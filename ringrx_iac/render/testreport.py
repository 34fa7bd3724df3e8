"""``ringrx-iac test`` output: pytest-like text, and JUnit XML for CI dashboards."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

from ringrx_iac.webhook.runner import TestResult, summary_counts

Style = Callable[[str, str], str]
_WIDTH = 80
_COLORS = {"passed": "green", "failed": "red", "error": "red"}
_WORDS = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR"}


def result_line(result: TestResult, file: str, style: Style) -> str:
    """``tests.yaml::name PASSED (200, 12 ms)``."""
    word = style(_WORDS[result.outcome], _COLORS[result.outcome])
    detail = ""
    if result.answers:
        last = result.answers[-1]
        statuses = ", ".join(str(a.status) for a in result.answers)
        detail = f" ({statuses}; {last.elapsed_ms:.0f} ms)"
    return f"{file}::{result.test.name} {word}{detail}"


def banner(text: str, fill: str = "=") -> str:
    text = f" {text} " if text else ""
    side = max(3, (_WIDTH - len(text)) // 2)
    return f"{fill * side}{text}{fill * side}"


def failures(results: list[TestResult], style: Style) -> str:
    """The FAILURES section: for each test that did not pass, where it was sent and why."""
    bad = [r for r in results if r.outcome != "passed"]
    if not bad:
        return ""
    lines = [style(banner("FAILURES"), "red")]
    for r in bad:
        lines.append(style(banner(r.test.name, "_"), "red"))
        lines.append(f"{r.test.location}: callback {r.test.callback!r}")
        lines.append(f"POST {r.url}")
        lines.append(r.message)
    return "\n".join(lines) + "\n"


def summary(results: list[TestResult], seconds: float, style: Style) -> str:
    """``===== 1 failed, 2 passed in 0.12s =====`` (pytest's order and wording)."""
    counts = summary_counts(results)
    parts = []
    for key, word in (("failed", "failed"), ("error", "error"), ("passed", "passed")):
        n = counts[key]
        if n:
            plural = "errors" if key == "error" and n != 1 else word
            parts.append(f"{n} {plural}")
    text = ", ".join(parts) or "no tests ran"
    color = "green" if counts["failed"] == counts["error"] == 0 else "red"
    return style(banner(f"{text} in {seconds:.2f}s"), color) + "\n"


def junit_xml(results: list[TestResult], file: str, seconds: float, suite: str) -> str:
    """JUnit XML (``testsuites`` > ``testsuite`` > ``testcase``), as CI dashboards read it."""
    counts = summary_counts(results)
    root = ET.Element(
        "testsuites",
        name="ringrx-iac test",
        tests=str(len(results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        time=f"{seconds:.3f}",
    )
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped="0",
        time=f"{seconds:.3f}",
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - seconds)),
    )
    for r in results:
        case = ET.SubElement(
            ts,
            "testcase",
            classname=file,
            name=r.test.name,
            time=f"{r.elapsed_s:.3f}",
        )
        if r.outcome != "passed":
            tag = "failure" if r.outcome == "failed" else "error"
            first_line = r.message.split("\n", 1)[0]
            element = ET.SubElement(case, tag, message=first_line, type=tag)
            element.text = (
                f"{r.test.location}: callback {r.test.callback!r}\nPOST {r.url}\n{r.message}"
            )
        out = ET.SubElement(case, "system-out")
        out.text = f"callback: {r.test.callback}\nurl: {r.url}\n" + "".join(
            f"answer {i}: {a.status} in {a.elapsed_ms:.0f} ms\n" for i, a in enumerate(r.answers, 1)
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
