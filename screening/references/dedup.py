"""Find duplicate references in a review's library.

Two records are the same paper when they share a DOI or a PMID (and their DOIs do not
conflict), or when their normalised titles are nearly identical and nothing else contradicts it:
first-author surname, year (one year apart is allowed for epub/print), journal (abbreviations
allowed), numbers in the title ("2013 update" vs "2016 update", "Part 1" vs "Part 2") and
notice words ("Erratum", "Reply", "Comment"). Matches join groups through union-find, strongest
evidence first, so that a team member's ``cannot_link`` decisions hold against weaker links.

Fuzzy comparisons only run inside blocks: each record is compared with records that share a
pair of its rarest title words or whose title starts or ends the same way, which keeps 100,000
records to about half a million comparisons.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Indel

from ._common import normalise_doi

__all__ = [
    "DedupRecord",
    "DedupResult",
    "DuplicateGroup",
    "PossiblePair",
    "find_duplicate_groups",
    "find_duplicates",
    "normalise_doi",
    "normalise_title",
]


@dataclass(frozen=True)
class DedupRecord:
    id: int
    title: str
    authors: tuple[str, ...] | list[str]
    year: int | None
    journal: str
    doi: str
    pmid: str
    volume: str = ""
    issue: str = ""
    pages: str = ""
    issn: str = ""
    record_type: str = ""
    abstract: str = ""

    @classmethod
    def from_parsed(cls, id: int, parsed: Any) -> DedupRecord:  # noqa: A002 -- the field's name
        """From a parser's ParsedRecord or a stored Record (anything with their fields)."""
        return cls(
            id=id,
            title=parsed.title,
            authors=tuple(parsed.authors or ()),
            year=parsed.year,
            journal=parsed.journal,
            doi=parsed.doi,
            pmid=parsed.pmid,
            volume=parsed.volume or "",
            issue=parsed.issue or "",
            pages=parsed.pages or "",
            issn=parsed.issn or "",
            record_type=parsed.record_type or "",
            abstract=parsed.abstract or "",
        )


@dataclass(frozen=True)
class DuplicateGroup:
    primary_id: int
    member_ids: tuple[int, ...]
    reasons: dict[int, str]


@dataclass(frozen=True)
class PossiblePair:
    """Two records that are likely, but not certainly, the same paper; never merged
    automatically, they wait for a reviewer. ``a < b`` are ``DedupRecord.id`` values."""

    a: int
    b: int
    reason: str


@dataclass
class DedupResult:
    groups: list[DuplicateGroup]
    possible_pairs: list[PossiblePair]


# Titles at least this similar (rapidfuzz ratio, 0-100) are compared further.
TITLE_SIMILARITY = 90.0
# Titles at least this similar, without a contradiction, are offered to a reviewer.
POSSIBLE_SIMILARITY = 85.0
# Each run of differing words may differ by this many character edits (typos, British/American
# spelling); a whole added or removed word ("Female", "Non-") is a different paper.
EDITS_PER_DIFFERENCE = 2
# Every pair of a record's this many rarest title words is a blocking key.
BLOCKING_KEYS = 4
# Abstracts are compared on their first this many characters, and when at least this long.
ABSTRACT_PREFIX = 400
MIN_ABSTRACT = 150
ABSTRACT_SIMILARITY = 90.0
# Records sharing one DOI or PMID that are compared pairwise (a supplement's DOI is shared by
# all its abstracts).
MAX_IDENTIFIER_SHARERS = 60
# Member pairs checked for a conflict before two groups are joined.
MAX_GROUP_CHECKS = 2500
# Characters of the space-free title used as prefix and suffix blocking keys.
AFFIX_LENGTH = 16
# A block this large comes from generic wording; its members still meet in other blocks.
MAX_BLOCK = 300
# Below this many content words a title ("Abstracts", "Editorial") says too little to match on.
MIN_CONTENT_WORDS = 3

_STOPWORDS = frozenset(
    [
        "a",
        "amp",
        "an",
        "and",
        "are",
        "as",
        "at",
        "by",
        "de",
        "der",
        "des",
        "die",
        "du",
        "en",
        "et",
        "for",
        "from",
        "in",
        "into",
        "is",
        "la",
        "le",
        "of",
        "on",
        "or",
        "the",
        "to",
        "und",
        "with",
        "plus",
    ]
)
# Words that, first or last in a title, make a record a notice about another paper rather than
# the paper itself ("Erratum: ...", "... : reply").
_NOTICE_WORDS = frozenset(
    [
        "erratum",
        "errata",
        "corrigendum",
        "correction",
        "corrections",
        "retraction",
        "retracted",
        "reply",
        "replies",
        "response",
        "comment",
        "comments",
        "commentary",
        "editorial",
        "letter",
        "expression",
        "concern",
        "addendum",
        "withdrawn",
    ]
)
_ROMAN = frozenset(["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"])
# A Roman numeral counts after these words ("Part II", "phase III") or at the end of a title.
_NUMBERED = frozenset(
    [
        "part",
        "parte",
        "partie",
        "teil",
        "phase",
        "type",
        "stage",
        "grade",
        "class",
        "study",
        "trial",
    ]
)
# A leading conference abstract code such as "P05", "THU0354", "OP005".
_ABSTRACT_CODE = re.compile(r"[a-z]{1,4}\d{1,5}[a-z]?")
_DIGITS = re.compile(r"\d+")
_TAG = re.compile(r"<[^>]{0,200}>")
_NON_WORD = re.compile(r"[\W_]+")
_APOSTROPHES = re.compile(r"['’‘`´]")
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "þ": "th",
        "ı": "i",
        "α": "alpha",
        "β": "beta",
        "γ": "gamma",
        "δ": "delta",
        "κ": "kappa",
        "μ": "mu",
    }
)
_INITIALS = re.compile(r"(?:[A-Z]{1,5}|(?:[A-Z]\.\s?){1,5}|[A-Z]\.-[A-Z]\.)")
# Where a bibliographic database rather than the journal is given as the source.
_NOT_A_JOURNAL = ("doaj", "directory of open access journals", "pubmed", "europe pmc")


