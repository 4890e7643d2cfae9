"""Record identifiers: which database an accession number belongs to, and when a number is a
PubMed ID.

One rule runs through this module: an identifier is taken only where the export itself says
what it is. A PMID comes from a field that means PubMed ID (MEDLINE's ``PMID`` tag, a ``PMID:``
label, ``123 [PMID]``, a PubMed link, or an accession number of a record whose database tag
names MEDLINE/PubMed), never from a bare number in a free field such as RIS ``C7`` (Scopus and
Web of Science put the article number there), ``M1`` or ``U1``. Accession numbers of other
databases are kept under the database's key (``ACCESSION_DATABASES``); one whose database the
export does not name is kept under ``"unknown"`` and is never matched on as a PMID.

The display name and the link of every key live here too, so that the record page, the API and
the exports agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

# Key -> the name shown beside the number. "pubmed" is not a key: a PubMed ID is Record.pmid.
ACCESSION_DATABASES: dict[str, str] = {
    "wos": "Web of Science",
    "scopus": "Scopus",
    "embase": "Embase",
    "psycinfo": "APA PsycInfo",
    "cinahl": "CINAHL",
    "cochrane": "Cochrane Library",
    "pmcid": "PubMed Central",
    "dimensions": "Dimensions",
    "lens": "Lens",
    "proquest": "ProQuest",
    "eric": "ERIC",
    "econlit": "EconLit",
    "ebsco": "EBSCOhost",
    "unknown": "Accession number (database not named in the file)",
}

# Public pages that are stable and readable without a subscription. Web of Science, Scopus,
# Embase, PsycInfo, CINAHL, EBSCOhost and ProQuest pages need a login, so they get no link.
_URLS: dict[str, str] = {
    "pmcid": "https://pmc.ncbi.nlm.nih.gov/articles/{}/",
    "cochrane": "https://www.cochranelibrary.com/central/doi/10.1002/central/{}/full",
    "dimensions": "https://app.dimensions.ai/details/publication/{}",
    "lens": "https://www.lens.org/lens/scholar/article/{}/main",
    "eric": "https://eric.ed.gov/?id={}",
}


def accession_name(key: str) -> str:
    return ACCESSION_DATABASES.get(key, key)


def accession_url(key: str, value: str) -> str:
    """A public link to the record in its database, or "" where none is stable and open."""
    template = _URLS.get(key)
    if not template or not value:
        return ""
    if key == "cochrane" and not _CENTRAL_ID.fullmatch(value):
        return ""
    if key == "eric" and not re.fullmatch(r"E[JD]\d+", value):
        return ""
    return template.format(value)


@dataclass(frozen=True)
class Accession:
    key: str
    name: str
    value: str
    url: str


def accession_list(numbers: dict[str, str]) -> list[Accession]:
    """The accession numbers of a record in a stable order (known databases first)."""
    order = {key: position for position, key in enumerate(ACCESSION_DATABASES)}
    return [
        Accession(key, accession_name(key), value, accession_url(key, value))
        for key, value in sorted(numbers.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        if value
    ]


# --- which database a label names ------------------------------------------------------------

# Database tags name a database in words ("Ovid MEDLINE(R) <2021>", "Embase Classic+Embase",
# "APA PsycInfo"), by a vendor code (EBSCOhost "psyh", "ccm", "mdc"; Ovid "medp", "emez") or by
# the data provider ("NLM" is how EndNote marks a record taken from PubMed).
_NAMED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), key)
    for pattern, key in (
        (r"pubmed central|europe ?pmc", "pmcid"),
        (r"medline|pubmed(?!\s*central)|\bnlm\b", "pubmed"),
        (r"embase|excerpta medica", "embase"),
        (r"psyc\s*info|psycinfo|psychinfo|psyc?articles", "psycinfo"),
        (r"cinahl", "cinahl"),
        (r"cochrane|(?<!pubmed )\bcentral\b|\bcctr\b", "cochrane"),
        (r"web of science|web of knowledge|\bwos\b|\bisi\b|clarivate", "wos"),
        (r"scopus", "scopus"),
        (r"dimensions", "dimensions"),
        (r"\blens\b|lens\.org", "lens"),
        (r"proquest", "proquest"),
        (r"\beric\b", "eric"),
        (r"econlit", "econlit"),
        (r"ebsco", "ebsco"),
    )
)
# Vendor database codes, matched whole (lower case).
_CODES: dict[str, str] = {
    # EBSCOhost
    "mdc": "pubmed",
    "cmedm": "pubmed",
    "mnh": "pubmed",
    "psyh": "psycinfo",
    "pdh": "psycinfo",
    "ccm": "cinahl",
    "rzh": "cinahl",
    "cin20": "cinahl",
    "c8h": "cinahl",
    "cul": "cinahl",
    "eric": "eric",
    "ecn": "econlit",
    # Ovid (the D= parameter of its links)
    "medl": "pubmed",
    "medp": "pubmed",
    "mesz": "pubmed",
    "medc": "pubmed",
    "prem": "pubmed",
    "mdp": "pubmed",
    "emed": "embase",
    "emez": "embase",
    "emex": "embase",
    "emexb": "embase",
    "emexa": "embase",
    "oemezd": "embase",
    "embase": "embase",
    "psyc": "psycinfo",
    "psyb": "psycinfo",
    "psya": "psycinfo",
    "cctr": "cochrane",
    "cina": "cinahl",
}
# Ovid splits its databases into segments by year ("med22", "mesx", "emed23", "psyc7"), so its
# D= codes are matched by prefix.
_OVID_PREFIXES: tuple[tuple[str, str], ...] = (
    ("oemez", "embase"),
    ("emed", "embase"),
    ("emez", "embase"),
    ("emex", "embase"),
    ("med", "pubmed"),
    ("mes", "pubmed"),
    ("prem", "pubmed"),
    ("psyc", "psycinfo"),
    ("cctr", "cochrane"),
    ("cina", "cinahl"),
)


def _ovid_code(code: str) -> str | None:
    lowered = code.lower()
    return next((key for prefix, key in _OVID_PREFIXES if lowered.startswith(prefix)), None)


_EBSCO = re.compile(r"ebsco", re.IGNORECASE)


def database_named(label: str) -> str | None:
    """The key of the one database ``label`` names, or None when it names none or several."""
    text = label.strip()
    if not text:
        return None
    code = _CODES.get(text.lower())
    if code:
        return code
    # Ovid appends the years covered ("Ovid MEDLINE(R) <2021>"), which says nothing more.
    text = re.sub(r"<[^>]*>", " ", text)
    found = {key for pattern, key in _NAMED if pattern.search(text)}
    if len(found) > 1:
        found.discard("ebsco")  # "CINAHL (EBSCOhost)" names CINAHL, hosted by EBSCO
    return found.pop() if len(found) == 1 else None


def record_database(db_values: list[str], provider_values: list[str]) -> str | None:
    """The database a record comes from, from its database tag(s) and, failing that, its data
    provider tag(s). ``"ebsco"`` when only EBSCOhost is named; None when nothing or several
    different databases are named (a merged record cannot say whose accession number it
    carries)."""
    named = {key for key in map(database_named, db_values) if key}
    if len(named) == 1:
        return named.pop()
    if named:
        return None
    named = {key for key in map(database_named, provider_values) if key}
    if len(named) == 1:
        return named.pop()
    if named:
        return None
    if any(_EBSCO.search(value) for value in (*provider_values, *db_values)):
        return "ebsco"
    return None


# --- numbers that say what they are ---------------------------------------------------------

_CENTRAL_ID = re.compile(r"CN-\d{8}")
_WOS = re.compile(r"(?:WOS|ISI):[0-9A-Z]{15}")  # "ISI:" in exports before 2010
_SCOPUS = re.compile(r"2-s2\.0-\d{6,}")
_LENS = re.compile(r"\d{3}-\d{3}-\d{3}-\d{3}-\d{3}")
# The first group, when there is one, is the value kept.
_SELF_IDENTIFYING: tuple[tuple[re.Pattern[str], str], ...] = (
    (_WOS, "wos"),
    (re.compile(r"MEDLINE:(\d{1,9})"), "pubmed"),  # Web of Science "All Databases" records
    (_SCOPUS, "scopus"),
    (re.compile(r"PMC\d{3,10}"), "pmcid"),
    (_CENTRAL_ID, "cochrane"),
    (re.compile(r"pub\.\d{7,}"), "dimensions"),
    (_LENS, "lens"),
)


def self_identifying(value: str) -> tuple[str, str] | None:
    """``(key, value)`` for a number whose form names its database ("WOS:000...",
    "MEDLINE:123", "2-s2.0-...", "PMC123", "CN-01234567", Dimensions "pub.123", a Lens ID)."""
    text = value.strip()
    for pattern, key in _SELF_IDENTIFYING:
        match = pattern.fullmatch(text)
        if match:
            return key, match.group(1) if match.groups() else text
    return None


# --- PubMed IDs that are labelled as such ------------------------------------------------------

# "PMID: 123", "PMID 123", "PubMed ID: 123", "PubMed: 123", "123 [PMID]"; a bare "PubMed 2019"
# is not a label.
_PMID_LABEL = re.compile(
    r"\b(?:PMID|PubMed[ _-]?ID)\s*[:=#-]?\s*(\d{1,9})\b"
    r"|\bPubMed\s*:\s*(\d{1,9})\b"
    r"|\b(\d{1,9})\s*\[(?:PMID|pubmed)\]",
    re.IGNORECASE,
)
_PMCID_LABEL = re.compile(r"\b(PMC\d{3,10})\b")
_PUBMED_URL = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/(?:\?term=)?|"
    r"europepmc\.org/(?:abstract|article)/MED/|identifiers\.org/pubmed:)(\d{1,9})\b",
    re.IGNORECASE,
)
_PMC_URL = re.compile(r"ncbi\.nlm\.nih\.gov/(?:pmc/)?articles/(PMC\d{3,10})\b", re.IGNORECASE)


def clean_pmid(value: str) -> str:
    digits = value.strip()
    return digits.lstrip("0") if digits.isdigit() and len(digits) <= 9 else ""


def labelled_pmid(text: str) -> str:
    """A PubMed ID that ``text`` labels as one ("PMID: 123", "PubMed ID 123", "123 [PMID]")."""
    match = _PMID_LABEL.search(text)
    if match is None:
        return ""
    return clean_pmid(next(group for group in match.groups() if group))


def labelled_pmcid(text: str) -> str:
    match = _PMCID_LABEL.search(text)
    return match.group(1) if match else ""


# "Accession Number: 150283836" (EBSCOhost notes), "Web of Science accession number: WOS:..."
# (this app's own RIS export).
_ACCESSION_LABEL = re.compile(
    r"(?:^|[;.]\s*)(?P<name>[A-Za-z][\w .()&/-]{0,60}?\s)?accession number:\s*(?P<value>[^\s;]+)",
    re.IGNORECASE,
)


def labelled_accessions(text: str) -> list[tuple[str | None, str]]:
    """``(database key or None, value)`` for each "[Database] accession number: X" in ``text``."""
    found = []
    for match in _ACCESSION_LABEL.finditer(text):
        value = match.group("value").rstrip(".,")
        name = (match.group("name") or "").strip()
        found.append((database_named(name) if name else None, value))
    return found


def identifier_in_url(url: str) -> tuple[str, str] | None:
    """``(key, value)`` for a link that names both a database and a record in it.

    ``key`` is ``"pubmed"`` for a PubMed link, which the caller turns into the PMID.
    """
    text = url.strip()
    if not text:
        return None
    match = _PUBMED_URL.search(text)
    if match:
        pmid = clean_pmid(match.group(1))
        return ("pubmed", pmid) if pmid else None
    match = _PMC_URL.search(text)
    if match:
        return "pmcid", match.group(1).upper()
    # "<Go to ISI>://WOS:...", Scopus "record.uri?eid=2-s2.0-..."
    for pattern, named in ((_WOS, "wos"), (_SCOPUS, "scopus")):
        match = pattern.search(text)
        if match:
            return named, match.group(0)
    # A library proxy wraps the database's link ("https://proxy/login?url=http://search...").
    start = text.lower().rfind("http")
    try:
        parts = urlsplit(text[start:] if start > 0 else text)
    except ValueError:
        return None
    host, path = parts.netloc.lower(), parts.path
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    if "ebscohost.com" in host or "ovid.com" in host:
        # EBSCOhost: ...login.aspx?db=psyh&AN=2022-96522-001; Ovid: ...?D=medp&AN=39012781
        database = (query.get("db") or query.get("d") or [""])[0]
        accession = (query.get("an") or [""])[0].strip()
        key = _CODES.get(database.lower()) if database else None
        if key is None and database and "ovid.com" in host:
            key = _ovid_code(database)
        if accession and key:
            return key, accession
        if accession and "ebscohost.com" in host:
            return "ebsco", accession
        return None
    if "cochranelibrary.com" in host:
        match = _CENTRAL_ID.search(path)
        return ("cochrane", match.group(0)) if match else None
    if "dimensions.ai" in host:
        match = re.search(r"pub\.\d{7,}", path)
        return ("dimensions", match.group(0)) if match else None
    if host.endswith("lens.org"):
        match = _LENS.search(path)
        return ("lens", match.group(0)) if match else None
    if "proquest.com" in host:
        match = re.search(r"/docview/(\d{5,})", path)
        return ("proquest", match.group(1)) if match else None
    return None


# --- ISSN ----------------------------------------------------------------------------------------

# Eight characters, with or without the hyphen, not inside a longer number (an ISBN).
_ISSN = re.compile(r"(?<![\dXx-])(\d{4})-?(\d{3}[\dXx])(?![\dXx]|-\d)")


def _issn_checks(issn: str) -> bool:
    digits = issn.replace("-", "")
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits[7].upper() == ("X" if check == 10 else str(check))


def issns_in(text: str) -> list[str]:
    """Every valid ISSN in ``text``, normalised to ``1234-567X``, in order, without repeats.

    The check digit is verified, so a page range or a date of the same shape is not taken.
    """
    found: list[str] = []
    for match in _ISSN.finditer(text):
        issn = f"{match.group(1)}-{match.group(2).upper()}"
        if _issn_checks(issn) and issn not in found:
            found.append(issn)
    return found


def join_issns(values: list[str]) -> str:
    found: list[str] = []
    for value in values:
        found.extend(issn for issn in issns_in(value) if issn not in found)
    return "; ".join(found)


# MEDLINE's comment and correction links (CIN, CON, EIN, EFR, RIN, ROF, UIN, UOF, RPI, ECI, ...)
# as they read once copied into a note.
_CITES_OTHER = re.compile(
    r"\b(?:comment|erratum|retract\w*|update|republish\w*|expression of concern|correct\w*|"
    r"reprint|summary for patients|original report)\s+(?:in|on|of|for|from)\b",
    re.IGNORECASE,
)


# --- collecting a record's identifiers ---------------------------------------------------------


@dataclass
class Identifiers:
    """What one record's fields say about its identity; the first labelled value wins."""

    pmid: str = ""
    accession_numbers: dict[str, str] = field(default_factory=dict)

    def add(self, key: str | None, value: str) -> bool:
        """Keep ``value`` under ``key`` (``"pubmed"`` means the PMID). Returns whether it was
        understood, so the caller knows whether the field still belongs in ``raw``."""
        value = value.strip()
        if not key or not value:
            return False
        if key == "pubmed":
            pmid = clean_pmid(value)
            if not pmid:
                return False
            if not self.pmid:
                self.pmid = pmid
            return pmid == self.pmid
        if key == "pmcid":
            value = value.upper()
        # A second, different number for the same database is not kept here: the caller leaves
        # its field in raw, so nothing is lost.
        return self.accession_numbers.setdefault(key, value) == value

    def add_url(self, url: str) -> bool:
        found = identifier_in_url(url)
        return self.add(*found) if found else False

    def add_labelled_text(self, text: str, record_key: str | None = None) -> None:
        """Labels inside free text: a PMID, a PMCID, "Accession Number: ..." notes.

        A note that cites another article ("Comment in: ... PMID: 123", "Erratum in ...")
        names that article's PMID, not this record's, so such a note gives no PMID.
        """
        if not _CITES_OTHER.search(text):
            self.add("pubmed", labelled_pmid(text))
            self.add("pmcid", labelled_pmcid(text))
        for key, value in labelled_accessions(text):
            self.add_accession(value, key or record_key)

    def add_accession(self, value: str, record_key: str | None) -> bool:
        """An accession number field: its own form, else the record's database, else unknown.

        A bare number counts as a PMID only when the record's database is MEDLINE/PubMed, or
        when it repeats the PMID the record already labelled.
        """
        value = value.strip()
        if not value:
            return False
        if value in self.accession_numbers.values():
            return True  # a link or a note of the same record already said whose it is
        known = self_identifying(value)
        if known:
            return self.add(*known)
        if record_key == "pubmed":
            if self.add("pubmed", value):
                return True
            return self.add("unknown", value)
        if record_key:
            return self.add(record_key, value)
        if clean_pmid(value) and clean_pmid(value) == self.pmid:
            return True
        return self.add("unknown", value)
