"""PRISMA 2020 flow-diagram counts: reconciliation, SVG in the published layout, and CSV.

Pure Python (no Django) so the diagram can be built and tested from plain numbers. The boxes
follow the "identification of studies via databases and registers" template of Page et al.
(2021), BMJ 372:n71; ``docs/agreement-and-prisma.md`` says how each box is counted.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

# "Full text not available", "Could not retrieve the report", "No full text", ...: these
# describe the retrieval box of PRISMA, not a reason for excluding an assessed report.
_DOCUMENT = r"(?:full[\s-]?texts?|reports?|papers?|articles?|pdfs?)"
_NOT_RETRIEVED = re.compile(
    r"retriev|no full[\s-]?text"
    rf"|{_DOCUMENT}\b.{{0,30}}\b(?:not (?:available|accessible|found|obtained)|unavailable"
    r"|unobtainable|inaccessible)"
    rf"|(?:could not|couldn't|cannot|unable to) (?:be )?(?:obtain|access|find|get|locate)\w*"
    rf"\b.{{0,20}}{_DOCUMENT}",
    re.IGNORECASE,
)


def is_not_retrieved_reason(reason: str) -> bool:
    """Whether an exclusion reason means the report was not retrieved."""
    return bool(_NOT_RETRIEVED.search(reason or ""))


@dataclass(frozen=True)
class PrismaCounts:
    """The numbers of one PRISMA 2020 flow diagram (new review, databases and registers).

    ``identified_per_source`` and ``reports_excluded`` keep the caller's order, which is the
    order of the lines in the diagram and in the CSV.
    """

    identified_per_source: dict[str, int]
    duplicates_removed: int
    records_screened: int
    records_excluded: int
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: dict[str, int] = field(default_factory=dict)
    studies_included: int = 0
    reports_of_included_studies: int = 0

    @property
    def records_identified(self) -> int:
        return sum(self.identified_per_source.values())

    @property
    def reports_excluded_total(self) -> int:
        return sum(self.reports_excluded.values())

    def reconcile(self) -> list[str]:
        """Every way the boxes fail to add up, in words; an empty list when they all do."""
        problems: list[str] = []
        for name, value in self._scalar_boxes():
            if value < 0:
                problems.append(f"{_LABELS[name]} is negative ({value:,}).")
        for source, value in self.identified_per_source.items():
            if value < 0:
                problems.append(f"Records identified from {source!r} is negative ({value:,}).")
        for reason, value in self.reports_excluded.items():
            if value < 0:
                problems.append(f"Reports excluded for {reason!r} is negative ({value:,}).")

        def flow(start: str, a: int, minus: str, b: int, expected: str, actual: int) -> None:
            if a - b != actual:
                problems.append(
                    f"{start} ({a:,}) minus {minus} ({b:,}) is {a - b:,}, "
                    f"but {expected} is {actual:,}."
                )

        flow(
            "Records identified",
            self.records_identified,
            "duplicate records removed",
            self.duplicates_removed,
            "records screened",
            self.records_screened,
        )
        flow(
            "Records screened",
            self.records_screened,
            "records excluded",
            self.records_excluded,
            "reports sought for retrieval",
            self.reports_sought,
        )
        flow(
            "Reports sought for retrieval",
            self.reports_sought,
            "reports not retrieved",
            self.reports_not_retrieved,
            "reports assessed for eligibility",
            self.reports_assessed,
        )
        flow(
            "Reports assessed for eligibility",
            self.reports_assessed,
            "reports excluded",
            self.reports_excluded_total,
            "reports of included studies",
            self.reports_of_included_studies,
        )
        if self.studies_included > self.reports_of_included_studies:
            problems.append(
                f"Studies included ({self.studies_included:,}) exceeds reports of included "
                f"studies ({self.reports_of_included_studies:,}); every study needs a report."
            )
        return problems

    def to_dict(self) -> dict[str, object]:
        return {
            "identified_per_source": dict(self.identified_per_source),
            "records_identified": self.records_identified,
            "duplicates_removed": self.duplicates_removed,
            "records_screened": self.records_screened,
            "records_excluded": self.records_excluded,
            "reports_sought": self.reports_sought,
            "reports_not_retrieved": self.reports_not_retrieved,
            "reports_assessed": self.reports_assessed,
            "reports_excluded": dict(self.reports_excluded),
            "reports_excluded_total": self.reports_excluded_total,
            "studies_included": self.studies_included,
            "reports_of_included_studies": self.reports_of_included_studies,
            "problems": self.reconcile(),
        }

    def _scalar_boxes(self) -> list[tuple[str, int]]:
        return [
            ("duplicates_removed", self.duplicates_removed),
            ("records_screened", self.records_screened),
            ("records_excluded", self.records_excluded),
            ("reports_sought", self.reports_sought),
            ("reports_not_retrieved", self.reports_not_retrieved),
            ("reports_assessed", self.reports_assessed),
            ("studies_included", self.studies_included),
            ("reports_of_included_studies", self.reports_of_included_studies),
        ]


_LABELS = {
    "records_identified": "Records identified",
    "duplicates_removed": "Duplicate records removed",
    "records_screened": "Records screened",
    "records_excluded": "Records excluded",
    "reports_sought": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed": "Reports assessed for eligibility",
    "reports_excluded": "Reports excluded",
    "studies_included": "Studies included in review",
    "reports_of_included_studies": "Reports of included studies",
}


def to_csv(counts: PrismaCounts) -> str:
    """``box,count`` rows in diagram order, with one row per source and per exclusion reason."""
    rows: list[tuple[str, int]] = [("Records identified", counts.records_identified)]
    rows += [(f"Records identified: {s}", n) for s, n in counts.identified_per_source.items()]
    rows += [
        ("Duplicate records removed", counts.duplicates_removed),
        ("Records screened", counts.records_screened),
        ("Records excluded", counts.records_excluded),
        ("Reports sought for retrieval", counts.reports_sought),
        ("Reports not retrieved", counts.reports_not_retrieved),
        ("Reports assessed for eligibility", counts.reports_assessed),
        ("Reports excluded", counts.reports_excluded_total),
    ]
    rows += [(f"Reports excluded: {r}", n) for r, n in counts.reports_excluded.items()]
    rows += [
        ("Studies included in review", counts.studies_included),
        ("Reports of included studies", counts.reports_of_included_studies),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["box", "count"])
    for box, count in rows:
        writer.writerow([_csv_safe(box), count])
    return buffer.getvalue()


# --- SVG ------------------------------------------------------------------------------------

_WIDTH = 900
_MARGIN = 16
_PHASE_X, _PHASE_W = _MARGIN, 34
_LEFT_X, _LEFT_W = 70, 380
_RIGHT_X, _RIGHT_W = 510, _WIDTH - _MARGIN - 510
_FONT = 14
_LINE = 19
_PAD_X, _PAD_Y = 12, 12
_ROW_GAP = 36
_INDENT = 16
_TITLE_FONT, _TITLE_LINE = 18, 23
_FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', sans-serif"

# One line of a box: (text, indent level, bold). Indented lines are the per-source and
# per-reason counts that the published template lists under a heading.
_Line = tuple[str, int, bool]


def render_svg(counts: PrismaCounts, *, title: str = "") -> str:
    """A standalone SVG of the PRISMA 2020 flow diagram (Page et al. 2021, BMJ 372:n71).

    Boxes grow with their content (long source lists, many exclusion reasons, long names are
    wrapped), user text is XML-escaped, and numbers are printed with thousands separators.
    """
    n = _n
    rows: list[tuple[list[_Line], list[_Line] | None]] = [
        (
            _listed("Records identified", "from", counts.identified_per_source),
            [
                ("Records removed before screening:", 0, False),
                (f"Duplicate records removed {n(counts.duplicates_removed)}", 1, False),
            ],
        ),
        (
            [(f"Records screened {n(counts.records_screened)}", 0, False)],
            [(f"Records excluded {n(counts.records_excluded)}", 0, False)],
        ),
        (
            [(f"Reports sought for retrieval {n(counts.reports_sought)}", 0, False)],
            [(f"Reports not retrieved {n(counts.reports_not_retrieved)}", 0, False)],
        ),
        (
            [(f"Reports assessed for eligibility {n(counts.reports_assessed)}", 0, False)],
            _listed("Reports excluded", "", counts.reports_excluded),
        ),
        (
            [
                (f"Studies included in review {n(counts.studies_included)}", 0, False),
                (f"Reports of included studies {n(counts.reports_of_included_studies)}", 0, False),
            ],
            None,
        ),
    ]

    parts: list[str] = []
    y = _MARGIN
    if title:
        title_lines = _wrap_text(
            _clean(title), _WIDTH - 2 * _MARGIN, _WIDTH - 2 * _MARGIN, _TITLE_FONT, bold=True
        )
        for i, line in enumerate(title_lines):
            parts.append(
                f'<text x="{_WIDTH / 2:g}" y="{y + _TITLE_FONT + i * _TITLE_LINE}" '
                f'text-anchor="middle" font-size="{_TITLE_FONT}" font-weight="bold">'
                f"{_text(line)}</text>"
            )
        y += _TITLE_LINE * len(title_lines) + 14

    header_h = 40
    parts.append(
        _rect(_LEFT_X, y, _RIGHT_X + _RIGHT_W - _LEFT_X, header_h, fill="#f7c948", rounded=True)
    )
    parts.append(
        f'<text x="{(_LEFT_X + _RIGHT_X + _RIGHT_W) / 2:g}" y="{y + header_h / 2 + 5:g}" '
        f'text-anchor="middle" font-size="15" font-weight="bold">'
        "Identification of studies via databases and registers</text>"
    )
    y += header_h + 24

    # Each box is as tall as its text; the boxes of one row are centred on the arrow between
    # them. Rows that carry a whole phase label alone get a minimum height so the rotated
    # label fits its bar.
    min_heights = {0: 120, 4: 96}
    row_spans: list[tuple[float, float]] = []
    previous_bottom = 0.0
    for position, (left, right) in enumerate(rows):
        left_lines = _wrap(left, _LEFT_W)
        right_lines = _wrap(right, _RIGHT_W) if right is not None else []
        left_h = max(_PAD_Y * 2 + _LINE * len(left_lines), 48)
        right_h = max(_PAD_Y * 2 + _LINE * len(right_lines), 48) if right is not None else 0
        row_h = max(left_h, right_h, min_heights.get(position, 0))
        if row_h > max(left_h, right_h):
            left_h = row_h
            right_h = row_h if right is not None else 0
        mid = y + row_h / 2
        left_top = mid - left_h / 2
        parts.append(_rect(_LEFT_X, left_top, _LEFT_W, left_h))
        parts.append(_text_block(left_lines, _LEFT_X, left_top, left_h))
        if right is not None:
            right_top = mid - right_h / 2
            parts.append(_rect(_RIGHT_X, right_top, _RIGHT_W, right_h))
            parts.append(_text_block(right_lines, _RIGHT_X, right_top, right_h))
            parts.append(_arrow(_LEFT_X + _LEFT_W, mid, _RIGHT_X, mid))
        if position:
            parts.append(
                _arrow(_LEFT_X + _LEFT_W / 2, previous_bottom, _LEFT_X + _LEFT_W / 2, left_top)
            )
        previous_bottom = left_top + left_h
        row_spans.append((y, y + row_h))
        y += row_h + _ROW_GAP

    for label, first, last in (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4)):
        top, bottom = row_spans[first][0], row_spans[last][1]
        parts.append(_rect(_PHASE_X, top, _PHASE_W, bottom - top, fill="#a9cbe8", rounded=True))
        cx, cy = _PHASE_X + _PHASE_W / 2, (top + bottom) / 2
        parts.append(
            f'<text x="{cx:g}" y="{cy:g}" transform="rotate(-90 {cx:g} {cy:g})" '
            f'text-anchor="middle" dominant-baseline="central" font-size="15" '
            f'font-weight="bold">{label}</text>'
        )

    height = y - _ROW_GAP + _MARGIN
    label = title or "PRISMA 2020 flow diagram"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height:g}" '
        f'viewBox="0 0 {_WIDTH} {height:g}" role="img" font-family="{_FONT_FAMILY}" '
        f'font-size="{_FONT}" fill="#111">\n'
        f"<title>{_text(label)}</title>\n"
        "<defs>"
        '<marker id="prisma-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#111"/></marker>'
        "</defs>\n"
        f'<rect width="{_WIDTH}" height="{height:g}" fill="#fff"/>\n'
        + "\n".join(parts)
        + "\n</svg>\n"
    )


def _listed(heading: str, joiner: str, items: dict[str, int]) -> list[_Line]:
    """A heading with its total, then one indented line per item ("Embase (n = 2,011)")."""
    total = f"{heading} {_n(sum(items.values()))}"
    if not items:
        return [(total, 0, False)]
    return [(f"{total} {joiner}:" if joiner else f"{total}:", 0, False)] + [
        (f"{name} {_n(value)}", 1, False) for name, value in items.items()
    ]


def _n(value: int) -> str:
    return f"(n = {value:,})"


def _wrap(lines: list[_Line], box_width: int) -> list[_Line]:
    wrapped: list[_Line] = []
    for text, indent, bold in lines:
        first = box_width - 2 * _PAD_X - indent * _INDENT
        # Continuation lines indent one step further so a wrapped name reads as one item.
        pieces = _wrap_text(_clean(text), first, first - _INDENT, _FONT, bold=bold)
        wrapped.append((pieces[0], indent, bold))
        wrapped += [(piece, indent + 1, bold) for piece in pieces[1:]]
    return wrapped


def _wrap_text(
    text: str, first_width: float, rest_width: float, size: float, *, bold: bool = False
) -> list[str]:
    """Greedy word wrap by measured width; a count "(n = 1,234)" is kept on one line."""
    words = _COUNT.sub(lambda m: m.group(0).replace(" ", "\u00a0"), text).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        width = first_width if not lines else rest_width
        candidate = f"{current} {word}" if current else word
        if _text_width(candidate, size, bold=bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            width = rest_width
        # A word wider than the box (a URL, a long compound) is cut where it overflows.
        while _text_width(word, size, bold=bold) > width:
            cut = max(1, _fit(word, width, size, bold))
            lines.append(word[:cut])
            word = word[cut:]
            width = rest_width
        current = word
    lines.append(current)
    return [line.replace("\u00a0", " ") for line in lines]


def _fit(word: str, width: float, size: float, bold: bool) -> int:
    for cut in range(len(word), 0, -1):
        if _text_width(word[:cut], size, bold=bold) <= width:
            return cut
    return 0


# Advance widths of Helvetica (Adobe core-font AFM, 1/1000 em) for printable ASCII; Arial and
# Liberation Sans share them. Wrapping by measured width keeps all-capital database names
# ("CINAHL", "LILACS") inside their boxes, which an average character width does not.
_HELVETICA = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
        "abcdefghijklmnopqrstuvwxyz{|}~",
        [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
        + [556] * 10
        + [278, 278, 584, 584, 584, 556, 1015]
        + [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833]
        + [722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611]
        + [278, 278, 278, 469, 556, 333]
        + [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833]
        + [556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500]
        + [334, 260, 334, 584],
        strict=True,
    )
)


def _text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Rendered width in px, erring wide: bold adds 8 %, unknown characters count 0.6 em
    (1 em when East Asian wide)."""
    units = 0
    for char in text:
        if char == "\u00a0":
            units += 278
        elif char in _HELVETICA:
            units += _HELVETICA[char]
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            units += 1000
        else:
            units += 600
    return units * size / 1000 * (1.08 if bold else 1.0)


_COUNT = re.compile(r"\(n = [-0-9,]+\):?")


def _text_block(lines: list[_Line], x: int, y: float, h: float) -> str:
    top = y + (h - _LINE * len(lines)) / 2 + _FONT  # centre the block, baseline of line one
    out = []
    for i, (text, indent, bold) in enumerate(lines):
        weight = ' font-weight="bold"' if bold else ""
        out.append(
            f'<text x="{x + _PAD_X + indent * _INDENT}" y="{top + i * _LINE:g}"{weight}>'
            f"{_text(text)}</text>"
        )
    return "\n".join(out)


def _rect(
    x: float, y: float, w: float, h: float, *, fill: str = "#fff", rounded: bool = False
) -> str:
    radius = ' rx="8" ry="8"' if rounded else ""
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}"{radius} fill="{fill}" '
        'stroke="#111" stroke-width="1.2"/>'
    )


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="#111" '
        'stroke-width="1.4" marker-end="url(#prisma-arrow)"/>'
    )


# Characters XML 1.0 forbids even when escaped; a pasted database name can carry them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return " ".join(_XML_INVALID.sub("", text).split())


def _text(text: str) -> str:
    return escape(_clean(text))


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in user text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