def normalise_title(title: str) -> str:
    """Fold a title for comparison: HTML, case, diacritics, punctuation and spacing."""
    # Case first: an upper-cased export turns "&lt;" into "&LT;", which html.unescape ignores.
    text = title.casefold()
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_FOLD))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def _surname(author: str) -> str:
    author = author.strip()
    if not author:
        return ""
    if "," in author:
        surname = author.split(",", 1)[0]
    else:
        parts = author.split()
        if len(parts) > 1 and _INITIALS.fullmatch(parts[-1]):
            surname = " ".join(parts[:-1])  # "Smith JA" (PubMed style)
        else:
            surname = parts[-1]  # "John A. Smith"
    return normalise_title(surname)


def _surnames_agree(a: str, b: str) -> bool:
    if a == b:
        return True
    a_words, b_words = a.split(), b.split()
    if set(a_words) & set(b_words):
        return True  # "le quellec" vs "quellec", "abi haidar" vs "haidar"
    return fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")) >= 85  # "jorgensen"/"joergensen"


# Where a journal's or a conference's subtitle starts: "Haemophilia : the official journal
# of ...", "Pacific Asia Conference on Information Systems - Opportunities and ...".
_SUBTITLE = re.compile(r"\s+:\s+|\s+[-\u2013\u2014]\s+|\s*\"")
# "PLoS ONE [Electronic Resource]"
_BRACKETED = re.compile(r"\[[^\]]*\]")
# Embase names the meeting after the journal: "Circulation. Conference: American Heart ...".
_CONFERENCE_SUFFIX = re.compile(r"\.\s*(?:conference|congress|meeting)\b", re.IGNORECASE)


# Some exports give the whole citation as the source: "Neuron.65 (1) ()(pp 40-52) 2010".
_CITATION_TAIL = re.compile(r"\.\s*(\d+)\b.*|\s+(\d+)\s*\(.*", re.DOTALL)


def _journal_name(journal: str) -> str:
    name = _CONFERENCE_SUFFIX.split(_BRACKETED.sub(" ", journal), 1)[0]
    return _CITATION_TAIL.sub("", name)


def _journal_words(journal: str) -> tuple[str, ...]:
    # MEDLINE adds subtitles and places: "Haemophilia : the official journal of ...",
    # "Lancet (London, England)"; the name proper comes first.
    name = _journal_name(journal)
    name = _SUBTITLE.split(name, 1)[0].split("(", 1)[0].split(";", 1)[0]
    words = tuple(w for w in normalise_title(name).split() if w not in _STOPWORDS)
    if " ".join(words) in _NOT_A_JOURNAL:
        return ()
    return words


def _abbreviates(short: str, full: str) -> bool:
    """Whether ``short`` abbreviates ``full`` ("clin"/"clinical", "natl"/"national")."""
    if short == full or full.startswith(short):
        return True
    if short[0] != full[0] or len(short) > len(full):
        return False
    position = 0
    for ch in short:
        position = full.find(ch, position) + 1
        if position == 0:
            return False
    return True


@functools.lru_cache(maxsize=65536)
def _journal_vocabulary(journal: str) -> frozenset[str]:
    return frozenset(normalise_title(journal).split())


@functools.lru_cache(maxsize=65536)
def _journal_forms(journal: str) -> tuple[tuple[str, ...], ...]:
    """The journal's name proper and, when it has one, the name with its subtitle."""
    short = _journal_words(journal)
    full = tuple(w for w in normalise_title(_journal_name(journal)).split() if w not in _STOPWORDS)
    if not short or full == short or " ".join(full) in _NOT_A_JOURNAL:
        return (short,) if short else ()
    return (short, full)


def _journal_forms_agree(a: tuple[tuple[str, ...], ...], b: tuple[tuple[str, ...], ...]) -> bool:
    if not a or not b:
        return True
    return any(journals_agree(x, y) for x in a for y in b)


