"""API for extraction. Thin: serializers validate, services write, selectors read."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from extraction import selectors, services, services_builder
from extraction.models import Extraction, ExtractionForm, FormField, FormSection, Outcome
from extraction.serializers import (
    AnalysisRowSerializer,
    ConsensusSerializer,
    CopySerializer,
    ExtractionSaveSerializer,
    ExtractionSerializer,
    FieldSerializer,
    FieldWriteSerializer,
    FormSerializer,
    FormWriteSerializer,
    MoveSerializer,
    OrderSerializer,
    OutcomeSerializer,
    SectionSerializer,
    TemplateSerializer,
)
from reviewapp.common.permissions import ReviewScopedAPIMixin
from reviewapp.models import Role
from screening.models import Study


def _validation_response(exc: services.ValidationFailed) -> Response:
    return Response({"detail": exc.message, **exc.errors}, status=status.HTTP_400_BAD_REQUEST)


class FormViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Extraction forms with their structure (`schema`, the same JSON as the export).
    Create from a name and mode, or import an export by sending it as `schema`."""

    serializer_class = FormSerializer

    def get_queryset(self) -> QuerySet[ExtractionForm]:
        return selectors.forms(review=self.review)

    @extend_schema(request=FormWriteSerializer, responses={201: FormSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        data = FormWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "schema" in values:
            form = services.form_import(
                review=self.review,
                data=values["schema"],
                user=request.user,
                name=values.get("name"),
            )
        else:
            form = services.form_create(
                review=self.review,
                user=request.user,
                name=values.get("name", ""),
                mode=values.get("mode", ExtractionForm.Mode.SINGLE),
                description=values.get("description", ""),
                collects_outcomes=values.get("collects_outcomes", True),
            )
        return Response(FormSerializer(form).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FormWriteSerializer, responses=FormSerializer)
    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        form = self.get_object()
        data = FormWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k != "schema"}
        form = services.form_update(form=form, user=request.user, **values)
        return Response(FormSerializer(form).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def export(self, request: Request, review_pk: int, pk: int) -> Response:
        return Response(selectors.form_schema(form=self.get_object()))

    @extend_schema(request=OrderSerializer, responses=FormSerializer)
    @action(detail=True, methods=["post"])
    def reorder(self, request: Request, review_pk: int, pk: int) -> Response:
        """Puts the form's sections in `order` (every active section's id once)."""
        form = self.get_object()
        data = OrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_builder.section_reorder(
            form=form, order=data.validated_data["order"], user=request.user
        )
        form.refresh_from_db()
        return Response(FormSerializer(form).data)

    @extend_schema(request=TemplateSerializer, responses={201: SectionSerializer})
    @action(detail=True, methods=["post"], url_path="add-template")
    def add_template(self, request: Request, review_pk: int, pk: int) -> Response:
        """Adds a template block (study characteristics, arm-level continuous or dichotomous
        outcome, organisational support) as a new section."""
        form = self.get_object()  # another review's form is a 404 before any 400
        data = TemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        section = services_builder.template_add(
            form=form, template=data.validated_data["template"], user=request.user
        )
        return Response(SectionSerializer(section).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CopySerializer, responses={201: SectionSerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="copy-in")
    def copy_in(self, request: Request, review_pk: int, pk: int) -> Response:
        """Copies a form's sections, or one section, from any review you are a member of
        (404 for a review you are not on) to the end of this form."""
        form = self.get_object()
        added = services_builder.copy_into(form=form, user=request.user, **_copy_source(request))
        return Response(SectionSerializer(added, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CopySerializer, responses={201: FormSerializer})
    @action(detail=False, methods=["post"], url_path="copy")
    def copy(self, request: Request, review_pk: int) -> Response:
        """A new form in this review with the structure of `source_form`, a form of any review
        you are a member of (404 otherwise)."""
        source = _copy_source(request).get("source_form")
        if source is None:
            raise ValidationError({"source_form": "Give the form to copy."})
        form = services_builder.form_copy(
            review=self.review,
            source=source,
            user=request.user,
            name=str(request.data.get("name") or "").strip() or None,
        )
        return Response(FormSerializer(form).data, status=status.HTTP_201_CREATED)


def _copy_source(request: Request) -> dict[str, Any]:
    data = CopySerializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    if values.get("source_section") is not None:
        section = selectors.copy_source_section(
            user=request.user, section_pk=values["source_section"]
        )
        if section is None:
            raise NotFound("No such section.")
        return {"source_section": section}
    if values.get("source_form") is not None:
        form = selectors.copy_source_form(user=request.user, form_pk=values["source_form"])
        if form is None:
            raise NotFound("No such form.")
        return {"source_form": form}
    raise ValidationError({"source_form": "Give a form or a section to copy."})


class _BuilderBlockViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Delete, move up or down, duplicate and undo a delete: the same four actions on a section
    and on a field, through services of one shape (`<kind>=` the block, `user=`). Each subclass
    names its kind and its services."""

    kind: ClassVar[str]
    block_services: ClassVar[dict[str, Callable[..., Any]]]

    def _call(self, action_name: str, item: Any, **kwargs: Any) -> Any:
        service = self.block_services[action_name]
        return service(**{self.kind: item}, user=self.request.user, **kwargs)

    def perform_destroy(self, instance: Any) -> None:
        self._call("remove", instance)

    @extend_schema(request=MoveSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, review_pk: int, pk: int) -> Response:
        item = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self._call("move", item, direction=data.validated_data["direction"])
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)

    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, review_pk: int, pk: int) -> Response:
        copy = self._call("duplicate", self.get_object())
        return Response(self.get_serializer(copy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, review_pk: int, pk: int) -> Response:
        """Undoes a delete: the block is back on the form with its answers (a section with the
        fields removed with it)."""
        item = self.get_object()
        self._call("restore", item)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data)


@extend_schema_view(duplicate=extend_schema(request=None, responses={201: SectionSerializer}))
class SectionViewSet(_BuilderBlockViewSet):
    """Sections of the review's forms. Deleting removes the section from the form; answers stay."""

    serializer_class = SectionSerializer
    kind = "section"

    block_services: ClassVar[dict[str, Callable[..., Any]]] = {
        "remove": services.section_remove,
        "move": services.section_move,
        "duplicate": services_builder.section_duplicate,
        "restore": services_builder.section_restore,
    }

    def get_queryset(self) -> QuerySet[FormSection]:
        return FormSection.objects.filter(form__review=self.review)

    def create(self, request: Request, review_pk: int) -> Response:
        data = SectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = data.validated_data["form"]
        if form.review_id != self.review.pk:
            raise NotFound("No such form.")
        section = services.section_add(
            form=form,
            title=data.validated_data["title"],
            help_text=data.validated_data.get("help_text", ""),
            user=request.user,
        )
        return Response(SectionSerializer(section).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        section = self.get_object()
        section = services.section_update(
            section=section,
            title=str(request.data.get("title", section.title)),
            help_text=str(request.data.get("help_text", section.help_text)),
            user=request.user,
        )
        return Response(SectionSerializer(section).data)

    @extend_schema(request=OrderSerializer, responses=SectionSerializer)
    @action(detail=True, methods=["post"])
    def reorder(self, request: Request, review_pk: int, pk: int) -> Response:
        """Puts the section's fields in `order` (every active field's id once)."""
        section = self.get_object()
        data = OrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services_builder.field_reorder(
            section=section, order=data.validated_data["order"], user=request.user
        )
        return Response(SectionSerializer(section).data)


@extend_schema_view(duplicate=extend_schema(request=None, responses={201: FieldSerializer}))
class FieldViewSet(_BuilderBlockViewSet):
    """Fields of the review's forms. Key and type are fixed once made; deleting a field removes
    it from the form in a new version, and its answers stay readable."""

    serializer_class = FieldSerializer
    kind = "field"

    block_services: ClassVar[dict[str, Callable[..., Any]]] = {
        "remove": services.field_remove,
        "move": services.field_move,
        "duplicate": services_builder.field_duplicate,
        "restore": services.field_restore,
    }

    def get_queryset(self) -> QuerySet[FormField]:
        return FormField.objects.filter(form__review=self.review)

    @extend_schema(request=FieldWriteSerializer, responses={201: FieldSerializer})
    def create(self, request: Request, review_pk: int) -> Response:
        data = FieldWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        section = get_object_or_404(
            FormSection, pk=values.get("section") or 0, form__review=self.review
        )
        field = services.field_add(
            section=section,
            data=services_builder.field_input(values),
            user=request.user,
        )
        return Response(FieldSerializer(field).data, status=status.HTTP_201_CREATED)

    def _move_to_section(self, field: FormField, values: Mapping[str, Any]) -> FormField:
        """A new `section` moves the field there: a section of another review is not found
        (404); one of another form of this review is refused by the service (400)."""
        section = get_object_or_404(FormSection, pk=values["section"], form__review=self.review)
        if section.pk == field.section_id:
            return field
        moved = services_builder.field_move_to_section(
            field=field, section=section, position=values.get("position"), user=self.request.user
        )
        return moved.field

    @extend_schema(request=FieldWriteSerializer, responses=FieldSerializer)
    @transaction.atomic  # a move and a change together are saved together or not at all
    def partial_update(self, request: Request, review_pk: int, pk: int) -> Response:
        field = self.get_object()
        if "section" in request.data:
            moving = FieldWriteSerializer(data={"label": field.label, **request.data})
            moving.is_valid(raise_exception=True)
            field = self._move_to_section(field, moving.validated_data)
            if set(request.data) <= {"section", "position"}:
                return Response(FieldSerializer(field).data)
        current = {
            "label": field.label,
            "help_text": field.help_text,
            "required": field.required,
            "min_value": field.min_value,
            "max_value": field.max_value,
            "unit": field.unit,
            "choices": field.choices,
            "columns": field.columns,
            "rule": field.rule,
        }
        data = FieldWriteSerializer(data={**current, **request.data})
        data.is_valid(raise_exception=True)
        field = services.field_update(
            field=field,
            data=services_builder.field_input(
                data.validated_data, field_type=request.data.get("field_type") or field.field_type
            ),
            user=request.user,
        )
        return Response(FieldSerializer(field).data)


class OutcomeViewSet(ReviewScopedAPIMixin, viewsets.ModelViewSet):
    """The review's outcomes, each with its desirable direction and timepoint rule."""

    serializer_class = OutcomeSerializer
    role_by_action = {"analysis_rows": Role.VIEWER}

    def get_queryset(self) -> QuerySet[Outcome]:
        return selectors.outcomes(review=self.review)

    def perform_create(self, serializer: OutcomeSerializer) -> None:
        serializer.instance = services.outcome_save(review=self.review, **serializer.validated_data)

    def perform_update(self, serializer: OutcomeSerializer) -> None:
        values = {
            k: serializer.validated_data.get(k, getattr(serializer.instance, k))
            for k in (
                "name",
                "outcome_type",
                "desirable_direction",
                "timepoint_rule",
                "timepoint_name",
                "effect_measure",
                "description",
                "scale_min",
                "scale_max",
            )
        }
        serializer.instance = services.outcome_save(
            review=self.review, outcome=serializer.instance, **values
        )

    def perform_destroy(self, instance: Outcome) -> None:
        services.outcome_delete(outcome=instance)

    @extend_schema(responses=AnalysisRowSerializer(many=True))
    # A plain list, not a page: the schema said paginated (found by schemathesis).
    @action(detail=True, methods=["get"], url_path="analysis-rows", pagination_class=None)
    def analysis_rows(self, request: Request, review_pk: int, pk: int) -> Response:
        """Per included study: arm-level data from consensus (or single) extraction at the
        timepoint the outcome's rule picks, or why the study's data is missing."""
        rows = selectors.analysis_rows(outcome=self.get_object())
        return Response([r.to_dict() for r in rows])


class ExtractionViewSet(
    ReviewScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Extraction records you may see: single and consensus records, your own blind records,
    and (lead, arbiter) everyone's. Save with POST: send the version you started from; a newer
    saved version answers 409 with both versions, never overwritten silently."""

    serializer_class = ExtractionSerializer
    write_role = Role.REVIEWER
    role_by_action = {"compare": Role.REVIEWER}

    def get_queryset(self) -> QuerySet[Extraction]:
        qs = selectors.visible_extractions(
            review=self.review, user=self.request.user, membership=self.membership
        )
        params = self.request.query_params
        if params.get("form", "").isdigit():
            qs = qs.filter(form_id=int(params["form"]))
        if params.get("study", "").isdigit():
            qs = qs.filter(study_id=int(params["study"]))
        return qs.prefetch_related("outcome_data")

    def _form_study(self, form_id: int, study_id: int) -> tuple[ExtractionForm, Study]:
        form = get_object_or_404(ExtractionForm, pk=form_id, review=self.review)
        study = get_object_or_404(Study, pk=study_id, review=self.review)
        return form, study

    @extend_schema(
        request=ExtractionSaveSerializer,
        responses={
            200: ExtractionSerializer,
            400: OpenApiResponse(description="Field-level errors; nothing saved"),
            409: OpenApiResponse(description="Someone saved first: `current` and `yours`"),
        },
    )
    def create(self, request: Request, review_pk: int) -> Response:
        data = ExtractionSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        form, study = self._form_study(v["form"], v["study"])
        try:
            if v["consensus"]:
                services.consensus_allowed(form=form, study=study, membership=self.membership)
            record = services.extraction_save(
                form=form,
                study=study,
                user=request.user,
                data=services.ExtractionInput(
                    answers=v["answers"],
                    arms=v["arms"],
                    outcomes=v["outcomes"],
                    notes=v["notes"],
                    complete=v["complete"],
                ),
                expected_version=v["version"],
                kind=Extraction.Kind.CONSENSUS if v["consensus"] else None,
            )
        except services.ValidationFailed as exc:
            return _validation_response(exc)
        return Response(ExtractionSerializer(record).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("form", OpenApiTypes.INT, required=True),
            OpenApiParameter("study", OpenApiTypes.INT, required=True),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=False, methods=["get"])
    def compare(self, request: Request, review_pk: int) -> Response:
        """Both independent extractions side by side with every difference flagged."""
        form_id, study_id = (
            request.query_params.get("form", ""),
            request.query_params.get("study", ""),
        )
        if not (form_id.isdigit() and study_id.isdigit()):
            return Response({"detail": "Give form and study."}, status=status.HTTP_400_BAD_REQUEST)
        form, study = self._form_study(int(form_id), int(study_id))
        services.consensus_allowed(form=form, study=study, membership=self.membership)
        c = selectors.extraction_comparison(form=form, study=study)
        return Response(
            {
                "first": ExtractionSerializer(c.first).data,
                "second": ExtractionSerializer(c.second).data,
                "consensus": ExtractionSerializer(c.consensus).data if c.consensus else None,
                "differences": c.differences,
                "fields": [
                    {
                        "key": i.field.key,
                        "label": i.field.label,
                        "first": i.first,
                        "second": i.second,
                        "agree": i.agree,
                    }
                    for i in c.items
                ],
                "arms_agree": c.arms_agree,
                "outcome_rows": [
                    {
                        "key": r.key,
                        "first": r.first,
                        "second": r.second,
                        "agree": r.agree,
                        "differing": r.differing,
                    }
                    for r in c.rows
                ],
            }
        )

    @extend_schema(
        request=ConsensusSerializer,
        responses={200: ExtractionSerializer, 409: OpenApiResponse(description="Conflict")},
    )
    @action(detail=False, methods=["post"])
    def consensus(self, request: Request, review_pk: int) -> Response:
        """Build the consensus: agreed answers as they are; for each difference `choices[key]`
        is "first" or "second", or `edits[key]` a typed value."""
        data = ConsensusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        form, study = self._form_study(v["form"], v["study"])
        try:
            record = services.consensus_build(
                form=form,
                study=study,
                user=request.user,
                membership=self.membership,
                choices=v["choices"],
                edits=v["edits"],
                expected_version=v["version"],
                complete=v["complete"],
            )
        except services.ValidationFailed as exc:
            return _validation_response(exc)
        return Response(ExtractionSerializer(record).data)
