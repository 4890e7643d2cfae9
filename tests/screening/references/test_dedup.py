import sys

import pytest

from screening.references.dedup import (
    DedupRecord,
    DuplicateGroup,
    find_duplicate_groups,
    find_duplicates,
    journals_agree,
    normalise_doi,
    normalise_title,
)
from tests.conftest import NO_SHARED_DATA, SHARED_SCREENING, needs

SCREENING_DATA = SHARED_SCREENING

TITLE = "Emicizumab prophylaxis in hemophilia A with inhibitors: a randomised trial"
# The title without its subtitle: too different to match without an identifier.
SHORT_TITLE = "Emicizumab prophylaxis in hemophilia A with inhibitors"


def record(
    id: int,
    title: str = TITLE,
    authors: tuple[str, ...] = ("Oldenburg, Johannes", "Mahlangu, Johnny"),
    year: int | None = 2017,
    journal: str = "New England Journal of Medicine",
    doi: str = "",
    pmid: str = "",
) -> DedupRecord:
    return DedupRecord(
        id=id, title=title, authors=authors, year=year, journal=journal, doi=doi, pmid=pmid
    )


def groups_of(found: list[DuplicateGroup]) -> list[tuple[int, ...]]:
    return [group.member_ids for group in found]


def test_it_folds_case_punctuation_diacritics_and_html_in_titles() -> None:
    assert normalise_title("  &lt;p&gt;Étude <i>naïve</i>: Crohn's—TNF-α  ") == (
        "etude naive crohns tnf alpha"
    )
    assert normalise_title("Jørgensen’s “test”") == "jorgensens test"


def test_it_normalises_dois() -> None:
    assert normalise_doi(" https://doi.org/10.1056/NEJMoa1703068. ") == "10.1056/nejmoa1703068"
    assert normalise_doi("doi: 10.1/ABC") == "10.1/abc"
    assert normalise_doi("http://dx.doi.org/10.1/x") == "10.1/x"
    assert normalise_doi("") == ""


def test_it_groups_records_with_the_same_doi() -> None:
    found = find_duplicate_groups(
        [record(5, doi="10.1/X"), record(2, title=SHORT_TITLE, doi="https://doi.org/10.1/x")]
    )

    assert found == [DuplicateGroup(primary_id=2, member_ids=(2, 5), reasons={5: "same DOI"})]


def test_it_groups_records_with_the_same_pmid() -> None:
    found = find_duplicate_groups([record(1, pmid="123"), record(2, title=SHORT_TITLE, pmid="123")])

    assert found[0].reasons == {2: "same PMID"}


def test_it_does_not_trust_a_shared_pmid_when_the_dois_conflict() -> None:
    found = find_duplicate_groups(
        [
            record(1, title="Cardiovascular outcomes", pmid="9", doi="10.1/a"),
            record(2, title="Noncardiovascular outcomes", pmid="9", doi="10.1/b"),
        ]
    )

    assert found == []


def test_it_matches_perturbed_copies_without_identifiers() -> None:
    original = record(1, doi="10.1056/nejmoa1703068", pmid="28691557")
    copies = [
        record(2, title=TITLE.upper().replace(":", " -"), doi=""),
        record(3, title=TITLE.replace("prophylaxis", "prophylaxsi"), journal="N Engl J Med"),
        record(4, authors=("Oldenburg J",), year=2018, journal="N Engl J Med"),
        record(5, authors=("Johannes Oldenburg", "Johnny Mahlangu", "et al.")),
    ]

    (group,) = find_duplicate_groups([original, *copies])

    assert group.member_ids == (1, 2, 3, 4, 5)
    assert group.primary_id == 1
    assert group.reasons[2] == "same title, same first author, same year, same journal"
    assert group.reasons[3].startswith("title 99% similar, same first author")
    assert "year ±1" in group.reasons[4]


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (record(2, doi="10.1/b"), "conflicting DOIs"),
        (record(2, year=2015), "years two apart"),
        (record(2, authors=("Smith, Jane",)), "different first author"),
        (record(2, journal="Blood"), "conference abstract in another journal"),
        (record(2, title="Erratum: " + TITLE), "erratum notice"),
        (record(2, title=TITLE + ": reply"), "reply to the paper"),
        (record(2, title=TITLE.replace("Emicizumab", "P05 Emicizumab")), "abstract code"),
        (record(2, title=TITLE.replace("hemophilia", "female hemophilia")), "an added word"),
        (record(2, title=TITLE + " 2"), "a different number"),
    ],
)
def test_it_keeps_distinct_papers_with_similar_titles_apart(other: DedupRecord, why: str) -> None:
    assert find_duplicate_groups([record(1, doi="10.1/a"), other]) == [], why