def journals_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two journal word lists can name the same journal (abbreviations allowed)."""
    if not a or not b or a == b:
        return True
    if "".join(a) == "".join(b):
        return True  # "Yao Xue Xue Bao" and "Yaoxue Xuebao"
    short, full = (a, b) if len("".join(a)) <= len("".join(b)) else (b, a)
    if len(short) == 1 and len(full) > 1 and short[0] == "".join(w[0] for w in full):
        return True  # "jama", "bmj"
    if len(short) <= len(full):
        position = 0
        for word in short:
            while position < len(full) and not _abbreviates(word, full[position]):
                position += 1
            if position == len(full):
                break
            position += 1
        else:
            # ISO abbreviations sometimes drop a word ("Actas Dermosifiliogr"); a two-word
            # name must match whole so that "Blood" and "Blood Advances" stay different.
            unmatched = len(full) - len(short)
            if unmatched == 0 or (unmatched == 1 and len(full) >= 3):
                return True
    return fuzz.token_sort_ratio(" ".join(a), " ".join(b)) >= 92


# Trailing annotations that databases add to a title: "[Review] [42 refs]", "[German]",
# "[Erratum appears in ...]", "(author's transl)"; removed before titles are compared.
_TRAILING_NOTE = re.compile(
    r"(?:\s*(?:\[[^\[\]]{0,200}\]|\((?:authors?'?s? transl|author's transl)[^()]{0,20}\)))+"
    r"[\s.;:]*$"
)
_NOTE_WORDS = re.compile(
    r"^(?:\d+\s+refs?|review|erratum|errata|comment|retract|published erratum|update|"
    r"corrected|see comment|article in|abstract|summary in|english abstract|"
    r"[a-z]+(?:\s+(?:and|&)\s+[a-z]+)?\s*$)"
)
# A language tag left in the title by an export: "... surgery] LA: Chi".
_LANGUAGE_TAG = re.compile(r"\s+LA:\s*[A-Za-z]{2,12}\.?\s*$")
# MEDLINE's notes on a title, closed or cut off by a field limit: "[Erratum appears in ...".
_CUT_NOTE = re.compile(
    r"\s*\[(?:erratum|errata|comment|retraction|retracted|published erratum|update)\b",
    re.IGNORECASE,
)


def _strip_title_notes(title: str) -> str:
    """Drop database annotations and unwrap a title given in brackets as a translation."""
    text = _LANGUAGE_TAG.sub("", _CUT_NOTE.split(title.strip(), 1)[0])
    while True:
        match = _TRAILING_NOTE.search(text)
        if not match or match.start() == 0:
            break
        notes = re.findall(r"\[([^\[\]]*)\]|\(([^()]*)\)", match.group(0))
        if not all(
            _NOTE_WORDS.match((square or round_).strip().casefold()) for square, round_ in notes
        ):
            break
        text = text[: match.start()].rstrip(" .;:")
    if text.startswith("[") and "]" in text:
        closing = text.rfind("]")
        if closing > len(text) - 4 or text[closing + 1 :].strip(" .") == "":
            text = text[1:closing] + text[closing + 1 :]
    return text


# Titles that name a kind of item rather than a paper; they never match on the title alone.
_GENERIC_WORDS = frozenset(
    [
        *_NOTICE_WORDS,
        "notes",
        "note",
        "editors",
        "editor",
        "abstracts",
        "abstract",
        "introduction",
        "preface",
        "foreword",
        "news",
        "announcement",
        "announcements",
        "index",
        "contents",
        "book",
        "books",
        "review",
        "reviews",
        "obituary",
        "meeting",
        "proceedings",
        "congress",
        "conference",
        "symposium",
        "poster",
        "posters",
        "session",
        "sessions",
        "oral",
        "presentations",
        "summary",
        "highlights",
        "issue",
        "this",
        "reviewers",
        "acknowledgement",
        "acknowledgements",
        "acknowledgment",
        "thanks",
        "remarks",
        "comments",
        "quarterly",
        "authors",
        "author",
        "reader",
        "readers",
        "case",
        "report",
        "reports",
        "guest",
        "invited",
        "society",
        "annual",
        "scientific",
        "international",
        "national",
        "supplement",
        "selected",
        "other",
        "miscellaneous",
        "corrigenda",
        "errors",
        "notice",
        "response",
        "reply",
        "letters",
        "editorials",
        "to",
        "the",
    ]
)
_ANONYMOUS = frozenset(["anonymous", "anon", "no authorship indicated", "unknown", "na", "nn"])
# "Terawaki Y.Nomiyama T." (Embase CSV): the next author starts right after an initial's dot.
_RUN_TOGETHER = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z])")
# Where a short citation's co-authors start: "X et al", "X & Y", "X and Y".
_CITED_CO_AUTHORS = re.compile(r",?\s+(?:et\.?\s+al\b\.?|&|and)(?:\s+|$)", re.IGNORECASE)
_PAGE = re.compile(r"([a-z]*)(\d+)(?:\s*[-\u2013]\s*([a-z]*)(\d+))?")
_PAGE_COUNT = re.compile(r"\d+\s*(?:p|pp|pages?)\.?")
_ABSTRACT_MARK = re.compile(r"conference|congress|meeting|symposium|abstract|suppl|poster")
_ABSTRACT_TYPES = frozenset(
    ["conf", "abst", "cpaper", "inproceedings", "conference", "proceedings", "meeting"]
)
_MONTH = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec")
_ROMAN_PAGE = re.compile(r"([ivxlc]+)\b")
_ISSN = re.compile(r"\d{4}-?\d{3}[\dx]")


def _locator_number(value: str) -> str:
    """The first number of a volume ("65 (Supplement 1)" -> "65"), or ""."""
    match = re.search(r"(\d+)", value)
    return match.group(1).lstrip("0") or "0" if match else ""


def _pages(value: str) -> tuple[str, str, int]:
    """Start page's letter prefix and number, and the page count (0 when unknown)."""
    text = value.casefold().strip()
    # "01-Aug" is a spreadsheet's date made of "1-8": its pages can no longer be read.
    if not text or _PAGE_COUNT.fullmatch(text) or _MONTH.search(text):
        return "", "", 0
    match = _PAGE.search(text)
    if not match:
        roman = _ROMAN_PAGE.match(text)  # a preface on pages "v-vii"
        return ("", roman.group(1), 1) if roman else ("", "", 0)
    prefix, start, _, end = match.groups()
    start = start.lstrip("0") or "0"
    count = 1
    if end:
        end = end.lstrip("0") or "0"
        if len(end) < len(start):  # "1442-8" is 1442-1448
            end = start[: len(start) - len(end)] + end
        count = max(1, int(end) - int(start) + 1) if int(end) >= int(start) else 1
    return prefix, start, count


