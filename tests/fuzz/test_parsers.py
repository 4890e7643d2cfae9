"""Every import parser, fed random bytes, random text, mutated real exports and plausible files
with random fields: records or a ParseError naming the problem, never another exception."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from screening.references.parsers import ParsedRecord, ParseError, ParseResult, parse_references
from tests.fuzz.strategies import EXTENSIONS, FUZZ, SEEDS, mutated, structured

STR_FIELDS = ("title", "abstract", "journal", "volume", "issue", "pages", "doi", "pmid", "url")


def parses_or_explains(data: bytes, filename: str) -> ParseResult | None:
    try:
        result = parse_references(data, filename)
    except ParseError as exc:
        assert str(exc).strip(), "a ParseError must say what is wrong"
        return None
    assert result.records, "a result without records must be a ParseError"
    for record in result.records:
        assert isinstance(record, ParsedRecord)
        assert all(isinstance(getattr(record, f), str) for f in STR_FIELDS)
        assert all(isinstance(a, str) for a in record.authors)
        assert record.year is None or isinstance(record.year, int)
        assert record.title or record.doi or record.pmid
    return result


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_the_seeds_themselves_parse(extension):
    for seed in SEEDS[extension][:1]:
        assert parses_or_explains(seed, f"seed{extension}") is not None


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(EXTENSIONS))
@example(b"\xff\xfe" + "TY  - JOUR\n".encode("utf-16-le"), ".ris")
@example(b"\x00" * 10, ".csv")
def test_random_bytes(data, extension):
    parses_or_explains(data, f"upload{extension}")


@FUZZ
@given(st.text(max_size=2000), st.sampled_from(EXTENSIONS))
def test_random_text(text, extension):
    parses_or_explains(text.encode("utf-8", errors="surrogatepass"), f"upload{extension}")


@FUZZ
@given(mutated())
def test_mutated_real_exports(sample):
    data, extension = sample
    parses_or_explains(data, f"upload{extension}")


@FUZZ
@given(structured())
def test_plausible_files_with_random_fields(sample):
    data, extension = sample
    parses_or_explains(data, f"upload{extension}")


@FUZZ
@given(st.binary(max_size=200), st.text(max_size=30))
def test_any_file_name(data, name):
    parses_or_explains(data, name)
