"""The seams between the stages hold: stages talk through reviewapp.events, not through model
signals or string imports, and the import contracts of docs/architecture.md are kept."""

from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import signals
from importlinter.cli import lint_imports

from analysis import receivers
from reviewapp import events

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("reviewapp", "screening", "extraction", "analysis")
MODEL_SIGNALS = {
    "pre_save": signals.pre_save,
    "post_save": signals.post_save,
    "pre_delete": signals.pre_delete,
    "post_delete": signals.post_delete,
    "m2m_changed": signals.m2m_changed,
}


def _ours(obj) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.split(".")[0] in OUR_PACKAGES


def test_no_model_signal_of_ours_carries_domain_logic():
    """A write that skips `save()` (a bulk write, an `.update()`) would silently skip a signal
    receiver: domain reactions go through the services' events instead. History
    (django-simple-history) is the only listener left on our models."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if not _ours(model):
            continue
        for name, signal in MODEL_SIGNALS.items():
            sync, async_ = signal._live_receivers(model)
            found += [f"{name} {model.__name__}: {r!r}" for r in (*sync, *async_) if _ours(r)]
    assert found == []


@pytest.mark.parametrize("event_type", events.Event.__subclasses__(), ids=lambda t: t.__name__)
def test_analysis_listens_to_every_stage_event(event_type):
    handlers = events.subscribers(event_type)
    assert handlers and all(h.__module__ == receivers.__name__ for h in handlers)


def test_publishing_calls_the_subscribers_in_order_and_once():
    class Probe(events.Event):
        pass

    heard = []
    events.subscribe(Probe, lambda e: heard.append(("first", e.review_id)))
    second = lambda e: heard.append(("second", e.review_id))  # noqa: E731  # one object, twice
    events.subscribe(Probe, second)
    events.subscribe(Probe, second)
    events.publish(Probe(7))
    assert heard == [("first", 7), ("second", 7)]


def test_the_import_contracts_hold():
    """.importlinter: screening and extraction never import analysis (but its statistics
    engine), the engine imports no Django, analysis is layered and has no import cycle."""
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0
