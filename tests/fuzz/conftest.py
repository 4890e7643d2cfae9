from tests.populated import populated_review  # noqa: F401  # a fixture, used by name
