"""The PI watches the dashboard while a reviewer saves consensus data in another browser: the
forest plot and the pooled estimate change to the engine's values without a reload."""

import re

import pytest
from django.db import connection

from analysis import services, stats
from reviewapp.celery import app as celery_app
from tests.analysis.conftest import include_study, save_continuous
from tests.integration.test_analysis_worker import Workers, _broker_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
}
NEW = ((11.0, 4.0, 100), (10.0, 4.1, 98))


@pytest.fixture
def recomputation(settings, tmp_path):
    """A real worker over Redis when the services are there; in-process tasks otherwise."""
    eager = celery_app.conf.task_always_eager
    pool = None
    if connection.vendor == "postgresql" and _broker_up():
        celery_app.control.purge()
        celery_app.conf.task_always_eager = False
        pool = Workers(settings, tmp_path)
        pool.start()
    else:
        celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager
    if pool:
        pool.stop_all()


def _log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")


def _engine(rows):
    es = stats.escalc(
        "SMD",
        m1i=[r[0][0] for r in rows],
        sd1i=[r[0][1] for r in rows],
        n1i=[r[0][2] for r in rows],
        m2i=[r[1][0] for r in rows],
        sd2i=[r[1][1] for r in rows],
        n2i=[r[1][2] for r in rows],
    )
    return stats.pool(es), es


def test_the_dashboard_follows_consensus_data_saved_in_another_browser(
    live_server, browser, review, lead, screener_a, sheet, outcome, recomputation, tmp_path
):
    for label, (i, c) in DATA.items():
        save_continuous(sheet, include_study(review, label, int(label[-4:])), lead, outcome, i, c)
    new_study = include_study(review, "Rogers 2016", 2016)
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=lead)
    before, _ = _engine(list(DATA.values()))
    after, es_after = _engine([*DATA.values(), NEW])

    pi = browser.new_context().new_page()
    pi.set_default_timeout(15_000)
    _log_in(pi, live_server.url, "lead")
    pi.goto(f"{live_server.url}/reviews/{review.pk}/dashboard/")
    card = pi.locator(f'.outcome-card[data-outcome="{outcome.pk}"]')
    pooled = card.locator(".pooled-estimate")
    pooled.wait_for()
    first = f"{before.estimate:.2f} [{before.ci_lb:.2f}, {before.ci_ub:.2f}]"
    pi.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent.trim() === text",
        arg=[f'.outcome-card[data-outcome="{outcome.pk}"] .pooled-estimate', first],
    )
    pi.wait_for_function(
        f"() => document.getElementById('dash-forest-{outcome.pk}')?.data?.length > 0"
    )
    squares = (
        f"document.getElementById('dash-forest-{outcome.pk}')?.data"
        "?.find(t => t.name === 'Studies')?.x?.length"
    )
    assert pi.evaluate(squares) == 2
    pi.screenshot(path=str(tmp_path / "dashboard-before.png"), full_page=True)
    marker = pi.evaluate("window.__noReload = 1")  # survives only if the page is not reloaded
    del marker

    reviewer = browser.new_context().new_page()
    reviewer.set_default_timeout(15_000)
    _log_in(reviewer, live_server.url, "screener_a")
    reviewer.goto(
        f"{live_server.url}/reviews/{review.pk}/extraction/forms/{sheet.pk}/studies/{new_study.pk}/"
    )
    reviewer.fill('[name="arm__0__label"]', "Peer support")
    reviewer.select_option('[name="arm__0__role"]', "intervention")
    reviewer.click("#add-arm")
    reviewer.fill('[name="arm__1__label"]', "Usual care")
    reviewer.select_option('[name="arm__1__role"]', "control")
    reviewer.click(".add-outcome-row")
    for row, arm, (mean, sd, n) in ((0, "Peer support", NEW[0]), (1, "Usual care", NEW[1])):
        reviewer.fill(f'[name="o__{row}__timepoint"]', "12 months")
        reviewer.fill(f'[name="o__{row}__timepoint_weeks"]', "52")
        reviewer.fill(f'[name="o__{row}__arm"]', arm)
        reviewer.fill(f'[name="o__{row}__mean"]', str(mean))
        reviewer.fill(f'[name="o__{row}__sd"]', str(sd))
        reviewer.fill(f'[name="o__{row}__n"]', str(n))
    reviewer.click("#save")
    reviewer.wait_for_load_state()

    expected = f"{after.estimate:.2f} [{after.ci_lb:.2f}, {after.ci_ub:.2f}]"
    pi.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent.trim() === text",
        arg=[f'.outcome-card[data-outcome="{outcome.pk}"] .pooled-estimate', expected],
    )
    pi.wait_for_function(f"() => {squares} === 3")
    forest = f"document.getElementById('dash-forest-{outcome.pk}')"
    xs = sorted(pi.evaluate(f"{forest}.data.find(t => t.name === 'Studies').x"))
    assert xs == pytest.approx(sorted(es_after.yi.tolist()), abs=1e-9)
    assert pi.evaluate("window.__noReload") == 1
    assert re.search(r"k = 3", card.inner_text())
    pi.screenshot(path=str(tmp_path / "dashboard-after.png"), full_page=True)
    analysis.refresh_from_db()
    assert analysis.current_result.estimate == pytest.approx(after.estimate)

    # The analysis page: forest plot, funnel and downloads, and nothing missing now.
    pi.goto(f"{live_server.url}/reviews/{review.pk}/analyses/{analysis.pk}/")
    pi.wait_for_function("() => document.getElementById('fig-forest')?.data?.length > 0")
    assert pi.locator("#pooled-estimate").inner_text() == expected
    pi.screenshot(path=str(tmp_path / "analysis-page.png"), full_page=True)
