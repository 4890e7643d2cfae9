"""Models arrive with the later issues."""
