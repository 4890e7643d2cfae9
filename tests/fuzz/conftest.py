from tests.populated_review import populated_review  # noqa: F401  # a fixture, used by name
