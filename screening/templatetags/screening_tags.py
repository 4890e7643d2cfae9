"""Keyword highlighting for the screening page."""

import re

from django import template
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def highlight(text: str, include_terms: list[str], exclude_terms: list[str]) -> SafeString:
    """`text` escaped, with the stage's include terms in green and exclude terms in red.

    Terms match whole-word prefixes, case-insensitively ('random' marks 'randomised'); a term
    ending in '*' says so explicitly. The longest term wins where two overlap.
    """
    terms = [(t, "include") for t in include_terms or []] + [
        (t, "exclude") for t in exclude_terms or []
    ]
    terms = [(t.strip().rstrip("*"), kind) for t, kind in terms if t.strip().rstrip("*")]
    # Some databases export abstracts with HTML headings (<h2>Abstract</h2>): show the words.
    escaped = escape(strip_tags(text or ""))
    if not terms:
        return mark_safe(escaped)  # noqa: S308 -- escaped above
    terms.sort(key=lambda tk: -len(tk[0]))
    kinds = {str(escape(t)).lower(): kind for t, kind in reversed(terms)}
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(str(escape(t))) for t, _ in terms) + r")\w*",
        re.IGNORECASE,
    )

    def mark(match: re.Match[str]) -> str:
        kind = kinds.get(match.group(1).lower(), "include")
        return f'<mark class="hl-{kind}">{match.group(0)}</mark>'

    return mark_safe(pattern.sub(mark, escaped))  # noqa: S308 -- input escaped, tags ours
