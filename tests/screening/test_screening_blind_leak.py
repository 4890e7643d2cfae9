"""Blind mode: nothing another screener can fetch changes when screener_a votes on a record that
does not have all its votes yet. Every HTML page and every API GET in the URLconf and the
OpenAPI schema is fetched before and after screener_a's votes, and the answers must be
identical (after removing the per-request CSRF tokens); once the record is complete, the votes
show. Checked for screener_b and for a lead who also screens (probe finding 2: the lead's
history page showed the vote), and only counted if at least MIN_VISIBLE pages answer 200, so a
layer that starts refusing everything cannot pass it."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from reviewapp.models import Membership
from screening.models import Decision
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

SECRET_NOTE = "secret-note-of-screener-a"
SECRET_TAG = "secret-tag-a"
MIN_VISIBLE = 50


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _expand(route: str, values: dict[str, list[str]]) -> list[str]:
    paths = ["/" + route.replace("^", "").replace("$", "").replace("\\Z", "")]
    for name, options in values.items():
        pattern = re.compile(r"<(?:\w+:)?" + name + r">|\{" + name + r"\}")
        paths = (
            [pattern.sub(o, p, count=1) for p in paths for o in options]
            if any(pattern.search(p) for p in paths)
            else paths
        )
    generic = re.compile(r"<(?:\w+:)?\w+>|\{\w+\}")
    return [generic.sub("1", p) for p in paths]


_TOKENS = [
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'),
    re.compile(r'"X-CSRFToken": "[^"]+"'),
]


def _normal(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    for token in _TOKENS:
        text = token.sub("", text)
    return text


def _snapshot(client, urls):
    return {u: (r.status_code, _normal(r.content)) for u in urls for r in [client.get(u)]}


@pytest.fixture
def setting(review, lead):
    stage_settings_update(
        review=review,
        stage="ft",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT"],
        votes_need_pdf=False,
    )


@pytest.fixture(params=["screener_b", "screening_lead"])
def watcher(request, review, lead, screener_b):
    """Who must learn nothing: the other screener, or a lead who screens too."""
    if request.param == "screener_b":
        return screener_b
    Membership.objects.filter(review=review, user=lead).update(is_reviewer=True)
    return lead


def test_nothing_another_screener_can_fetch_reveals_screener_a_votes_before_completion(
    client, review, lead, setting, screener_a, screener_b, arbiter, watcher
):
    ta_record, other = RecordFactory.create_batch(2, review=review)
    ft_record = RecordFactory(review=review)
    for user in (screener_a, screener_b):
        decision_record(record=ft_record, stage="ta", reviewer=user, verdict="include")
    last = Decision.objects.order_by("-id").first().pk
    future_ids = [str(last + n) for n in (1, 2, 3)]
    values = {
        "review_pk": [str(review.pk)],
        "record_pk": [str(ta_record.pk), str(ft_record.pk)],
        "pk": [str(ta_record.pk), str(ft_record.pk), *future_ids],
        "stage": ["ta", "ft"],
        "queue": ["to_screen", "awaiting", "conflict", "resolved"],
    }
    pages = [
        p
        for r in _walk(get_resolver().url_patterns)
        if "review_pk" in r and not r.startswith("api/")
        for p in _expand(r, values)
    ]
    schema = SchemaGenerator().get_schema(request=None, public=True)
    api = [
        p
        for path, ops in schema["paths"].items()
        if "{review_pk}" in path and "get" in ops
        for p in _expand(path.lstrip("/"), values)
    ]
    extra = []
    for stage, record in (("ta", ta_record), ("ft", ft_record)):
        extra.append(f"/reviews/{review.pk}/screening/{stage}/screen/?record={record.pk}")
        for outcome in ("", "include", "exclude", "conflict", "pending"):
            for fmt in ("csv", "ris"):
                extra.append(
                    f"/reviews/{review.pk}/screening/{stage}/export/?outcome={outcome}&format={fmt}"
                )
        extra.append(f"/api/reviews/{review.pk}/screening/decisions/?record={record.pk}")
        extra.append(f"/api/reviews/{review.pk}/screening/conflicts/?status=resolved")
    urls = sorted(set(pages + api + extra))
    assert len(urls) > 60

    client.force_login(watcher)
    before = _snapshot(client, urls)
    visible = [u for u in urls if before[u][0] == 200]
    assert len(visible) >= MIN_VISIBLE, f"only {len(visible)} pages answer {watcher} with 200"
    decision_record(
        record=ta_record,
        stage="ta",
        reviewer=screener_a,
        verdict="include",
        note=SECRET_NOTE,
        tags=[SECRET_TAG],
    )
    decision_record(
        record=ft_record,
        stage="ft",
        reviewer=screener_a,
        verdict="exclude",
        reason="Not an RCT",
        note=SECRET_NOTE,
        tags=[SECRET_TAG],
    )
    a_ids = set(
        Decision.objects.filter(reviewer=screener_a, stage="ft").values_list("pk", flat=True)
    )
    a_ids |= set(Decision.objects.filter(record=ta_record).values_list("pk", flat=True))
    assert {str(i) for i in a_ids} <= set(future_ids)
    after = _snapshot(client, urls)

    changed = [u for u in urls if before[u] != after[u]]
    assert changed == [], {u: (before[u], after[u]) for u in changed[:3]}
    assert all(SECRET_NOTE not in body for _, body in after.values())
    assert len([u for u in urls if after[u][0] == 200]) >= MIN_VISIBLE

    # Once the watcher votes, the record is complete and screener_a's vote shows.
    decision_record(record=ta_record, stage="ta", reviewer=watcher, verdict="exclude")
    page = client.get(f"/reviews/{review.pk}/screening/ta/screen/?record={ta_record.pk}")
    assert SECRET_NOTE in page.content.decode()
    votes = client.get(f"/api/reviews/{review.pk}/screening/decisions/?record={ta_record.pk}")
    assert {d["reviewer"] for d in votes.json()["results"]} == {"screener_a", watcher.username}
    if watcher == lead:
        entries = client.get(f"/reviews/{review.pk}/history/").context["entries"]
        # screener_a's vote and the lead's own on ta_record; not the votes on ft_record at
        # title and abstract (complete, but the lead screened none of them).
        assert sum(e.what == "Screening vote" for e in entries) == 2


def test_without_blind_mode_votes_show_at_once(client, review, lead, screener_a, screener_b):
    stage_settings_update(
        review=review, stage="ta", reviewers_required=2, blind=False, exclusion_reasons=[]
    )
    record = RecordFactory(review=review)
    decision_record(
        record=record, stage="ta", reviewer=screener_a, verdict="include", note=SECRET_NOTE
    )
    client.force_login(screener_b)
    page = client.get(f"/reviews/{review.pk}/screening/ta/screen/?record={record.pk}")
    assert SECRET_NOTE in page.content.decode()
