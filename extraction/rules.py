"""The small rule language of derived fields: parsed into a tree and evaluated, never eval'd.

    if count_yes(peer_trained, peer_supervised, peer_paid) >= 2 then "higher" else "lower"

Grammar (keywords are case-insensitive)::

    rule    := "if" expr "then" expr ("elif" expr "then" expr)* "else" expr | expr
    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("=" | "==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | "string" | FIELD_KEY | FUNCTION "(" [rule ("," rule)*] ")" | "(" rule ")"
              | "true" | "false" | "blank"

A field key that has no answer is blank; arithmetic or comparison with a blank gives blank,
so a rule over unanswered fields stays empty rather than guessing. `count_yes` and friends count
only what was answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_RULE_LENGTH = 2000
# Parsing and evaluating recurse, once per level of the tree: a rule of 1,900 minus signs or a
# thousand chained additions fits in MAX_RULE_LENGTH but would exhaust Python's stack (a 500
# instead of an error). Brackets, functions, if-then-else, minus signs and 'not's may nest
# MAX_DEPTH deep; the whole tree, chains of operators included, MAX_TREE_DEPTH deep.
MAX_DEPTH = 40
MAX_TREE_DEPTH = 200


class RuleError(ValueError):
    """The rule cannot be parsed or evaluated; the message says where."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|==|!=|[-+*/(),<>=])
    )""",
    re.VERBOSE,
)

KEYWORDS = {"if", "then", "elif", "else", "and", "or", "not", "true", "false", "blank"}


@dataclass(frozen=True)
class Token:
    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"The rule is longer than {MAX_RULE_LENGTH} characters.")
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise RuleError(
                f"Unexpected character {text[pos:].strip()[:1]!r} at position {pos + 1}."
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind)
        if kind == "name" and value.lower() in KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append(Token(kind, value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple[Any, ...] = ()
    # The levels of the tree below and including this node (evaluation recurses once each).
    depth: int = field(default=1, compare=False)


def _depth(value: Any) -> int:
    if isinstance(value, Node):
        return value.depth
    if isinstance(value, tuple):
        return max((_depth(v) for v in value), default=0)
    return 0


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, kind: str, value: str | None = None) -> Token | None:
        tok = self.tok
        if tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def node(self, op: str, args: tuple[Any, ...], pos: int) -> Node:
        depth = 1 + _depth(args)
        if depth > MAX_TREE_DEPTH:
            raise RuleError(
                f"The rule is too deep: more than {MAX_TREE_DEPTH} operations chained at "
                f"position {pos + 1}; split it into several derived fields."
            )
        return Node(op, args, depth)

    def enter(self, what: str, pos: int) -> None:
        """One more level of nesting: the parser recurses once per level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleError(
                f"The rule is nested too deeply: more than {MAX_DEPTH} {what} inside each other "
                f"at position {pos + 1}."
            )

    def expect(self, kind: str, value: str) -> None:
        if self.take(kind, value) is None:
            found = self.tok.value or "the end of the rule"
            raise RuleError(f"Expected '{value}' at position {self.tok.pos + 1}, found '{found}'.")

    def rule(self) -> Node:
        self.enter("brackets, function calls or if-then-else", self.tok.pos)
        try:
            if self.take("keyword", "if"):
                branches: list[Any] = []
                cond = self.expr()
                self.expect("keyword", "then")
                branches.extend([cond, self.expr()])
                while self.take("keyword", "elif"):
                    cond = self.expr()
                    self.expect("keyword", "then")
                    branches.extend([cond, self.expr()])
                self.expect("keyword", "else")
                branches.append(self.expr())
                return self.node("if", tuple(branches), self.tok.pos)
            return self.expr()
        finally:
            self.depth -= 1

    def expr(self) -> Node:
        node = self.and_()
        while tok := self.take("keyword", "or"):
            node = self.node("or", (node, self.and_()), tok.pos)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while tok := self.take("keyword", "and"):
            node = self.node("and", (node, self.not_()), tok.pos)
        return node

    def not_(self) -> Node:
        if tok := self.take("keyword", "not"):
            self.enter("'not's", tok.pos)
            try:
                return self.node("not", (self.not_(),), tok.pos)
            finally:
                self.depth -= 1
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        tok = self.tok
        if tok.kind == "op" and tok.value in ("=", "==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            op = "==" if tok.value == "=" else tok.value
            node = self.node(op, (node, self.sum()), tok.pos)
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.value in "+-" and self.tok.value:
            tok = self.tok
            self.i += 1
            node = self.node(tok.value, (node, self.product()), tok.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/"):
            tok = self.tok
            self.i += 1
            node = self.node(tok.value, (node, self.unary()), tok.pos)
        return node

    def unary(self) -> Node:
        if tok := self.take("op", "-"):
            self.enter("minus signs", tok.pos)
            try:
                return self.node("neg", (self.unary(),), tok.pos)
            finally:
                self.depth -= 1
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        if self.take("number"):
            return Node("const", (Decimal(tok.value),))
        if self.take("string"):
            return Node("const", (tok.value[1:-1],))
        if tok.kind == "keyword" and tok.value in ("true", "false", "blank"):
            self.i += 1
            return Node("const", ({"true": True, "false": False, "blank": None}[tok.value],))
        if self.take("op", "("):
            node = self.rule()
            self.expect("op", ")")
            return node
        if self.take("name"):
            if self.take("op", "("):
                name = tok.value.lower()
                if name not in FUNCTIONS:
                    known = ", ".join(sorted(FUNCTIONS))
                    raise RuleError(f"Unknown function '{tok.value}'. Functions: {known}.")
                args: list[Node] = []
                if not self.take("op", ")"):
                    args.append(self.rule())
                    while self.take("op", ","):
                        args.append(self.rule())
                    self.expect("op", ")")
                return self.node("call", (name, tuple(args)), tok.pos)
            return Node("field", (tok.value,))
        found = tok.value or "the end of the rule"
        raise RuleError(f"Unexpected '{found}' at position {tok.pos + 1}.")


@dataclass(frozen=True)
class Rule:
    text: str
    tree: Node

    @property
    def fields(self) -> set[str]:
        return set(_walk_fields(self.tree))

    @property
    def literals(self) -> set[str]:
        """String results a rule can give (its then/else strings), to check against choices."""
        return set(_result_strings(self.tree))

    def evaluate(self, answers: Mapping[str, Any]) -> Any:
        value = _eval(self.tree, answers)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value


def parse(text: str) -> Rule:
    text = (text or "").strip()
    if not text:
        raise RuleError("The rule is empty.")
    parser = _Parser(tokenize(text))
    tree = parser.rule()
    if parser.tok.kind != "end":
        raise RuleError(f"Unexpected '{parser.tok.value}' at position {parser.tok.pos + 1}.")
    return Rule(text, tree)


def rename_fields(text: str, renames: Mapping[str, str]) -> str:
    """The rule with field keys renamed, strings and functions untouched: a copied block's
    derived field then reads the copies of its fields, not the originals."""
    out, last = [], 0
    for token in tokenize(text):
        if token.kind == "name" and token.value in renames:
            out += [text[last : token.pos], renames[token.value]]
            last = token.pos + len(token.value)
    out.append(text[last:])
    return "".join(out)


def _walk_fields(node: Any) -> Any:
    if isinstance(node, Node):
        if node.op == "field":
            yield node.args[0]
        else:
            for arg in node.args:
                yield from _walk_fields(arg)
    elif isinstance(node, tuple):
        for arg in node:
            yield from _walk_fields(arg)


def _result_strings(node: Node) -> Any:
    if node.op == "const" and isinstance(node.args[0], str):
        yield node.args[0]
    elif node.op == "if":
        branches = node.args
        for i in range(1, len(branches) - 1, 2):
            yield from _result_strings(branches[i])
        yield from _result_strings(branches[-1])


# --- evaluation ----------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _answer(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if value == "" or value == []:
        return None
    return value


def _truthy(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        low = value.lower()
        if low in ("yes", "true"):
            return True
        if low in ("no", "false", "unclear"):
            return False
        return bool(value)
    return bool(value)


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    if isinstance(a, list):
        return any(_equal(x, b) for x in a)
    return bool(a == b)


def _eval(node: Node, answers: Mapping[str, Any]) -> Any:
    op, args = node.op, node.args
    if op == "const":
        return args[0]
    if op == "field":
        return _answer(answers.get(args[0]))
    if op == "if":
        for i in range(0, len(args) - 1, 2):
            if _truthy(_eval(args[i], answers)):
                return _eval(args[i + 1], answers)
        return _eval(args[-1], answers)
    if op == "or":
        left = _truthy(_eval(args[0], answers))
        if left:
            return True
        right = _truthy(_eval(args[1], answers))
        return True if right else (None if left is None or right is None else False)
    if op == "and":
        left = _truthy(_eval(args[0], answers))
        if left is False:
            return False
        right = _truthy(_eval(args[1], answers))
        return False if right is False else (None if left is None or right is None else True)
    if op == "not":
        value = _truthy(_eval(args[0], answers))
        return None if value is None else not value
    if op == "call":
        name, call_args = args
        return FUNCTIONS[name]([_eval(a, answers) for a in call_args])
    left = _eval(args[0], answers)
    if op == "neg":
        n = _number(left)
        return None if n is None else -n
    right = _eval(args[1], answers)
    if left is None or right is None:
        return None
    if op in ("==", "!="):
        same = _equal(left, right)
        return same if op == "==" else not same
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if op in ("<", "<=", ">", ">=") and isinstance(left, str) and isinstance(right, str):
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
                op
            ]
        raise RuleError(f"Cannot compute {left!r} {op} {right!r}: both sides must be numbers.")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return None if b == 0 else a / b
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _flat(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list):
            out.extend(_answer(x) for x in v)
        else:
            out.append(v)
    return out


def _count_of(word: str) -> Callable[[Sequence[Any]], Decimal]:
    def count(values: Sequence[Any]) -> Decimal:
        return Decimal(sum(1 for v in _flat(values) if isinstance(v, str) and v.lower() == word))

    return count


def _numbers(values: Sequence[Any]) -> list[Decimal]:
    return [n for n in (_number(v) for v in _flat(values)) if n is not None]


def _fn_sum(values: Sequence[Any]) -> Decimal:
    return sum(_numbers(values), Decimal(0))


def _fn_min(values: Sequence[Any]) -> Decimal | None:
    nums = _numbers(values)
    return min(nums) if nums else None


def _fn_max(values: Sequence[Any]) -> Decimal | None:
    nums = _numbers(values)
    return max(nums) if nums else None


def _fn_mean(values: Sequence[Any]) -> Decimal | None:
    nums = _numbers(values)
    return sum(nums, Decimal(0)) / len(nums) if nums else None


def _fn_count(values: Sequence[Any]) -> Decimal:
    return Decimal(sum(1 for v in _flat(values) if v is not None))


def _fn_answered(values: Sequence[Any]) -> bool:
    return all(v is not None for v in values)


def _fn_coalesce(values: Sequence[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _fn_round(values: Sequence[Any]) -> Decimal | None:
    if not values:
        raise RuleError("round() needs a number.")
    n = _number(values[0])
    places = int(_number(values[1]) or 0) if len(values) > 1 else 0
    if not -10 <= places <= 10:  # round(x, 10**21) overflowed instead of explaining
        raise RuleError("round() rounds to between -10 and 10 decimal places.")
    try:
        return None if n is None else round(n, places)
    except InvalidOperation as exc:  # more digits than Decimal's 28 of precision
        raise RuleError("round() got a number too large to round to that many places.") from exc


def _fn_contains(values: Sequence[Any]) -> bool | None:
    if len(values) != 2:
        raise RuleError("contains() takes a field and a value.")
    held, wanted = values
    if held is None:
        return None
    items = held if isinstance(held, list) else [held]
    return any(_equal(x, wanted) for x in items)


FUNCTIONS: dict[str, Callable[[Sequence[Any]], Any]] = {
    "count_yes": _count_of("yes"),
    "count_no": _count_of("no"),
    "count_unclear": _count_of("unclear"),
    "count": _fn_count,
    "answered": _fn_answered,
    "coalesce": _fn_coalesce,
    "sum": _fn_sum,
    "min": _fn_min,
    "max": _fn_max,
    "mean": _fn_mean,
    "round": _fn_round,
    "contains": _fn_contains,
}
