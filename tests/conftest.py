"""Shared fixtures: every test starts with an empty secret registry (ringrx_iac.redact)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringrx_iac import redact


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    redact.clear()
    yield
    redact.clear()
