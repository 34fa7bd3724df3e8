"""One table of diagnostic codes: every ``RRXnnn`` the package emits is in ``diagnostics.codes``."""

from __future__ import annotations

import re
from pathlib import Path

from ringrx_iac.diagnostics.codes import RULES

PACKAGE = Path(__file__).parents[1] / "ringrx_iac"
TABLE = PACKAGE / "diagnostics" / "codes.py"


def test_every_code_in_the_package_is_in_the_table() -> None:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == TABLE:
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"RRX\d{3}", text):
            if match.group() not in RULES:
                line = text.count("\n", 0, match.start()) + 1
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {match.group()}")
    assert not missing, "add these codes to ringrx_iac/diagnostics/codes.py:\n" + "\n".join(missing)


def test_plan_time_codes_are_in_the_table() -> None:
    plan_time = [code for code in RULES if code.startswith("RRX7")]
    assert {"RRX702", "RRX706", "RRX710", "RRX711", "RRX720", "RRX721"} <= set(plan_time)
