"""In CI (`CI=true`) a skipped test fails the run: CI installs everything the tests need,
so a skip there means a test that claims to run does not. Outside CI a skip stays a
skip, and its reason names what to install. Loaded by conftest.py (a pytest plugin)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    # A skip's longrepr is (file, line, "Skipped: reason").
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped in CI (CI=true), where nothing may be missing: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    # A module-level skip (importorskip, allow_module_level) skips at collection.
    outcome = yield
    _fail_skip(outcome.get_result())
