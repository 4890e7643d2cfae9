"""A review with one of everything (records, votes, a conflict, a full text, studies, a form,
extractions, outcomes, risk of bias, an analysis, a pending invitation), built through the
services, and the real ids of its objects by the URL keyword each one fills.

The route-walking permission tests put these ids into every URL, so that a 404 means the
permission layer refused, not that no such row exists.
"""

import csv
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import services as analysis_services
from extraction import services as extraction
from extraction.models import ExtractionForm, FieldType
from extraction.rob import services as rob
from extraction.rob.models import RobTool
from reviewapp import services as team
from screening import services_screening as screening
from screening.models import (
    Decision,
    DedupAction,
    ImportBatch,
    PossibleDuplicate,
    Record,
    ScreeningItem,
    Stage,
    Study,
    Verdict,
)
from screening.references.dedup import PossiblePair
from tests.factories import MembershipFactory, RecordFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class Populated:
    review: Any
    lead: Any
    reviewer_a: Any
    reviewer_b: Any
    viewer: Any
    # URL keyword -> an id of this review's object of that kind (pages name their keywords;
    # the API's {id} is named by the collection before it, see API_COLLECTIONS).
    ids: dict[str, int]


# The API's detail routes are /<collection>/{id}/...: which keyword's id each one takes.
API_COLLECTIONS = {
    "members": "membership_pk",
    "invitations": "invitation_pk",
    "imports": "batch_pk",
    "records": "record_pk",
    "dedup-actions": "action_pk",
    "possible-duplicates": "possible_pk",
    "screening/decisions": "decision_pk",
    "screening/conflicts": "item_pk",
    "screening/full-texts": "fulltext_record_pk",
    "extraction-forms": "form_pk",
    "extraction-sections": "section_pk",
    "extraction-fields": "field_pk",
    "outcomes": "outcome_pk",
    "extractions": "extraction_pk",
    "rob/tools": "tool_pk",
    "rob/assessments": "assessment_pk",
    "analyses": "analysis_pk",
    "grades": "outcome_pk",
}

# Values for the string keywords, valid on every review.
STRING_KWARGS = {"stage": "ta", "queue": "awaiting", "kind": "csv"}
# Where a page's keyword needs a particular value (or another object's id, named by its key).
PAGE_STRING_KWARGS = {
    ("extraction/export/", "kind"): "wide",
    ("screening/full-texts/", "record_pk"): "fulltext_record_pk",
}


