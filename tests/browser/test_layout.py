"""Issue 11, layout: from 1280x720 up the decision buttons stay in view, even beside a long
abstract, so a mouse user never scrolls to decide."""

import pytest

from tests.factories import RecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_ABSTRACT = " ".join(
    ["Background: peer support workers share lived experience of mental illness."] * 60
)


def _in_view_and_clickable(page, selector):
    return page.evaluate(
        """sel => {
            const el = document.querySelector(sel);
            const box = el.getBoundingClientRect();
            const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            const inView = box.top >= 0 && box.bottom <= window.innerHeight;
            return inView && (hit === el || el.contains(hit));
        }""",
        selector,
    )


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_decision_buttons_are_in_view_beside_a_long_abstract(
    live_server, browser, review, screener_a, size
):
    RecordFactory(review=review, title="A long trial report", abstract=LONG_ABSTRACT)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "screener_a")
    page.fill("#id_password", "pass-word-123")
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/ta/screen/")
    page.locator("#record-title").wait_for()
    for button in (".v-include", ".v-exclude", ".v-maybe"):
        assert _in_view_and_clickable(page, button), button
    context.close()
