"""Issue 11's proof: the whole use-case review (White et al. 2020, one-to-one peer support) walked
in Chromium by a lead, two reviewers, an arbiter and a PI, each in a browser of their own.

The lead signs up, creates the review and invites the team by e-mail link; imports a RIS file;
the reviewers screen titles and abstracts by keyboard, blind; the arbiter resolves the two
conflicts by keyboard; the reviewers decide the full texts; the lead sets up the extraction form
(through the services the builder page uses) and the outcome; two studies are extracted on the
entry page and assessed for risk of bias; the lead defines an analysis; the PI watches the
dashboard's forest plot. With SCREENSHOT_DIR set, every step leaves a numbered screenshot there.
"""

import itertools
import os
import re

import pytest
from django.core import mail

from extraction.models import Extraction, Outcome
from extraction.rob.models import RobAssessment
from reviewapp.models import Membership, Review
from screening import selectors as screening_selectors
from screening.models import Record, ScreeningItem, Stage
from tests.browser.test_analysis import recomputation  # noqa: F401 -- registers the fixture
from tests.browser.test_rob import ANSWERS
from tests.conftest import FIXTURES
from tests.extraction.conftest import build_use_case_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60_000  # generous: the machine may be loaded
PASSWORD = "a-long-pass-phrase"
TEAM = {  # username: (e-mail, roles)
    "reviewer_a": ("a@uni.example", ["reviewer"]),
    "reviewer_b": ("b@uni.example", ["reviewer"]),
    "arbiter": ("arbiter@uni.example", ["arbiter"]),
    "pi": ("pi@uni.example", ["viewer"]),
}
EXCLUSION_REASONS = ["Not one-to-one peer support", "Not a randomised trial", "Not retrievable"]
# Two extracted studies: (intervention mean, SD, n), (control mean, SD, n) on quality of life.
DATA = (((10.2, 3.1, 40), (9.1, 3.3, 42)), ((8.2, 2.9, 30), (8.9, 3.0, 31)))


class Shots:
    """Numbered screenshots of every step, when SCREENSHOT_DIR names a directory."""

    def __init__(self) -> None:
        self.directory = os.environ.get("SCREENSHOT_DIR", "")
        self.counter = itertools.count(1)
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)

    def __call__(self, page, step: str) -> None:
        if self.directory:
            name = f"{next(self.counter):02d}-{step}.png"
            page.screenshot(path=os.path.join(self.directory, name), full_page=True)


def _new_page(browser):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def _sign_up(page, base, username, email):
    page.fill("#id_username", username)
    if not page.input_value("#id_email"):
        page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")


def _invite(lead, username, email, roles):
    lead.fill("#id_who", email)
    for role in roles:
        lead.check(f"form:has(#id_who) input[name=roles][value={role}]")
    lead.click("button:has-text('Invite')")
    lead.get_by_text(f"Invitation sent to {email}").wait_for()


def _study_label(record, taken):
    """'Surname year', as reviews name their studies; a letter keeps two studies apart."""
    name = record.first_author
    surname = name.split(",")[0] if "," in name else (name.split() or ["Anonymous"])[-1]
    label = f"{surname} {record.year or 'n.d.'}"
    for letter in "abcdefgh":
        if label not in taken:
            return label
        label = f"{surname} {record.year or 'n.d.'}{letter}"
    raise AssertionError(f"no free label for record {record.pk}")


def _record_pk(page):
    """The pk of the record on the screening page, or None once the queue is empty."""
    if page.locator("#queue-empty").count():
        return None
    text = page.locator("#screen-record article p.muted").first.inner_text()
    return int(re.match(r"Record (\d+)", text)[1])


def _wait_past(page, pk):
    """Wait until the screening page shows another record than `pk` (or the empty queue)."""
    page.wait_for_function(
        "pk => { const m = document.querySelector('#screen-record article p.muted');"
        " return document.querySelector('#queue-empty') !== null"
        " || (m !== null && !m.textContent.startsWith('Record ' + pk + ' ')); }",
        arg=pk,
    )