def populate(prefix: str = "other") -> Populated:
    lead = UserFactory(username=f"{prefix}_lead")
    review = team.review_create(created_by=lead, title=f"The {prefix} team's review")
    reviewer_a, reviewer_b = (
        MembershipFactory(
            review=review, user=UserFactory(username=f"{prefix}_{n}"), is_reviewer=True
        ).user
        for n in ("a", "b")
    )
    viewer = MembershipFactory(review=review, user=UserFactory(username=f"{prefix}_viewer")).user
    invitation = team.membership_invite(
        review=review, invited_by=lead, who=f"new@{prefix}.example", roles=["reviewer"]
    )
    screening.stage_settings_update(
        review=review,
        stage=Stage.FULL_TEXT,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=["Not an RCT"],
    )

    # Screening: a conflict, a duplicate merged by hand, a record included with its PDF.
    conflict, duplicate, included = RecordFactory.create_batch(3, review=review)
    screening.decision_record(
        record=conflict, stage=Stage.TITLE_ABSTRACT, reviewer=reviewer_a, verdict="include"
    )
    screening.decision_record(
        record=conflict, stage=Stage.TITLE_ABSTRACT, reviewer=reviewer_b, verdict="exclude"
    )
    item = ScreeningItem.objects.get(record=conflict, stage=Stage.TITLE_ABSTRACT)
    from screening import services as library

    action = library.dedup_merge(record=duplicate, other=included, user=lead)
    for user in (reviewer_a, reviewer_b):
        screening.decision_record(
            record=included, stage=Stage.TITLE_ABSTRACT, reviewer=user, verdict="include"
        )
    screening.fulltext_attach(
        record=included, pdf=SimpleUploadedFile("paper.pdf", PDF), user=reviewer_a
    )
    for user in (reviewer_a, reviewer_b):
        screening.decision_record(
            record=included, stage=Stage.FULL_TEXT, reviewer=user, verdict="include"
        )
    screening.study_link_report(record=included, new_label="Aronson 1948")

    # Extraction, risk of bias and an analysis over three BCG trials, entered as included.
    form = extraction.form_create(
        review=review, name="Trial sheet", user=lead, mode=ExtractionForm.Mode.SINGLE
    )
    section = extraction.section_add(form=form, title="Design", user=lead)
    field = extraction.field_add(
        section=section,
        data=extraction.FieldInput(label="Latitude", key="ablat", field_type=FieldType.DECIMAL),
        user=lead,
    )
    outcome = extraction.outcome_save(
        review=review, name="Tuberculosis", outcome_type="dichotomous", desirable_direction="lower"
    )
    batch = ImportBatch.objects.filter(review=review).first()
    bcg = settings.BASE_DIR / "reviewapp" / "demo_data" / "dat_bcg.csv"
    with open(bcg, newline="", encoding="utf-8") as fh:
        trials = list(csv.DictReader(fh))[:3]
    studies = [Study.objects.get(review=review, label="Aronson 1948")]
    for trial in trials[1:]:
        study = Study.objects.create(review=review, label=f"{trial['author']} {trial['year']}")
        record = Record.objects.create(
            review=review, import_batch=batch, title=study.label, study=study, source_line=1
        )
        for stage in Stage.values:
            ScreeningItem.objects.create(
                review=review, record=record, stage=stage, votes=2,
                status=ScreeningItem.Status.DECIDED, final_verdict=Verdict.INCLUDE,
            )  # fmt: skip
        studies.append(study)
    extractions = []
    for study, trial in zip(studies, trials, strict=True):
        tpos, tneg, cpos, cneg = (int(trial[k]) for k in ("tpos", "tneg", "cpos", "cneg"))
        arms = [{"label": "BCG", "role": "intervention"}, {"label": "No", "role": "control"}]
        rows = [
            {"outcome": outcome.pk, "timepoint": "end", "arm": arm, "events": e, "total": n}
            for arm, e, n in (("BCG", tpos, tpos + tneg), ("No", cpos, cpos + cneg))
        ]
        extractions.append(
            extraction.extraction_save(
                form=form,
                study=study,
                user=lead,
                expected_version=0,
                data=extraction.ExtractionInput(
                    answers={"ablat": trial["ablat"]}, arms=arms, outcomes=rows, complete=True
                ),
            )
        )
    tool = rob.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB2)
    assessment = rob.assessment_open(tool=tool, study=studies[0], outcome=outcome, user=lead)
    analysis = analysis_services.analysis_create(
        review=review, outcome=outcome, created_by=lead, name="Risk ratio", measure="RR"
    )
    analysis_services.grade_save(outcome=outcome, updated_by=lead, ratings={}, reasons={})
    # A pair for the possible-duplicates queue, left open.
    near = RecordFactory(review=review, title=f"{conflict.title} (a near copy)")
    library.possible_pairs_store(
        review_id=review.pk, pairs=[PossiblePair(a=conflict.pk, b=near.pk, reason="similar")]
    )
    ids = {
        "review_pk": review.pk,
        "membership_pk": review.memberships.get(user=reviewer_a).pk,
        "invitation_pk": invitation.pk,
        "record_pk": conflict.pk,
        "fulltext_record_pk": included.pk,
        "batch_pk": batch.pk if batch else 0,
        "action_pk": DedupAction.objects.get(pk=action.pk).pk,
        "item_pk": item.pk,
        "decision_pk": Decision.objects.get(record=conflict, reviewer=reviewer_b).pk,
        "form_pk": form.pk,
        "section_pk": section.pk,
        "field_pk": field.pk,
        "outcome_pk": outcome.pk,
        "study_pk": studies[0].pk,
        "extraction_pk": extractions[0].pk,
        "tool_pk": tool.pk,
        "assessment_pk": assessment.pk,
        "analysis_pk": analysis.pk,
        "possible_pk": PossibleDuplicate.objects.get(review=review).pk,
    }
    return Populated(review, lead, reviewer_a, reviewer_b, viewer, ids)