def test_it_does_not_match_generic_titles_on_the_title_alone() -> None:
    found = find_duplicate_groups(
        [
            record(1, title="Abstracts", authors=(), journal="Haemophilia", year=2019),
            record(2, title="Abstracts", authors=(), journal="Haemophilia", year=2019),
            record(3, title="ABSTRACTS", authors=("Kawadler, J",), journal="Blood"),
        ]
    )

    assert found == []


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("J Clin Psychol", "Journal of Clinical Psychology"),
        (
            "Proc Natl Acad Sci U S A",
            "Proceedings of the National Academy of Sciences of the United States of America",
        ),
        ("JAMA", "Journal of the American Medical Association"),
        ("Haemophilia", "Haemophilia : the official journal of the World Federation"),
        ("Lancet", "The Lancet (London, England)"),
        ("J Crohns Colitis", "Journal of Crohn's and Colitis"),
    ],
)
def test_it_accepts_journal_abbreviations(short: str, full: str) -> None:
    from screening.references.dedup import _journal_words

    assert journals_agree(_journal_words(short), _journal_words(full))


def test_it_tells_related_journals_apart() -> None:
    assert not journals_agree(("blood",), ("blood", "advances"))
    assert not journals_agree(("haemophilia",), ("thrombosis", "haemostasis"))


def test_it_never_groups_a_cannot_link_pair() -> None:
    records = [record(1), record(2), record(3, doi="10.1/x"), record(4, doi="10.1/x")]

    found = find_duplicate_groups(records, cannot_link=[(1, 4)])

    members = groups_of(found)
    assert not any(1 in group and 4 in group for group in members)
    assert sorted(i for group in members for i in group) == [1, 2, 3, 4]


def test_it_refuses_a_transitive_union_across_a_cannot_link_pair() -> None:
    records = [record(1), record(2, authors=()), record(3)]

    found = find_duplicate_groups(records, cannot_link=[(1, 3)])

    assert not any({1, 3} <= set(group) for group in groups_of(found))


def test_it_always_groups_a_must_link_pair() -> None:
    found = find_duplicate_groups(
        [record(1), record(7, title="Something else entirely", authors=("Doe, J",))],
        must_link=[(7, 1)],
    )

    assert found == [
        DuplicateGroup(primary_id=1, member_ids=(1, 7), reasons={7: "merged by a team member"})
    ]


def test_it_lets_keep_choose_the_primary_record() -> None:
    found = find_duplicate_groups([record(1, doi="10.1/x"), record(2, doi="10.1/x")], keep=[2])

    assert found[0].primary_id == 2
    assert found[0].reasons == {1: "same DOI"}


def test_it_explains_a_transitive_member_through_its_partner() -> None:
    found = find_duplicate_groups(
        [
            record(1, doi="10.1/x"),
            record(2, title=SHORT_TITLE, doi="10.1/x", pmid="5"),
            record(3, title=SHORT_TITLE + ": results of a trial", pmid="5"),
        ]
    )

    assert found[0].reasons == {2: "same DOI", 3: "same PMID (via 2)"}


def test_it_rejects_repeated_ids() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        find_duplicate_groups([record(1), record(1)])


def test_it_finds_only_true_duplicates_in_the_real_exports() -> None:
    needs(SCREENING_DATA.is_dir(), NO_SHARED_DATA)
    from screening.references.parsers import parse_references

    parsed = []
    for path in sorted(SCREENING_DATA.glob("*.ris")):
        parsed.extend(parse_references(path.read_bytes(), path.name).records)
    records = [
        DedupRecord(
            id=i,
            title=r.title,
            authors=r.authors,
            year=r.year,
            journal=r.journal,
            doi=r.doi,
            pmid=r.pmid,
        )
        for i, r in enumerate(parsed)
    ]

    found = find_duplicate_groups(records)

    # One conference abstract book is in two reviews (same DOI) and one paper is indexed
    # twice, once through DOAJ with HTML in its title; the many "Abstracts" records and
    # same-title papers from different years stay apart.
    assert [(len(g.member_ids), sorted(g.reasons.values())) for g in found] == [
        (2, ["same title, same first author, same year"]),
        (2, ["same DOI"]),
    ]


def test_dedup_does_not_import_django() -> None:
    import screening.references.dedup  # noqa: F401 -- imported for its side effects on sys.modules
    import screening.references.parsers  # noqa: F401 -- likewise

    assert not any(
        name == "django" or name.startswith("django.")
        for name in sys.modules
        if "screening.references" in str(sys.modules.get(name))
    )


