"""The model, the schedule and the simulation on a small made-up review."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from screening.ranking import features
from screening.ranking.ranker import rank_candidates
from screening.ranking.schedule import RetrainSchedule
from screening.ranking.simulate import draw_priors, simulate


def corpus(n_relevant=12, n_other=60, seed=0):
    rng = np.random.default_rng(seed)
    topic = ["peer", "support", "workers", "mental", "health", "recovery", "randomised", "trial"]
    other = [
        "cardiac",
        "surgery",
        "stent",
        "outcomes",
        "registry",
        "cohort",
        "mortality",
        "imaging",
    ]
    filler = ["the", "of", "and", "in", "with", "patients", "study", "results", "were"]
    texts, labels = [], []
    for i in range(n_relevant + n_other):
        words = topic if i < n_relevant else other
        body = list(rng.choice(words, 12)) + list(rng.choice(filler, 20))
        texts.append(features.record_text(f"Study {i}", " ".join(body), []))
        labels.append(int(i < n_relevant))
    order = rng.permutation(len(texts))
    return [texts[i] for i in order], np.asarray(labels)[order]


def test_the_model_ranks_records_like_the_included_ones_first():
    texts, labels = corpus()
    X = features.tfidf(features.term_frequencies(texts))
    train = np.asarray([int(np.flatnonzero(labels == 1)[0]), int(np.flatnonzero(labels == 0)[0])])
    candidates = np.setdiff1d(np.arange(len(labels)), train)
    ranking = rank_candidates(X, train, labels[train], candidates, seed=1)
    top = ranking.order[: int(labels.sum()) - 1]
    assert labels[top].all()
    assert np.all(np.diff(ranking.scores) <= 0)


def test_the_model_needs_both_classes():
    texts, labels = corpus()
    X = features.tfidf(features.term_frequencies(texts))
    relevant = np.flatnonzero(labels == 1)[:2]
    with pytest.raises(ValueError, match="at least one relevant and one irrelevant"):
        rank_candidates(X, relevant, labels[relevant], np.arange(3), seed=1)


def test_the_schedule_retrains_every_label_then_in_growing_batches():
    schedule = RetrainSchedule(every_label_until=100, growth=0.02, max_batch=500, min_seconds=5)
    assert schedule.labels_needed(10) == 1
    assert schedule.labels_needed(1000) == 20
    assert schedule.labels_needed(10**6) == 500
    # "N decisions or T seconds, whichever comes later"
    assert not schedule.due(new_labels=20, labelled_at_training=1000, seconds_since=2)
    assert not schedule.due(new_labels=19, labelled_at_training=1000, seconds_since=60)
    assert schedule.due(new_labels=20, labelled_at_training=1000, seconds_since=5)


def test_a_simulation_shows_every_record_once_priors_first_and_beats_random_order():
    texts, labels = corpus()
    X = features.tfidf(features.term_frequencies(texts))
    priors = draw_priors(labels, seed=42)
    assert labels[priors].tolist() == [1, 0]
    result = simulate(X, labels, priors, seed=42)
    assert sorted(result.order.tolist()) == list(range(len(labels)))
    assert result.order[:2].tolist() == priors
    summary = result.summary(labels)
    assert summary["wss_95"] > 0.5  # random order is 0 on average
    again = simulate(X, labels, priors, seed=42)
    assert again.order.tolist() == result.order.tolist()


def test_term_frequencies_of_an_appended_chunk_equal_those_computed_at_once(monkeypatch):
    texts, _ = corpus()
    whole = features.term_frequencies(texts)
    parts = features.term_frequencies(texts[:30]), features.term_frequencies(texts[30:])
    assert (sp.vstack(parts) != whole).nnz == 0
    monkeypatch.setattr(features, "CHUNK", 7)  # spooled in many chunks: the same matrix
    assert (features.term_frequencies(texts) != whole).nnz == 0


def test_tfidf_by_blocks_of_rows_is_scikit_learns_tfidf(monkeypatch):
    texts, _ = corpus()
    tf = features.term_frequencies(texts + [""])  # an empty record too
    expected = TfidfTransformer().fit_transform(tf)
    used = np.flatnonzero(np.bincount(tf.indices, minlength=tf.shape[1]))
    monkeypatch.setattr(features, "ROW_BLOCK", 5)
    weighted = features.tfidf(tf)
    assert abs(weighted - expected[:, used]).max() < 1e-6
    in_place = features.tfidf(tf.copy(), copy=False)
    assert abs(in_place - weighted).max() == 0


def test_a_stored_review_read_by_blocks_gives_the_in_memory_features(tmp_path, monkeypatch):
    texts, labels = corpus()
    ids = np.arange(100, 100 + len(texts))
    monkeypatch.setattr(features, "ROW_BLOCK", 7)  # many blocks, the last one short
    store = features.build_store(tmp_path / "r.rvtf", ids[:40], texts[:40])
    store = features.extend_store(store, ids[40:], texts[40:])  # records imported later
    expected = features.tfidf(features.term_frequencies(texts))
    assert store.ids.tolist() == ids.tolist()
    blocks = [block for _, block in store.blocks()]
    assert abs(sp.vstack(blocks) - expected).max() < 1e-6
    rows = np.asarray([30, 2, 71, 2, 15])
    assert abs(store.select(rows) - expected[rows]).max() < 1e-6
    train = np.asarray([int(np.flatnonzero(labels == 1)[0]), int(np.flatnonzero(labels == 0)[0])])
    candidates = np.setdiff1d(np.arange(len(labels)), train)
    from_store = rank_candidates(store, train, labels[train], candidates, seed=1)
    in_memory = rank_candidates(expected, train, labels[train], candidates, seed=1)
    assert from_store.order.tolist() == in_memory.order.tolist()


def test_a_truncated_store_is_refused(tmp_path):
    texts, _ = corpus()
    path = tmp_path / "r.rvtf"
    features.build_store(path, np.arange(len(texts)), texts)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size - 4)
    with pytest.raises(ValueError, match="truncated"):
        features.TermFrequencyStore(path)
    path.write_bytes(b"RVTF")
    with pytest.raises(ValueError, match="truncated"):
        features.TermFrequencyStore(path)


def test_a_store_being_read_keeps_its_rows_when_another_worker_extends_the_file(tmp_path):
    texts, _ = corpus()
    path = tmp_path / "r.rvtf"
    reading = features.build_store(path, np.arange(40), texts[:40])
    expected = [block.toarray() for _, block in reading.blocks()]
    features.extend_store(features.TermFrequencyStore(path), np.arange(40, 72), texts[40:])
    assert features.TermFrequencyStore(path).n_rows == 72
    again = [block.toarray() for _, block in reading.blocks()]
    assert len(again) == len(expected)
    assert all((a == b).all() for a, b in zip(again, expected, strict=True))


def test_the_includes_together_weigh_the_chosen_ratio_of_the_excludes():
    from screening.ranking.model import sample_weights

    y = np.asarray([1, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    weights = sample_weights(y, 9.8)
    assert weights[y == 1].sum() / weights[y == 0].sum() == pytest.approx(9.8)
    assert weights.mean() == pytest.approx(1.0)  # C keeps its meaning
    assert len(set(weights[y == 0].tolist())) == 1