def _placeholder_page(a: _Prepared, b: _Prepared) -> bool:
    """Whether one side's pages are a lone number against a range on the other: databases
    put a page count, an article number or "1" there, so it is no evidence either way."""
    return a.abstract_like == b.abstract_like and any(
        x.page_count == 1 and not x.page_prefix and y.page_count >= 2 and not y.page_prefix
        for x, y in ((a, b), (b, a))
    )


def _overlap(a: _Prepared, b: _Prepared) -> bool:
    """Whether two page ranges share a page ("S145-S146" and "S146")."""
    if not (a.page.isdigit() and b.page.isdigit()):
        return False
    a_start, b_start = int(a.page), int(b.page)
    return (
        a_start <= b_start < a_start + a.page_count or b_start <= a_start < b_start + b.page_count
    )


@dataclass(slots=True)
class _Prepared:
    index: int
    id: int
    title: str
    words: tuple[str, ...]
    content: tuple[str, ...]  # distinct non-stopwords, in title order
    numbers: tuple[str, ...]
    notices: frozenset[str]
    code: str
    generic: bool
    surname: str
    name_words: frozenset[str]
    year: int | None
    journal: tuple[tuple[str, ...], ...]
    issns: frozenset[str]
    squeezed: str
    doi: str
    pmid: str
    volume: str
    issue: str
    page_prefix: str
    page: str
    page_count: int
    abstract_like: bool  # a conference abstract or supplement item
    abstract: str  # its start, folded


_SPREADSHEET_ERROR = re.compile(r"#(?:NAME\?|VALUE!|REF!|N/A|DIV/0!|NUM!|NULL!)")
_DOI = re.compile(r"10\.\d+(?:\.\d+)*/\S+")


def _doi(value: str) -> str:
    """The DOI in a field that may hold more ("15193 10.1038/ncomms15193")."""
    value = unquote(value)
    match = _DOI.search(value)
    return normalise_doi(match.group(0)) if match else ""  # "JSTAGE/jphs/10136SC [pii]"


def _first_author(authors: Sequence[str]) -> str:
    for author in authors:
        author = (author or "").strip()
        if not author or author.casefold().strip("[]. ") in _ANONYMOUS:
            continue
        author = _RUN_TOGETHER.split(author, 1)[0]
        # A short citation in the author field ("Vandiviere et al", "Ferguson & Simes"): its
        # first author is the name before the join, never "al" nor the second name.
        return _CITED_CO_AUTHORS.split(author, 1)[0].strip() or author
    return ""


def _prepare(index: int, record: DedupRecord) -> _Prepared:
    raw_title = record.title or ""
    # "#NAME?": a spreadsheet's formula error where the title was.
    title = "" if _SPREADSHEET_ERROR.fullmatch(raw_title.strip()) else raw_title
    title = normalise_title(_strip_title_notes(title))
    # Interning shares each distinct word between records: 100,000 titles hold ~1.5M words.
    words = tuple(map(sys.intern, title.split()))
    first_author = _first_author(record.authors)
    code = words[0] if words and _ABSTRACT_CODE.fullmatch(words[0]) else ""
    edges = {*words[:2], *words[-2:]}
    roman = [
        w
        for position, w in enumerate(words)
        if w in _ROMAN and (position == len(words) - 1 or words[position - 1] in _NUMBERED)
    ]
    content = tuple(dict.fromkeys(w for w in words if w not in _STOPWORDS))
    page_prefix, page, page_count = _pages(record.pages or "")
    if record.year is not None and page == str(record.year) and not page_prefix:
        page_prefix, page, page_count = "", "", 0  # the year put in the pages field
    journal = record.journal or ""
    journal_words = _journal_vocabulary(journal)
    issue = (record.issue or "").strip()
    volume = record.volume or ""
    if not volume:
        tail = _CITATION_TAIL.search(record.journal or "")
        volume = (tail.group(1) or tail.group(2)) if tail else ""
    marks = f"{journal} {volume} {issue}".casefold()
    abstract_like = (
        bool(_ABSTRACT_MARK.search(marks))
        or (record.record_type or "").casefold() in _ABSTRACT_TYPES
        or (len(page_prefix) == 1 and page_prefix != "e" and page_count <= 2)
    )
    return _Prepared(
        index=index,
        id=record.id,
        title=title,
        words=words,
        content=content,
        # Digits are read from the title without spaces so that "5-FU" and "5FU", "6.8" and
        # "68" agree; Roman numerals are whole words ("Part II").
        numbers=(*_DIGITS.findall(title.replace(" ", "")), *roman),
        notices=frozenset(w for w in edges if w in _NOTICE_WORDS),
        code=code,
        # "Remarks from MIS Quarterly Editor": words of the journal's name say nothing either.
        generic=len(content) < MIN_CONTENT_WORDS
        or all(w in _GENERIC_WORDS or w in journal_words for w in content),
        surname=_surname(first_author),
        name_words=frozenset(normalise_title(first_author).split()),
        year=record.year,
        journal=_journal_forms(journal),
        issns=frozenset(m.replace("-", "") for m in _ISSN.findall((record.issn or "").casefold())),
        squeezed=title.replace(" ", ""),
        # Some exports percent-encode a DOI's brackets: "s0014-2999%2803%2901994-0".
        doi=_doi(record.doi or ""),
        pmid=(record.pmid or "").strip().lstrip("0"),
        volume=_locator_number(volume),
        issue=issue.lstrip("0") if issue.isdigit() else "",
        page_prefix=page_prefix,
        page=page,
        page_count=page_count,
        abstract_like=abstract_like,
        abstract=_NON_WORD.sub("", (record.abstract or "")[:ABSTRACT_PREFIX].casefold()),
    )