NEAR_TITLE = "Emicizumab prophylaxis in haemophilia A patients with inhibitors: a randomised trial"


def test_it_offers_a_near_miss_as_a_possible_pair_without_merging_it() -> None:
    from screening.references.dedup import PossiblePair, find_duplicates

    near = record(9, title=NEAR_TITLE)

    result = find_duplicates([record(4), near])

    assert result.groups == []
    assert [(p.a, p.b) for p in result.possible_pairs] == [(4, 9)]
    assert isinstance(result.possible_pairs[0], PossiblePair)


def test_it_never_offers_a_cannot_link_pair_again() -> None:
    from screening.references.dedup import find_duplicates

    near = record(9, title=NEAR_TITLE)

    assert find_duplicates([record(4), near], cannot_link=[(9, 4)]).possible_pairs == []


# --- what was seen on real multi-database exports (issue 9) --------------------------------


def article(id: int, **fields: object) -> DedupRecord:
    """A journal article as a database exports it, with every locator filled in."""
    values: dict[str, object] = {
        "title": "Gefitinib versus carboplatin-paclitaxel in pulmonary adenocarcinoma",
        "authors": ("Mok, T. S.", "Wu, Y. L."),
        "year": 2009,
        "journal": "Chinese Journal of Lung Cancer",
        "doi": "",
        "pmid": "",
        "volume": "12",
        "issue": "3",
        "pages": "321-326",
    }
    values.update(fields)
    return DedupRecord(id=id, **values)  # type: ignore[arg-type] -- test data of known types


def test_it_keeps_editorial_notes_from_different_issues_apart() -> None:
    notes = [
        article(1, title="Editorial Notes", authors=("Hartung, T.",), issue="1", pages="1"),
        article(2, title="Editorial notes.", authors=("Hartung, T.",), issue="2", pages=""),
        article(3, title="Editorial Notes", authors=("Hartung, T.",), issue="3", pages=""),
    ]

    assert find_duplicates(notes).groups == []


def test_it_never_matches_a_generic_title_without_its_locator() -> None:
    letters = [
        article(1, title="Reply", volume="", issue="", pages=""),
        article(2, title="Reply", volume="", issue="", pages=""),
    ]

    assert find_duplicates(letters).groups == []


def test_it_keeps_a_conference_abstract_apart_from_the_full_article() -> None:
    abstract = article(1, year=2008, journal="Journal of Thoracic Oncology", pages="A39")
    full = article(2, journal="Journal of Thoracic Oncology")

    assert find_duplicates([abstract, full]).groups == []


def test_it_offers_an_abstract_without_pages_and_the_article_for_review() -> None:
    abstract = article(
        1,
        journal="Journal of Thoracic Oncology. Conference: 12th World Conference",
        volume="",
        issue="",
        pages="",
    )
    full = article(2, journal="Journal of Thoracic Oncology")

    result = find_duplicates([abstract, full])

    assert result.groups == []
    assert [(p.a, p.b) for p in result.possible_pairs] == [(1, 2)]


def test_it_keeps_registry_records_a_year_apart_without_the_same_authors_apart() -> None:
    title = "A study of drug X in adults with moderate to severe plaque psoriasis"
    first = article(
        1, title=title, authors=(), year=2015, journal="", volume="", issue="", pages=""
    )
    second = article(
        2,
        title=title,
        authors=("Pharma Inc.",),
        year=2016,
        journal="",
        volume="",
        issue="",
        pages="",
    )

    assert find_duplicates([first, second]).groups == []


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Chinese Journal of Lung Cancer", "Zhongguo Fei Ai Za Zhi"),
        ("Journal of Trauma-Injury Infection and Critical Care", "The Journal of trauma"),
        ("Stroke (00392499)", "Stroke; a journal of cerebral circulation"),
        (
            "Pacific Asia Conference on Information Systems",
            "Pacific Asia Conference on Information Systems - Opportunities and Challenges",
        ),
    ],
)
def test_it_matches_a_journal_under_another_name(one: str, other: str) -> None:
    found = find_duplicates([article(1, journal=one), article(2, journal=other)]).groups

    assert groups_of(found) == [(1, 2)]


def test_it_matches_a_meeting_abstract_whose_journal_names_the_conference() -> None:
    conference = article(
        1,
        journal="Circulation. Conference: American Heart Association Scientific Sessions",
        volume="130",
        issue="",
        pages="",
    )
    supplement = article(2, journal="Circulation", volume="130", issue="SUPPL. 2", pages="")

    assert groups_of(find_duplicates([conference, supplement]).groups) == [(1, 2)]


