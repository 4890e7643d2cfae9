"""Fail when a function, method, class or property has no caller (`make lint`).

vulture finds the candidates with the settings in pyproject.toml (`[tool.vulture]`: the paths,
the decorators and names that frameworks call) and `tools/vulture_whitelist.py` (the other
names called from outside Python's sight, each with its reason). vulture gives every unused
definition the same 60% confidence, whatever its kind, so no threshold separates a dead
function from a model field read only by a template: this script keeps the threshold at 60
and reports functions, methods, classes, properties, unused imports and unreachable code, not
variables and attributes, which templates, serializers, `dataclasses.asdict` and Django's
settings read by name.
"""

import sys

from vulture import config, core

REPORTED = {"function", "method", "class", "property", "import", "unreachable_code"}


def main() -> int:
    settings = config.make_config()
    scan = core.Vulture(
        ignore_names=settings["ignore_names"], ignore_decorators=settings["ignore_decorators"]
    )
    scan.scavenge(settings["paths"], exclude=settings["exclude"])
    dead = [
        item
        for item in scan.get_unused_code(min_confidence=settings["min_confidence"])
        if item.typ in REPORTED
    ]
    for item in dead:
        print(item.get_report())
    if dead:
        print(
            f"{len(dead)} definitions have no caller: delete them, or name the framework that "
            "calls them in tools/vulture_whitelist.py",
            file=sys.stderr,
        )
    # vulture's own exit code says whether a file could not be read or parsed.
    return 1 if dead or scan.exit_code != core.ExitCode.NoDeadCode else 0


if __name__ == "__main__":
    sys.exit(main())