def _words_differ_only_by_typos(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Every run of differing words must be a few character edits apart once joined.

    Joining makes "object-in-context" vs "objectincontext" equal; a word that appears or
    disappears ("female", "long-term") costs its full length and fails.
    """
    # Indel reports a replaced word as a delete next to an insert; merge neighbouring edits
    # into one run before measuring it.
    runs: list[tuple[int, int, int, int]] = []
    for opcode in Indel.opcodes(a, b):
        tag, a_start, a_end, b_start, b_end = (
            opcode.tag,
            opcode.src_start,
            opcode.src_end,
            opcode.dest_start,
            opcode.dest_end,
        )
        if tag == "equal":
            continue
        if runs and runs[-1][1] == a_start and runs[-1][3] == b_start:
            runs[-1] = (runs[-1][0], a_end, runs[-1][2], b_end)
        else:
            runs.append((a_start, a_end, b_start, b_end))
    for a_start, a_end, b_start, b_end in runs:
        left, right = a[a_start:a_end], b[b_start:b_end]
        if all(w in _STOPWORDS for w in left + right):
            continue
        joined_left, joined_right = "".join(left), "".join(right)
        shorter, longer = sorted((joined_left, joined_right), key=len)
        allowed = EDITS_PER_DIFFERENCE
        if len(longer) >= 8 and shorter not in longer:
            allowed += 1  # two typos in one long word, but not a prefix like "non"
        if OSA.distance(joined_left, joined_right) > allowed:
            return False
    return True


def _evidence(a: _Prepared, b: _Prepared) -> tuple[list[str], int]:
    """The fields on which two records disagree, and how many they agree on.

    Only fields both records carry count: a missing volume or page is no evidence either way.
    """
    disagree: list[str] = []
    agree = 0
    if a.doi and b.doi:
        if a.doi == b.doi:
            agree += 1
        else:
            disagree.append("DOI")
    if a.pmid and b.pmid and a.pmid != b.pmid:
        disagree.append("PMID")
    if a.year is not None and b.year is not None and a.year == b.year:
        agree += 1
    for field, left, right in (
        ("volume", a.volume, b.volume),
        ("issue", a.issue, b.issue),
        ("pages", a.page, b.page),
    ):
        if left and right:
            if left == right:
                agree += 1
            elif field != "pages" or not (_overlap(a, b) or _placeholder_page(a, b)):
                disagree.append(field)
    if a.surname and b.surname:
        if _authors_agree(a, b):
            agree += 1
        else:
            disagree.append("first author")
    if a.journal and b.journal and _journal_forms_agree(a.journal, b.journal):
        agree += 1
    return disagree, agree


# One field may disagree (a typing error, a DOI registered twice, an issue number in the wrong
# field) when this many others agree; two disagreeing fields always mean two items.
AGREEMENT_TO_OVERRULE = 4


def _judge(a: _Prepared, b: _Prepared) -> tuple[str, list[str]]:
    """What shows the two records are different items ("" when nothing does), and the
    fields that disagree all the same."""
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return "year", ["year"]
    disagree, agree = _evidence(a, b)
    if not disagree:
        return "", disagree
    # The overruled field needs a witness that pins the item down: the same first page, or,
    # when the pages are what differ, the same volume and issue.
    anchored = (
        bool(a.page and a.page == b.page)
        or bool(a.doi and a.doi == b.doi)
        or (
            disagree == ["pages"]
            and bool(a.volume and a.volume == b.volume)
            and bool(a.issue and a.issue == b.issue)
        )
        # Issue numbers are the least reliable locator (record numbers land there); a long
        # specific title is witness enough.
        or (
            disagree == ["issue"]
            and not (a.generic or b.generic)
            and len(a.content) >= 6
            and not (a.page and b.page)  # pages that differ, however weakly, are no help
        )
    )
    if len(disagree) > 1 or agree < AGREEMENT_TO_OVERRULE or not anchored:
        return ", ".join(disagree), disagree
    # The abstract on page A39 and the article on pages 321-326 are two versions of a paper,
    # however much else they share.
    # Consecutive papers of a series sit in one issue on neighbouring pages; only a page in
    # another form ("2556" in print, "E1924" online) may be overruled.
    if disagree == ["pages"] and (
        a.abstract_like != b.abstract_like
        or {a.page_prefix, b.page_prefix} - {"", "e"}
        or a.page_prefix == b.page_prefix
    ):
        return "pages", disagree
    if disagree == ["PMID"]:
        return "PMID", disagree
    return "", disagree


def _conflict(a: _Prepared, b: _Prepared) -> str:
    return _judge(a, b)[0]


def _authors_agree(a: _Prepared, b: _Prepared) -> bool:
    if _surnames_agree(a.surname, b.surname):
        return True
    # "Ching-yi, Wu" and "Wu, Ching-yi": given name and surname swapped by one database.
    return bool(a.surname) and (
        set(a.surname.split()) <= b.name_words or set(b.surname.split()) <= a.name_words
    )


def _journal_relation(a: _Prepared, b: _Prepared) -> str:
    """ "same", "unknown" (one is missing) or "different"."""
    if a.issns and b.issns and a.issns & b.issns:
        return "same"
    if not a.journal or not b.journal:
        return "unknown"
    return "same" if _journal_forms_agree(a.journal, b.journal) else "different"


def _title_relation(a: _Prepared, b: _Prepared) -> float:
    """100 for the same title, its similarity when only typos differ, 1 when one title is
    the other with a subtitle or a byline added, else 0."""
    if a.title == b.title:
        return 100.0
    if a.numbers != b.numbers or a.notices != b.notices:
        return 0.0
    if a.code != b.code and not (
        # "CT-P10 from ..." and "CTP10 from ..." only look like different abstract codes.
        (a.code and b.squeezed.startswith(a.code)) or (b.code and a.squeezed.startswith(b.code))
    ):
        return 0.0
    similarity = fuzz.ratio(a.title, b.title, score_cutoff=TITLE_SIMILARITY)
    if similarity and _words_differ_only_by_typos(a.words, b.words):
        return float(similarity)
    shorter, longer = sorted((a.words, b.words), key=len)
    if len(shorter) >= 4 and longer[: len(shorter)] == shorter:
        return 1.0
    return 0.0


def _compare(a: _Prepared, b: _Prepared) -> tuple[bool, float, str] | None:
    """Whether two records are one paper: (certain, strength, reason), or None.

    A certain match is merged; an uncertain one goes to a reviewer. Every field both records
    carry must agree (``_conflict``); the title must be the same up to typos; then each thing
    that can differ between two real versions of a paper (journal name, year, a missing first
    author, a shortened title) needs the volume and first page to vouch for it.
    """
    if bool(a.title) != bool(b.title):
        return None
    conflict, disagree = _judge(a, b)
    if conflict:
        return None
    located = bool(a.volume and a.page and a.volume == b.volume and a.page == b.page)
    same_year = a.year is not None and a.year == b.year
    both_authors = bool(a.surname and b.surname)
    journal = _journal_relation(a, b)
    similarity = _title_relation(a, b)
    if not similarity:
        if a.generic or b.generic or not (located or (both_authors and same_year)):
            return None
        if journal == "different" or not (both_authors or journal == "same"):
            return None
        near = fuzz.token_set_ratio(a.title, b.title, score_cutoff=POSSIBLE_SIMILARITY)
        if not near:
            return None
        reason = f"titles {near:.0f}% alike, other details agree"
        # One title holds the other's words and the volume and page vouch for it: a subtitle
        # or a database's note added ("... Cyclooxygenase pathway").
        if (
            near >= 95
            and located
            and same_year
            and both_authors
            and not disagree
            and a.numbers == b.numbers
        ):
            return True, near, reason + ", same volume and page"
        return False, near, reason
    parts = [
        "same title"
        if similarity == 100
        else "title with a subtitle added"
        if similarity == 1
        else f"title {similarity:.0f}% similar"
    ]
    if both_authors:
        parts.append("same first author")
    if a.year is not None and b.year is not None:
        parts.append("same year" if same_year else "year ±1")
    if journal == "same":
        parts.append("same journal")
    if located:
        parts.append("same volume and page")
    reason = ", ".join(parts)

    doubts: list[str] = []
    if disagree and similarity < 97:
        return None
    if disagree:
        reason += f", though the {disagree[0]} differs"
    # "Editorial", "Reply", "Abstracts": the title names a kind of item, not a paper.
    pinned = located and same_year and journal != "different" and a.issue == b.issue
    if not a.title:
        # No title to read ("#NAME?"): even when everything else agrees, a reviewer decides.
        return (
            (False, 50.0, "no title, but same authors, volume and page")
            if (pinned and both_authors)
            else None
        )
    if (a.generic or b.generic) and not pinned:
        return None
    # The same abstract in the same volume vouches for a journal under another name or a
    # shortened title. Alone it does not: a meeting abstract is printed again, word for word,
    # in another journal or as the full paper, and a registry's next record repeats it.
    vouched = located or (bool(a.volume) and a.volume == b.volume and _same_abstract(a, b))
    if similarity == 1 and not vouched:
        doubts.append("one title is longer")
    if journal == "different" and not vouched:
        doubts.append("journal names differ")
    years_differ = a.year is not None and b.year is not None and a.year != b.year
    # One year apart is the epub and the print record, or a registry entry and its update.
    if years_differ and not located and not (both_authors and journal == "same"):
        doubts.append("years differ")
    well_known = journal == "same" and same_year and similarity >= 97 and len(a.content) >= 6
    if not both_authors and not located and not well_known:
        doubts.append("a first author is missing")
    if a.abstract_like != b.abstract_like and not located:
        doubts.append("a conference abstract and an article")
    if doubts:
        return False, similarity, f"{reason}; but {', '.join(doubts)}"
    return True, similarity + (50.0 if located else 0.0), reason


def _same_abstract(a: _Prepared, b: _Prepared) -> bool:
    if len(a.abstract) < MIN_ABSTRACT or len(b.abstract) < MIN_ABSTRACT:
        return False
    return fuzz.ratio(a.abstract, b.abstract, score_cutoff=ABSTRACT_SIMILARITY) > 0


def _numbers_nest(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one title's digits, in order, are all among the other's ("F2t" printed as "F",
    "(2014-2017)" as "(20142017)", "[18F]" as "F-18")."""
    shorter, longer = sorted(("".join(a), "".join(b)), key=len)
    digits = iter(longer)
    return all(digit in digits for digit in shorter)


def _same_identifier(a: _Prepared, b: _Prepared) -> bool:
    """Whether a shared DOI or PMID is borne out: a supplement's DOI is given to each of its
    abstracts, and a wrong identifier comes with someone else's title."""
    conflict, disagree = _judge(a, b)
    if conflict:
        return False
    if not a.title or not b.title or a.title == b.title:
        return True
    # "Delta(8)-" against "Delta(9)-THC": a title naming another thing is a database's mistake
    # for the reviewer to see, not a merge. A number lost with its subscript ("F2t" printed
    # as "F") is no such thing.
    if disagree or a.generic or b.generic or not _numbers_nest(a.numbers, b.numbers):
        return False
    return fuzz.token_set_ratio(a.title, b.title) >= 80


class _UnionFind:
    """Union-find that refuses a union joining a cannot-link pair's two sides."""

    def __init__(self, size: int, cannot_link: dict[int, set[int]]) -> None:
        self.parent = list(range(size))
        self.cannot_link = cannot_link
        # Per root: the members that have cannot-link partners.
        self.guarded: dict[int, set[int]] = {i: {i} for i in cannot_link}
        # Per root of a group of two or more: its members.
        self.groups: dict[int, list[int]] = {}

    def members(self, item: int) -> list[int]:
        root = self.find(item)
        return self.groups.get(root, [root])

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int, *, force: bool = False) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        guarded_a = self.guarded.get(root_a, set())
        guarded_b = self.guarded.get(root_b, set())
        if not force and guarded_a and guarded_b:
            for member in guarded_a:
                if any(self.find(other) == root_b for other in self.cannot_link[member]):
                    return False
        self.parent[root_b] = root_a
        joined = self.groups.pop(root_b, [root_b])
        self.groups.setdefault(root_a, [root_a]).extend(joined)
        if guarded_b:
            self.guarded.setdefault(root_a, set()).update(guarded_b)
            del self.guarded[root_b]
        return True