@pytest.mark.parametrize(
    "title",
    [
        "Gefitinib versus carboplatin-paclitaxel in pulmonary adenocarcinoma [Review] [42 refs]",
        "[Gefitinib versus carboplatin-paclitaxel in pulmonary adenocarcinoma]",
        "Gefitinib versus carboplatin-paclitaxel in pulmonary adenocarcinoma. [Chinese]",
        "Gefitinib versus carboplatin&#8208;paclitaxel in pulmonary adenocarcinoma.",
        "Gefitinib versus carboplatin-paclitaxel in pulmonary adenocarcinoma (author's transl)",
    ],
)
def test_it_matches_titles_with_database_annotations(title: str) -> None:
    found = find_duplicates([article(1), article(2, title=title, journal="Zhongguo Fei Ai Za Zhi")])

    assert groups_of(found.groups) == [(1, 2)]


def test_it_does_not_merge_abstracts_that_share_their_supplements_doi() -> None:
    doi = "10.2337/db16-382-651"
    first = article(1, doi=doi, journal="Diabetes", volume="65", issue="", pages="A128")
    second = article(
        2,
        title="Empagliflozin prevents the high glucose-induced senescence of endothelial cells",
        authors=("Khemais-Benkhiat, S.",),
        doi=doi,
        journal="Diabetes",
        volume="65",
        issue="",
        pages="A129",
    )

    assert find_duplicates([first, second]).groups == []


def test_it_reads_the_first_author_of_a_run_together_author_list() -> None:
    unlocated = {"volume": "", "issue": "", "pages": ""}
    one = article(1, authors=("Terawaki Y.Nomiyama T.Kawanami T.",), **unlocated)
    other = article(2, authors=("Nomiyama T.Terawaki Y.",), **unlocated)
    same = article(3, authors=("Terawaki, Y.",), **unlocated)

    assert find_duplicates([one, other]).groups == []
    assert groups_of(find_duplicates([one, same]).groups) == [(1, 3)]


def test_it_overrules_one_disagreeing_field_when_all_else_agrees() -> None:
    # The same DOI registered twice, or a typing error in a first author's name.
    records = [
        article(1, doi="10.1016/0092-8240(94)00028-b"),
        article(2, doi="10.1007/bf02458320", pages="321-6"),
        article(3, authors=("Chan, Tony",)),
    ]

    assert groups_of(find_duplicates(records).groups) == [(1, 2, 3)]


def test_it_never_overrules_two_disagreeing_fields() -> None:
    records = [article(1, doi="10.1/a"), article(2, doi="10.1/b", volume="13")]

    assert find_duplicates(records).groups == []


def test_it_does_not_chain_two_different_pages_into_one_group() -> None:
    # 2 matches 1 and 3 (no pages of its own), but 1 and 3 are on different pages.
    records = [article(1, pages="A39"), article(2, pages=""), article(3, pages="A40")]

    found = find_duplicates(records).groups

    assert not any({1, 3} <= set(group) for group in groups_of(found))


def test_it_keeps_consecutive_papers_of_a_series_apart() -> None:
    series = [
        article(
            1,
            title="2-(N'-alkylidenehydrazino)adenosines: potent coronary vasodilators",
            pages="4557-4561",
        ),
        article(
            2,
            title="2-(N'-aralkylidenehydrazino)adenosines: potent coronary vasodilators",
            pages="4562-4566",
        ),
    ]

    assert find_duplicates(series).groups == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pages", "2009"),  # the year put in the pages field
        ("pages", "01-Aug"),  # a spreadsheet's date made of "1-8"
        ("doi", "JSTAGE/jphs/10136SC [pii]"),  # not a DOI
    ],
)
def test_it_ignores_a_field_that_holds_something_else(field: str, value: str) -> None:
    found = find_duplicates([article(1, doi="10.1254/jphs.10136sc"), article(2, **{field: value})])

    assert groups_of(found.groups) == [(1, 2)]


def test_it_reads_a_citation_given_as_the_journal() -> None:
    cited = article(2, journal="Zhongguo Fei Ai Za Zhi.12 (3) ()(pp 321-326) 2009", volume="")

    assert groups_of(find_duplicates([article(1), cited]).groups) == [(1, 2)]


def test_it_leaves_records_without_a_readable_title_to_a_reviewer() -> None:
    result = find_duplicates([article(1, title="#NAME?"), article(2, title="#NAME?")])

    assert result.groups == []
    assert [(p.a, p.b) for p in result.possible_pairs] == [(1, 2)]


