# The analysis worker tests build their data with the analysis tests' fixtures.
from tests.analysis.conftest import outcome, sheet  # noqa: F401 -- imported to register fixtures