def _candidate_pairs(prepared: list[_Prepared]) -> Iterable[tuple[int, int]]:
    """Pairs (i < j) that share a blocking key.

    Keys are every pair of a record's rarest title words (a typo in one or two of them
    leaves another pair intact) plus the first and last characters of the title with its
    spaces removed (so that "dual-energy" and "dualenergy" still meet). Blocks larger than
    ``MAX_BLOCK`` come from generic wording and are skipped: their records meet elsewhere.
    """
    frequency: dict[str, int] = defaultdict(int)
    for item in prepared:
        for word in item.content:
            frequency[word] += 1
    blocks: dict[str, list[int]] = defaultdict(list)
    for item in prepared:
        if item.volume and item.page:
            # Same volume and first page finds a title given in another language or cut short.
            blocks[f"#{item.volume}:{item.page}:{item.year}"].append(item.index)
        if not item.title:
            continue
        rarest = sorted(item.content, key=lambda w: (frequency[w], w))[:BLOCKING_KEYS]
        if len(rarest) < 2:
            blocks["t:" + item.title].append(item.index)
        for a_position, a in enumerate(rarest):
            for b in rarest[a_position + 1 :]:
                blocks[f"{a} {b}" if a < b else f"{b} {a}"].append(item.index)
        squeezed = item.squeezed
        blocks["<" + squeezed[:AFFIX_LENGTH]].append(item.index)
        blocks[">" + squeezed[-AFFIX_LENGTH:]].append(item.index)
        if item.surname and item.year is not None:
            # Same first author and year catches titles too mangled for the word keys.
            blocks[f"@{item.surname.rsplit(' ', 1)[-1]} {item.year}"].append(item.index)
    seen: set[int] = set()
    size = len(prepared)
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                key = i * size + j
                if key not in seen:
                    seen.add(key)
                    yield i, j


