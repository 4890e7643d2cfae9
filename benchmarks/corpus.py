"""Build a large RIS corpus with known duplicates from the real screening exports.

    python benchmarks/corpus.py --records 100000 --out corpus.ris --truth truth.json [--seed 1]

The 1,700-odd real records of /work/shared/data/screening seed the corpus; the rest of the
distinct records are synthetic (titles from a word chain trained on the real titles and
abstracts, real author names, journals and years). About a fifth of the output are perturbed
copies of distinct records, made the way the same paper differs between databases: changed
case and punctuation, missing DOI or PMID, abbreviated journal, truncated or reformatted
author list, title typos. Some distinct records are deliberate look-alikes (erratum notices,
a conference abstract of the same paper in another journal, an update years later) that a
deduplicator must keep apart.

The truth file lists every duplicate group by record position (1-based, the order of the
records in the RIS file) and the perturbations applied to each copy.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from screening.references.dedup import normalise_title  # noqa: E402
from screening.references.parsers import parse_references  # noqa: E402

DATA = Path(os.environ.get("REVIEWAPP_SHARED_DIR") or REPO.parent / "shared") / "data" / "screening"
DUPLICATE_SHARE = 0.2
LOOKALIKE_SHARE = 0.02


@dataclass
class Item:
    title: str
    authors: list[str]
    year: int | None
    journal: str
    doi: str
    pmid: str
    abstract: str
    kind: str = "distinct"
    perturbations: list[str] = field(default_factory=list)


def load_seeds() -> list[Item]:
    seen_titles: set[str] = set()
    seen_dois: set[str] = set()
    seen_pmids: set[str] = set()
    seeds = []
    for path in sorted(DATA.glob("*.ris")):
        for r in parse_references(path.read_bytes(), path.name).records:
            key = normalise_title(r.title)
            # The SYNERGY README says AN is the PubMed ID; the files do not, so the reader keeps
            # it as an accession number of an unnamed database and this script labels it.
            pmid = r.pmid or r.accession_numbers.get("unknown", "")
            # The real exports overlap a little; a repeated seed would be an unlabelled duplicate.
            if (
                key in seen_titles
                or (r.doi and r.doi in seen_dois)
                or (pmid and pmid in seen_pmids)
            ):
                continue
            seen_titles.add(key)
            seen_dois.add(r.doi)
            seen_pmids.add(pmid)
            seeds.append(Item(r.title, r.authors, r.year, r.journal, r.doi, pmid, r.abstract))
    if not seeds:
        raise SystemExit(f"no seed records found in {DATA}")
    return seeds


class WordChain:
    """A first-order word chain: enough to make plausible, distinct biomedical titles."""

    def __init__(self, texts: list[str]) -> None:
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in texts:
            words = text.split()
            if len(words) < 3:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, words[1:], strict=False):
                self.next[a].append(b)

    def title(self, rng: random.Random) -> str:
        length = rng.randint(6, 22)
        word = rng.choice(self.starts)
        words = [word]
        while len(words) < length:
            followers = self.next.get(word)
            word = rng.choice(followers) if followers else rng.choice(self.starts)
            words.append(word)
        text = " ".join(words).rstrip(".,;:")
        return text[0].upper() + text[1:]


def sentences(text: str) -> list[str]:
    # Abstracts carry HTML (<b>, &amp;); the synthetic titles should not.
    text = re.sub(r"<[^>]*>", " ", html.unescape(html.unescape(text)))
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 4]


def synthetic(seeds: list[Item], count: int, rng: random.Random, taken: set[str]) -> list[Item]:
    abstract_sentences = [s for seed in seeds for s in sentences(seed.abstract)]
    chain = WordChain(
        [" ".join(sentences(seed.title + ".")) for seed in seeds] + abstract_sentences
    )
    authors = [a for seed in seeds for a in seed.authors]
    journals = [seed.journal for seed in seeds if seed.journal]
    years = [seed.year for seed in seeds if seed.year]
    items: list[Item] = []
    while len(items) < count:
        title = chain.title(rng)
        key = normalise_title(title)
        if key in taken:
            continue
        taken.add(key)
        n = len(items)
        items.append(
            Item(
                title=title,
                authors=rng.sample(authors, rng.randint(1, 8)) if rng.random() < 0.97 else [],
                year=rng.choice(years),
                journal=rng.choice(journals),
                doi=f"10.{5000 + n % 900}/synth.{n}" if rng.random() < 0.9 else "",
                pmid=str(40_000_000 + n) if rng.random() < 0.8 else "",
                abstract=" ".join(rng.sample(abstract_sentences, 3)),
            )
        )
    return items


def lookalike(item: Item, rng: random.Random, n: int) -> Item:
    """A different record that resembles ``item``: exactly what must not be merged."""
    kind = rng.choice(("erratum", "conference_abstract", "update"))
    if kind == "erratum":
        prefix = rng.choice(("Erratum: ", "Correction to: ", "Corrigendum to "))
        return replace(
            item,
            title=prefix + item.title,
            authors=[],
            doi=f"10.9/err.{n}",
            pmid="",
            abstract="",
            kind=kind,
        )
    if kind == "conference_abstract":
        journal = rng.choice(
            (
                "Blood",
                "Annals of the Rheumatic Diseases",
                "Gastroenterology",
                "Journal of Crohn's and Colitis",
                "Haemophilia",
            )
        )
        if journal == item.journal:
            journal = "Value in Health"
        return replace(item, journal=journal, doi="", pmid="", kind=kind)
    year = (item.year or 2010) + rng.randint(3, 8)
    return replace(item, year=year, doi=f"10.9/upd.{n}", pmid="", kind=kind)


# --- perturbations ----------------------------------------------------------------------------

_JOURNAL_WORDS = {
    "journal": "J",
    "of": "",
    "the": "",
    "and": "",
    "&": "",
    "in": "",
    "for": "",
    "clinical": "Clin",
    "international": "Int",
    "american": "Am",
    "medicine": "Med",
    "medical": "Med",
    "research": "Res",
    "european": "Eur",
    "british": "Br",
    "annals": "Ann",
    "national": "Natl",
    "sciences": "Sci",
    "science": "Sci",
}


def abbreviate_journal(journal: str) -> str:
    words = []
    for word in re.split(r"\s+", journal.replace(":", " ").strip()):
        lower = word.lower()
        if lower in _JOURNAL_WORDS:
            if _JOURNAL_WORDS[lower]:
                words.append(_JOURNAL_WORDS[lower])
            continue
        cut = next((p for p in range(4, 7) if p < len(word) - 1 and word[p] in "aeiouy"), 0)
        words.append(word[:cut] if cut else word)
    return " ".join(words) or journal


def typo(title: str, rng: random.Random) -> str:
    words = title.split(" ")
    for _ in range(rng.randint(1, 2)):
        candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not candidates:
            break
        i = rng.choice(candidates)
        w = words[i]
        p = rng.randrange(1, len(w) - 1)
        op = rng.choice(("swap", "drop", "add", "replace"))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if op == "swap":
            w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
        elif op == "drop":
            w = w[:p] + w[p + 1 :]
        elif op == "add":
            w = w[:p] + letter + w[p:]
        else:
            w = w[:p] + letter + w[p + 1 :]
        words[i] = w
    return " ".join(words)


def change_case(title: str, rng: random.Random) -> str:
    return rng.choice((str.upper, str.lower, str.title))(title)


def change_punctuation(title: str, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return re.sub(r"[^\w\s]", "", title)
    if choice == 1:
        return title.replace(":", " -").replace(",", "") + "."
    if choice == 2:
        return title.replace("-", " ")
    return "[" + title.rstrip(".") + "]."


def reformat_author(name: str) -> str:
    """ "Pier Mannuccio Mannucci" -> "Mannucci, P. M." or "Mannucci PM" as other databases do."""
    parts = name.replace(".", ". ").split()
    if "," in name or len(parts) < 2 or re.fullmatch(r"[A-Z]{1,4}", parts[-1]):
        return name  # already "Surname, Given" or "Surname AB"
    # Lower-case particles belong to the surname: "Frank J. A. van den Hoogen".
    start = len(parts) - 1
    while start > 1 and parts[start - 1].islower():
        start -= 1
    surname, given = " ".join(parts[start:]), parts[:start]
    initials = [g[0].upper() for g in given if g[:1].isalpha()]
    if len(name) % 2:
        return f"{surname}, {' '.join(i + '.' for i in initials)}"
    return f"{surname} {''.join(initials)}"


def perturb(item: Item, rng: random.Random) -> Item:
    copy = replace(item, authors=list(item.authors), perturbations=[])
    applied = copy.perturbations
    while not applied:
        if rng.random() < 0.5:
            copy.title = change_case(copy.title, rng)
            applied.append("case")
        if rng.random() < 0.5:
            copy.title = change_punctuation(copy.title, rng)
            applied.append("punctuation")
        if copy.doi and rng.random() < 0.6:
            copy.doi = ""
            applied.append("missing_doi")
        elif copy.doi and rng.random() < 0.3:
            copy.doi = "https://doi.org/" + copy.doi.upper()
            applied.append("doi_format")
        if copy.pmid and rng.random() < 0.6:
            copy.pmid = ""
            applied.append("missing_pmid")
        if copy.journal and rng.random() < 0.4:
            abbreviated = abbreviate_journal(copy.journal)
            if abbreviated != copy.journal:
                copy.journal = abbreviated
                applied.append("abbreviated_journal")
        if len(copy.authors) > 1 and rng.random() < 0.4:
            copy.authors = copy.authors[: rng.randint(1, min(3, len(copy.authors) - 1))]
            if rng.random() < 0.5:
                copy.authors.append("et al.")
            applied.append("truncated_authors")
        if copy.authors and rng.random() < 0.3:
            copy.authors = [reformat_author(a) for a in copy.authors]
            applied.append("author_format")
        if rng.random() < 0.4:
            copy.title = typo(copy.title, rng)
            applied.append("title_typo")
    return copy


# --- output -----------------------------------------------------------------------------------


def build(records: int, seed: int) -> tuple[list[Item], list[list[int]]]:
    """The corpus in file order and its duplicate groups (1-based positions)."""
    rng = random.Random(seed)
    copies = round(records * DUPLICATE_SHARE)
    distinct = records - copies
    seeds = load_seeds()
    rng.shuffle(seeds)
    seeds = seeds[:distinct]
    lookalikes = min(round(distinct * LOOKALIKE_SHARE), len(seeds))
    taken = {normalise_title(s.title) for s in seeds}
    bases = seeds + synthetic(seeds, distinct - len(seeds) - lookalikes, rng, taken)
    bases += [lookalike(base, rng, n) for n, base in enumerate(rng.sample(bases, lookalikes))]

    families: list[list[Item]] = [[base] for base in bases]
    for _ in range(copies):
        family = rng.choice(families)
        family.append(perturb(family[0], rng))
    rng.shuffle(families)
    ordered = [(f, item) for f, family in enumerate(families) for item in family]
    rng.shuffle(ordered)
    positions: dict[int, list[int]] = defaultdict(list)
    for position, (family_number, _) in enumerate(ordered, 1):
        positions[family_number].append(position)
    items = [item for _, item in ordered]
    groups = [sorted(p) for p in positions.values() if len(p) > 1]
    return items, sorted(groups)


def to_ris(items: list[Item]) -> str:
    out = []
    for n, item in enumerate(items, 1):
        out.append("TY  - JOUR")
        out.append(f"ID  - BENCH{n}")
        out.append(f"TI  - {item.title}")
        out.extend(f"AU  - {a}" for a in item.authors)
        if item.year:
            out.append(f"PY  - {item.year}")
        if item.journal:
            out.append(f"JO  - {item.journal}")
        if item.doi:
            out.append(f"DO  - {item.doi}")
        if item.pmid:
            # Labelled, as a PubMed export labels it: an unlabelled AN is not read as a PMID.
            out.append(f"AN  - {item.pmid}")
            out.append(f"N1  - PMID: {item.pmid}")
        if item.abstract:
            out.append(f"AB  - {item.abstract}")
        out.append("ER  - ")
        out.append("")
    return "\n".join(out)


def truth(items: list[Item], groups: list[list[int]]) -> dict[str, object]:
    return {
        "records": len(items),
        "groups": groups,
        "perturbations": {
            str(n): item.perturbations for n, item in enumerate(items, 1) if item.perturbations
        },
        "lookalikes": {
            str(n): item.kind for n, item in enumerate(items, 1) if item.kind != "distinct"
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    items, groups = build(args.records, args.seed)
    args.out.write_text(to_ris(items), encoding="utf-8")
    args.truth.write_text(json.dumps(truth(items, groups)), encoding="utf-8")
    pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups)
    print(f"{len(items)} records, {len(groups)} duplicate groups, {pairs} duplicate pairs")


if __name__ == "__main__":
    main()