ABSTRACT = (
    "Background: gefitinib was compared with carboplatin plus paclitaxel as first-line "
    "treatment in East Asian patients with pulmonary adenocarcinoma who were non-smokers or "
    "former light smokers. Methods: an open-label, parallel-group study."
)


def test_it_takes_the_same_abstract_as_witness_for_a_journal_under_another_name() -> None:
    unlocated = {"issue": "", "pages": ""}
    one = article(1, journal="Lung Cancer (Chinese edition)", abstract=ABSTRACT, **unlocated)
    other = article(2, journal="Zhongguo Fei Ai Za Zhi", abstract=ABSTRACT.upper(), **unlocated)

    assert groups_of(find_duplicates([one, other]).groups) == [(1, 2)]
    other_text = article(
        2, journal="Zhongguo Fei Ai Za Zhi", abstract="Unrelated." * 20, **unlocated
    )
    assert find_duplicates([one, other_text]).groups == []
    # The same text in another volume is a meeting abstract printed again, not a witness.
    reprinted = article(2, journal="Zhongguo Fei Ai Za Zhi", abstract=ABSTRACT, volume="13")
    assert find_duplicates([one, reprinted]).groups == []


def test_it_does_not_take_the_same_abstract_as_witness_for_another_year() -> None:
    title = "A study of drug X in adults with moderate to severe plaque psoriasis"
    registry = {"journal": "", "volume": "", "issue": "", "pages": "", "abstract": ABSTRACT}
    first = article(1, title=title, authors=(), year=2015, **registry)
    second = article(2, title=title, authors=("Pharma Inc.",), year=2016, **registry)

    assert find_duplicates([first, second]).groups == []


def test_it_takes_a_lone_page_number_against_a_range_as_no_evidence() -> None:
    # Ovid puts a page count or an article number where the pages go.
    found = find_duplicates([article(1), article(2, pages="6")])

    assert groups_of(found.groups) == [(1, 2)]


def test_it_keeps_an_erratum_in_a_later_issue_apart_from_the_article() -> None:
    erratum = article(2, issue="8", pages="1107-1107")

    assert find_duplicates([article(1, issue="5"), erratum]).groups == []


def test_it_leaves_a_shared_doi_whose_titles_name_other_numbers_to_a_reviewer() -> None:
    doi = "10.3390/ph11010013"
    title = "Haemodynamic effects of delta(9)-tetrahydrocannabinol: a meta-analysis"
    unpaged = {"pages": "", "doi": doi}
    eight = article(1, title=title.replace("(9)", "(8)"), **unpaged)
    subscript_lost = article(3, title=title.replace("(9)", ""), **unpaged)

    result = find_duplicates([eight, article(2, title=title, **unpaged)])

    assert result.groups == []
    assert [(p.a, p.b) for p in result.possible_pairs] == [(1, 2)]
    assert groups_of(
        find_duplicates([article(2, title=title, **unpaged), subscript_lost]).groups
    ) == [(2, 3)]


def test_et_al_is_not_a_first_author_shared_by_every_trial():
    # Two trials cited as "Frimodt-Moller et al 1973" and "Vandiviere et al 1973" (as in a
    # data set's study labels): their first authors differ, however alike the rest reads.
    a = record(
        1,
        "Frimodt-Moller et al 1973 (BCG vaccine trial; dat.bcg)",
        ("Frimodt-Moller et al",),
        1973,
        "",
    )
    b = record(
        2, "Vandiviere et al 1973 (BCG vaccine trial; dat.bcg)", ("Vandiviere et al",), 1973, ""
    )
    found = find_duplicates([a, b])
    assert (found.groups, found.possible_pairs) == ([], [])


@pytest.mark.parametrize(
    "cited",
    ["Oldenburg et al", "Oldenburg et al.", "Oldenburg & Mahlangu", "Oldenburg and Mahlangu"],
)
def test_the_first_author_of_a_short_citation_is_the_first_name_in_it(cited):
    found = find_duplicate_groups([record(1), record(2, authors=(cited,))])
    assert groups_of(found) == [(1, 2)]


def test_the_second_name_of_a_short_citation_is_not_taken_for_the_first_author():
    a = record(1, "Vaccination against tuberculosis in two towns", ("Ferguson & Simes",), 1949, "")
    b = record(2, "Vaccination against tuberculosis in two towns", ("Simes, R.",), 1949, "")
    found = find_duplicates([a, b])
    assert (found.groups, found.possible_pairs) == ([], [])