def _screen_all(page, keys_for):
    """Screen the reviewer's whole queue by keyboard; keys_for(pk) gives the keys to press."""
    seen = []
    while (pk := _record_pk(page)) is not None:
        assert pk not in seen, f"record {pk} came back"
        seen.append(pk)
        for key in keys_for(pk):
            page.keyboard.press(key)
        _wait_past(page, pk)
    return seen


def test_the_use_case_review_from_search_results_to_the_forest_plot(
    live_server,
    browser,
    settings,
    recomputation,  # noqa: F811 -- the fixture imported above
):
    settings.SITE_URL = base = live_server.url
    shot = Shots()

    # --- The lead signs up and creates the review. ---
    lead = _new_page(browser)
    lead.goto(f"{base}/accounts/signup/")
    _sign_up(lead, base, "lead", "lead@uni.example")
    lead.get_by_text("not on any review yet").wait_for()
    lead.click("text=Create your first review")
    lead.fill("#id_title", "One-to-one peer support in mental health services")
    lead.fill("#id_protocol_registration", "CRD42015025621")
    lead.fill(
        "#id_inclusion_criteria",
        "Randomised controlled trials\nOne-to-one support by a peer worker\nMental health focus",
    )
    lead.fill("#id_exclusion_criteria", "\n".join(EXCLUSION_REASONS))
    shot(lead, "lead-creates-the-review")
    lead.click("button:has-text('Create review')")
    lead.get_by_role("heading", name="One-to-one peer support in mental health services").wait_for()
    review = Review.objects.get()
    home = f"{base}/reviews/{review.pk}"
    shot(lead, "review-created")

    # --- The lead invites the team; each follows the link in the e-mail and signs up. ---
    lead.goto(f"{home}/team/")
    pages = {}
    for username, (email, roles) in TEAM.items():
        _invite(lead, username, email, roles)
        link = re.search(r"http\S+/invitations/\S+/", mail.outbox[-1].body)[0]
        member = pages[username] = _new_page(browser)
        member.goto(link)
        member.get_by_role("heading", name=f"Join “{review.title}”").wait_for()
        member.click("text=Create an account")
        assert member.input_value("#id_email") == email
        _sign_up(member, base, username, email)
        member.get_by_text(f"You joined '{review.title}'").wait_for()
        shot(member, f"{username}-joined")
    lead.goto(f"{home}/team/")
    shot(lead, "team")
    roles = {m.user.username: sorted(m.roles) for m in Membership.objects.filter(review=review)}
    assert roles == {"lead": ["lead"], **{u: sorted(r) for u, (_, r) in TEAM.items()}}
    a, b, arbiter, pi = (pages[u] for u in TEAM)

    # --- Import the search results. ---
    lead.goto(f"{home}/imports/")
    lead.set_input_files("#id_file", str(FIXTURES / "donners_sample.ris"))
    lead.fill("#id_source_database", "MEDLINE (Ovid)")
    lead.click("button:has-text('Upload and import')")
    lead.get_by_role("heading", name="Import finished").wait_for()
    assert lead.inner_text("#records-imported") == "21"
    shot(lead, "import-finished")

    # --- Title/abstract settings: two blind reviewers, reasons for the arbiter. ---
    lead.goto(f"{home}/screening/ta/settings/")
    lead.select_option("#id_reviewers_required", "2")
    lead.check("#id_blind")
    lead.select_option("#id_order", "import")
    lead.fill("#id_exclusion_reasons", "\n".join(EXCLUSION_REASONS[:2]))
    lead.click("button:has-text('Save settings')")
    lead.wait_for_url(lambda url: "/settings/" not in url)

    records = list(
        Record.objects.filter(review=review, duplicate_of=None).order_by("pk").values_list("pk")
    )
    pks = [pk for (pk,) in records]
    assert len(pks) == 20
    agreed, a_only, b_only = pks[:3], pks[3], pks[4]

    def keys_a(pk):
        return ["i"] if pk in agreed or pk == a_only else ["e"]

    def keys_b(pk):
        return ["i"] if pk in agreed or pk == b_only else ["e"]

    # --- Both reviewers screen by keyboard, blind, in two browsers at once. ---
    ta = f"{home}/screening/ta/screen/"
    a.goto(ta)
    b.goto(ta)
    shot(a, "reviewer-a-screens")
    assert "reviewer_b" not in b.inner_text("#screen-record")
    assert sorted(_screen_all(a, keys_a)) == pks
    shot(a, "reviewer-a-done")
    assert sorted(_screen_all(b, keys_b)) == pks
    shot(b, "reviewer-b-done")
    statuses = dict(
        ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT).values_list("record", "status")
    )
    assert [pk for pk in pks if statuses[pk] == "conflict"] == [a_only, b_only]

    # --- The arbiter resolves the two conflicts by keyboard, in place. ---
    arbiter.goto(f"{home}/screening/ta/conflicts/")
    cards = arbiter.locator("[data-conflict]")
    cards.first.wait_for()
    order = [int(i.split("-")[1]) for i in cards.evaluate_all("cs => cs.map(c => c.id)")]
    assert sorted(order) == [a_only, b_only]
    shot(arbiter, "conflicts")
    arbiter.evaluate("() => { window.__sameDocument = true; }")
    for pk in order:
        if pk == a_only:
            arbiter.keyboard.press("i")
        else:
            arbiter.keyboard.press("1")
            arbiter.keyboard.press("e")
        arbiter.locator(f"#conflict-{pk}").filter(has_text="Resolved as").wait_for()
    # The last resolution may move the focus; j/k walk the list without a page load.
    arbiter.keyboard.press("k")
    arbiter.keyboard.press("j")
    assert arbiter.evaluate("() => window.__sameDocument") is True
    shot(arbiter, "conflicts-resolved")
    items = {i.record_id: i for i in ScreeningItem.objects.filter(stage=Stage.TITLE_ABSTRACT)}
    assert items[a_only].final_verdict == "include"
    assert (items[b_only].final_verdict, items[b_only].final_reason) == (
        "exclude",
        EXCLUSION_REASONS[0],
    )
    included_ta = [*agreed, a_only]

    # --- Full texts: the lead attaches the PDFs and links each report to its study. ---
    lead.goto(f"{home}/screening/full-texts/")
    labels = {}
    for pk in included_ta:
        card = lead.locator(f"#report-{pk}")
        card.locator(f"#pdf-{pk}").set_input_files(
            files=[
                {
                    "name": f"report-{pk}.pdf",
                    "mimeType": "application/pdf",
                    "buffer": b"%PDF-1.4\n%%EOF\n",
                }
            ]
        )
        card.locator("button:has-text('Upload')").click()
        lead.get_by_text(f"PDF attached to record {pk}.").wait_for()
        labels[pk] = _study_label(Record.objects.get(pk=pk), taken=labels.values())
        card = lead.locator(f"#report-{pk}")
        card.locator(f"#study-{pk}").fill(labels[pk])
        card.locator("button:has-text('Link')").click()
        lead.get_by_text(f"Record {pk} is a report of {labels[pk]}.").wait_for()
    shot(lead, "full-texts")

    # Both reviewers decide the full texts by keyboard: three in, one out (same reason).
    ft = f"{home}/screening/ft/screen/"
    for reviewer in (a, b):
        reviewer.goto(ft)
        shot(reviewer, "full-text-screening")
        decided = _screen_all(reviewer, lambda pk: ["2"] if pk == a_only else ["i"])
        assert sorted(decided) == sorted(included_ta)
    studies = list(screening_selectors.included_studies(review=review))
    assert sorted(s.label for s in studies) == sorted(labels[pk] for pk in agreed)
    lead.goto(f"{home}/prisma/")
    assert lead.inner_text("[data-box=reports_sought]") == "4"
    shot(lead, "prisma")

    # --- Extraction: the lead's outcome and form; two studies extracted on the entry page. ---
    lead.goto(f"{home}/extraction/outcomes/")
    lead.fill("#outcome-form [name=name]", "Quality of life")
    lead.select_option("#outcome-form [name=outcome_type]", "continuous")
    lead.select_option("#outcome-form [name=desirable_direction]", "higher")
    lead.click("#outcome-form button[type=submit]")
    lead.get_by_text("Outcome 'Quality of life' saved").wait_for()
    outcome = Outcome.objects.get(review=review)
    form = build_use_case_form(review, review.memberships.get(user__username="lead").user)
    lead.goto(f"{home}/extraction/forms/{form.pk}/")
    shot(lead, "extraction-form")

    extracted = studies[:2]
    for study, (intervention, control) in zip(extracted, DATA, strict=True):
        a.goto(f"{home}/extraction/forms/{form.pk}/studies/{study.pk}/")
        a.select_option("#a-design", "Individually randomised")
        a.check("input[name=a__setting][value='Community services']")
        a.fill("#a-n_randomised", str(intervention[2] + control[2]))
        a.select_option("#a-peer_role", "In addition to care as usual")
        for key in ("peer_training", "peer_supervision"):
            a.check(f"input[name=a__{key}][value=yes]")
        a.check("input[name=a__peer_integrated][value=no]")
        a.wait_for_function(
            "() => document.getElementById('a-org_support').textContent === 'higher'"
        )
        a.fill("[name=arm__0__label]", "Peer support")
        a.select_option("[name=arm__0__role]", "intervention")
        a.click("#add-arm")
        a.fill("[name=arm__1__label]", "Usual care")
        a.select_option("[name=arm__1__role]", "control")
        a.click(".add-outcome-row")
        for row, arm, (mean, sd, n) in (
            (0, "Peer support", intervention),
            (1, "Usual care", control),
        ):
            a.fill(f"[name=o__{row}__timepoint]", "12 months")
            a.fill(f"[name=o__{row}__timepoint_weeks]", "52")
            a.fill(f"[name=o__{row}__arm]", arm)
            a.fill(f"[name=o__{row}__mean]", str(mean))
            a.fill(f"[name=o__{row}__sd]", str(sd))
            a.fill(f"[name=o__{row}__n]", str(n))
        a.check("#complete")
        shot(a, f"extraction-{study.pk}")
        a.keyboard.press("Control+s")
        a.get_by_text("complete (version").wait_for()
        shot(a, f"extraction-{study.pk}-saved")
    assert Extraction.objects.filter(study__in=extracted, status="complete").count() == len(
        extracted
    )

    # --- Risk of bias: the lead adds RoB 2; reviewer A assesses the two studies. ---
    lead.goto(f"{home}/rob/")
    lead.select_option("#tool-form [name=kind]", "rob2")
    lead.click("#tool-form button[type=submit]")
    lead.wait_for_url(lambda url: re.search(r"/rob/tools/\d+/$", url) is not None)
    tool_url = lead.url
    shot(lead, "rob-tool")
    for study in extracted:
        a.goto(tool_url)
        a.locator(f"#rob-grid tr:has-text('{study.label}')").get_by_role(
            "link", name="Assess"
        ).click()
        a.get_by_role("heading", name=f"{study.label} · Quality of life").wait_for()
        for qid, value in ANSWERS.items():
            a.select_option(f"#q-{qid}", value)
        a.wait_for_function(
            "() => document.querySelector('#proposed-overall').dataset.j === 'High'"
        )
        shot(a, f"rob-{study.pk}")
        a.click("button[value=complete]")
        a.get_by_text("complete (version").wait_for()
    assert RobAssessment.objects.filter(status="complete").count() == 2

    # --- The lead defines the analysis; the PI watches the dashboard's forest plot. ---
    lead.goto(f"{home}/analyses/")
    analysis_form = lead.locator("form:has(select[name=preset])").first
    analysis_form.locator("select[name=outcome]").select_option(str(outcome.pk))
    analysis_form.locator("input[name=name]").fill("Quality of life, random effects")
    analysis_form.locator("input[name=intervention_label]").fill("peer support")
    shot(lead, "analysis-definition")
    analysis_form.locator("button[type=submit]").click()
    lead.wait_for_url("**/analyses/*/")
    lead.wait_for_function("() => document.getElementById('fig-forest')?.data?.length > 0")
    shot(lead, "analysis")

    pi.goto(f"{home}/dashboard/")
    pi.wait_for_function(
        f"() => document.getElementById('dash-forest-{outcome.pk}')?.data"
        "?.find(t => t.name === 'Studies')?.x?.length === 2"
    )
    assert "k = 2" in pi.locator(f'.outcome-card[data-outcome="{outcome.pk}"]').inner_text()
    shot(pi, "pi-dashboard")
    # The PI reads; the screening page refuses a viewer.
    response = pi.goto(f"{home}/screening/ta/screen/")
    assert response.status == 403