def _groups_compatible(groups: _UnionFind, prepared: Sequence[_Prepared], i: int, j: int) -> bool:
    """Whether no member of i's group conflicts with a member of j's (A~B and B~C must not
    join A and C when their volumes or pages say they are different items)."""
    members_i = groups.members(i)
    members_j = groups.members(j)
    if len(members_i) * len(members_j) > MAX_GROUP_CHECKS:
        return False
    return not any(_conflict(prepared[x], prepared[y]) for x in members_i for y in members_j)


def find_duplicate_groups(
    records: Iterable[DedupRecord],
    *,
    cannot_link: Iterable[tuple[int, int]] = (),
    must_link: Iterable[tuple[int, int]] = (),
    keep: Iterable[int] = (),
) -> list[DuplicateGroup]:
    """Group records that describe the same paper (``find_duplicates(...).groups``)."""
    return find_duplicates(records, cannot_link=cannot_link, must_link=must_link, keep=keep).groups


def find_duplicates(
    records: Iterable[DedupRecord],
    *,
    cannot_link: Iterable[tuple[int, int]] = (),
    must_link: Iterable[tuple[int, int]] = (),
    keep: Iterable[int] = (),
) -> DedupResult:
    """Group records that describe the same paper, and list the pairs a reviewer should judge.

    Possible pairs are never in one group and never a ``cannot_link`` pair.

    ``must_link`` pairs are always grouped (a team member's merge wins over their own earlier
    ``cannot_link`` of the same pair); ``cannot_link`` pairs are never put in one group, so a
    weaker link that would join their two sides is refused. The primary record of a group is
    the one in ``keep`` if any (the lowest such id), otherwise the lowest id. Groups are
    returned sorted by primary id.
    """
    prepared: list[_Prepared] = []
    position: dict[int, int] = {}
    for record in records:
        if record.id in position:
            raise ValueError(f"record id {record.id} appears twice")
        position[record.id] = len(prepared)
        prepared.append(_prepare(len(prepared), record))

    forbidden: dict[int, set[int]] = defaultdict(set)
    for a, b in cannot_link:
        if a in position and b in position and a != b:
            forbidden[position[a]].add(position[b])
            forbidden[position[b]].add(position[a])
    groups = _UnionFind(len(prepared), dict(forbidden))
    # For each index, the best link that put it in its group: (strength, partner, reason).
    links: dict[int, tuple[float, int, str]] = {}

    def note(i: int, j: int, strength: float, reason: str) -> None:
        for one, other in ((i, j), (j, i)):
            if one not in links or links[one][0] < strength:
                links[one] = (strength, other, reason)

    for a, b in must_link:
        if a in position and b in position and a != b:
            i, j = position[a], position[b]
            groups.union(i, j, force=True)
            note(i, j, 1000.0, "merged by a team member")

    edges: list[tuple[float, int, int, str]] = []
    for field, strength, reason in (("doi", 300.0, "same DOI"), ("pmid", 200.0, "same PMID")):
        by_value: dict[str, list[int]] = defaultdict(list)
        for item in prepared:
            value = getattr(item, field)
            if value:
                by_value[value].append(item.index)
        for indexes in by_value.values():
            # A supplement's DOI is shared by all its abstracts: each pair must bear it out.
            for offset, i in enumerate(indexes[:MAX_IDENTIFIER_SHARERS]):
                for j in indexes[offset + 1 : MAX_IDENTIFIER_SHARERS]:
                    first, second = prepared[i], prepared[j]
                    if field == "pmid" and first.doi and second.doi and first.doi != second.doi:
                        continue  # a shared PMID with two DOIs is a database error, not proof
                    if _same_identifier(first, second):
                        edges.append((strength, i, j, reason))

    maybe: dict[tuple[int, int], str] = {}
    for i, j in _candidate_pairs(prepared):
        result = _compare(prepared[i], prepared[j])
        if result is None:
            continue
        certain, strength, reason = result
        if certain:
            edges.append((strength, i, j, reason))
        else:
            maybe[(i, j)] = reason

    edges.sort(key=lambda edge: (-edge[0], edge[1], edge[2]))
    for strength, i, j, reason in edges:
        if groups.find(i) != groups.find(j) and not _groups_compatible(groups, prepared, i, j):
            maybe.setdefault((min(i, j), max(i, j)), reason + "; but the groups disagree")
            continue
        if groups.union(i, j):
            note(i, j, strength, reason)

    members: dict[int, list[int]] = defaultdict(list)
    for item in prepared:
        members[groups.find(item.index)].append(item.id)
    keep_ids = set(keep)
    found: list[DuplicateGroup] = []
    for ids in members.values():
        if len(ids) < 2:
            continue
        ids.sort()
        kept = [i for i in ids if i in keep_ids]
        primary = kept[0] if kept else ids[0]
        reasons: dict[int, str] = {}
        for member in ids:
            if member == primary:
                continue
            _, partner, reason = links[position[member]]
            partner_id = prepared[partner].id
            reasons[member] = reason if partner_id == primary else f"{reason} (via {partner_id})"
        found.append(DuplicateGroup(primary_id=primary, member_ids=tuple(ids), reasons=reasons))
    found.sort(key=lambda group: group.primary_id)
    possible: dict[tuple[int, int], PossiblePair] = {}
    for (i, j), why in maybe.items():
        if groups.find(i) == groups.find(j) or j in forbidden.get(i, ()):
            continue
        a, b = sorted((prepared[i].id, prepared[j].id))
        possible.setdefault((a, b), PossiblePair(a=a, b=b, reason=why))
    return DedupResult(groups=found, possible_pairs=sorted(possible.values(), key=_pair_key))


def _pair_key(pair: PossiblePair) -> tuple[int, int]:
    return (pair.a, pair.b)
