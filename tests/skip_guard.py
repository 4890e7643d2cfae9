"""In CI mode (REVIEWAPP_REQUIRE_SERVICES=1) a skipped test fails the run.

`tests.conftest.needs` already turns a missing service into a failure, but a future
`pytest.skip`, `skipif` or `importorskip` would still leave CI green with less tested than it
says. These hooks, imported into tests/conftest.py, close that gap for every kind of skip.
"""

import os

import pytest

# How many tests of third-party exports tests/conftest.py left out (set at collection).
THIRD_PARTY_LEFT_OUT = pytest.StashKey[int]()


def _skipped(config: pytest.Config) -> list[pytest.TestReport]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter else []


def _enforced() -> bool:
    return os.environ.get("REVIEWAPP_REQUIRE_SERVICES") == "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _enforced() and exitstatus == pytest.ExitCode.OK and _skipped(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    left_out = config.stash.get(THIRD_PARTY_LEFT_OUT, 0)
    if left_out:
        terminalreporter.line(
            f"{left_out} test(s) of real third-party exports left out: shared/data/references "
            "is absent (see tests/fixtures/README.md)."
        )
    skipped = _skipped(config)
    if not (_enforced() and skipped):
        return
    terminalreporter.section("skipped in CI mode", red=True)
    terminalreporter.line(
        f"{len(skipped)} test(s) skipped with REVIEWAPP_REQUIRE_SERVICES=1: the run fails. "
        "Install what they need, or make them call tests.conftest.needs()."
    )
    for report in skipped:
        terminalreporter.line(f"  {report.nodeid}")
