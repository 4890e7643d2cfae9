"""CI (REVIEWAPP_REQUIRE_SERVICES=1) never goes green with something left untested."""

import pytest

from tests.conftest import REPO, needs

# One test per way a test can skip itself.
SKIPPING = """
def test_skip():
    pytest.skip("no R here")


@pytest.mark.skipif(True, reason="no R here")
def test_skipif():
    pass


def test_importorskip():
    pytest.importorskip("no_such_module_here")


@pytest.fixture
def r():
    pytest.skip("no R here")


def test_skip_in_a_fixture(r):
    pass
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *, ci: bool):
    pytester.makeconftest(
        "from tests.skip_guard import pytest_sessionfinish, pytest_terminal_summary\n"
    )
    pytester.makepyfile(test_sample="import pytest\n\n\ndef test_fine():\n    pass\n" + SKIPPING)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("REVIEWAPP_REQUIRE_SERVICES", "1" if ci else "0")
    return pytester.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider")


def test_any_skipped_test_fails_the_run_in_ci_mode(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, ci=True)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*skipped in CI mode*", "*4 test(s) skipped*"])
    for name in ("test_skip", "test_skipif", "test_importorskip", "test_skip_in_a_fixture"):
        result.stdout.fnmatch_lines([f"*test_sample.py::{name}"])


def test_skipped_tests_only_skip_outside_ci(pytester, monkeypatch):
    result = _run(pytester, monkeypatch, ci=False)

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=4)
    assert "skipped in CI mode" not in result.stdout.str()


def test_needs_fails_in_ci_mode(monkeypatch):
    monkeypatch.setenv("REVIEWAPP_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="CI requires this: R is not installed"):
        needs(False, "R is not installed")


def test_needs_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("REVIEWAPP_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="R is not installed"):
        needs(False, "R is not installed")
    needs(True, "never raised")


def test_ci_lints_and_type_checks_before_the_tests_and_installs_what_they_need():
    script = (REPO / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines()]
    order = [commands.index(c) for c in ("make lint", "make typecheck", "make test")]
    assert order == sorted(order)
    assert "set -euo pipefail" in commands  # a failing lint or mypy stops the run
    for package in ("r-cran-metafor", "r-cran-clubsandwich", "chromium", "docker-compose"):
        assert package in script
    assert "export REVIEWAPP_REQUIRE_SERVICES=1" in script
    assert '"$status" -eq 5' in script  # pytest collecting nothing fails too


def test_property_tests_have_no_time_limit():
    # A per-example deadline is a timed assertion: on a busy CI machine it fails at random.
    from hypothesis import settings as hypothesis_settings

    assert hypothesis_settings.default.deadline is None
