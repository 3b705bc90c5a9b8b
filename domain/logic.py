"""The `when` logic of a rule: `all`, `any`, or an expression over 1-based condition indexes.

Expressions use `and`, `or`, `not` and parentheses, with the usual precedence (not > and > or).
They are parsed by a small recursive-descent parser into a tree of tuples; nothing is evaluated
as Python.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Literal, TypeAlias

Op: TypeAlias = Literal["and", "or"]
Node: TypeAlias = (
    tuple[Literal["ref"], int]  # condition n (1-based)
    | tuple[Literal["const"], bool]  # `all` or `any` over no conditions
    | tuple[Literal["not"], "Node"]
    | tuple[Op, "Node", "Node"]
)

_TOKEN = re.compile(r"\s*(?:(\d+)|(\()|(\))|([A-Za-z_]+)|(\S))")


class LogicError(ValueError):
    """A `when` expression that cannot be read."""


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        number, opening, closing, word, other = match.groups()
        if other is not None:
            raise LogicError(f"unexpected character {other!r} in when expression {text!r}")
        if word is not None:
            word = word.lower()
            if word not in ("and", "or", "not"):
                raise LogicError(
                    f"unknown word {word!r} in when expression {text!r}: use condition numbers "
                    "with and, or, not and parentheses"
                )
        token = number or opening or closing or word
        assert token is not None  # the pattern cannot match without capturing one group
        out.append(token)
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise LogicError(f"when expression {self.text!r} ends too early")
        self.at += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise LogicError("when expression is empty")
        node = self.either()
        if self.peek() is not None:
            raise LogicError(f"unexpected {self.peek()!r} in when expression {self.text!r}")
        return node

    def either(self) -> Node:
        node = self.both()
        while self.peek() == "or":
            self.take()
            node = ("or", node, self.both())
        return node

    def both(self) -> Node:
        node = self.negation()
        while self.peek() == "and":
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.peek() == "not":
            self.take()
            return ("not", self.negation())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.either()
            if self.peek() != ")":
                raise LogicError(f"missing ')' in when expression {self.text!r}")
            self.take()
            return node
        if token.isdigit():
            return ("ref", int(token))
        raise LogicError(f"unexpected {token!r} in when expression {self.text!r}")


def parse(when: str, count: int) -> Node:
    """Parse `all`, `any` or an expression for a rule with `count` conditions."""
    keyword = when.strip().lower()
    if keyword == "all":
        return _fold("and", count)
    if keyword == "any":
        return _fold("or", count)
    node = _Parser(when).parse()
    for index in references(node):
        if not 1 <= index <= count:
            raise LogicError(
                f"when expression {when!r} names condition {index}, but the rule has "
                f"{count} condition{'s' if count != 1 else ''}"
            )
    return node


def _fold(op: Op, count: int) -> Node:
    if count == 0:
        return ("const", op == "and")
    node: Node = ("ref", 1)
    for index in range(2, count + 1):
        node = (op, node, ("ref", index))
    return node


def references(node: Node) -> list[int]:
    if node[0] == "ref":
        return [node[1]]
    if node[0] == "const":
        return []
    return [index for child in node[1:] for index in references(child)]


def evaluate(node: Node, truth: Callable[[int], bool]) -> bool:
    if node[0] == "ref":
        return truth(node[1])
    if node[0] == "const":
        return bool(node[1])
    if node[0] == "not":
        return not evaluate(node[1], truth)
    if node[0] == "and":
        return evaluate(node[1], truth) and evaluate(node[2], truth)
    return evaluate(node[1], truth) or evaluate(node[2], truth)


def compile_tree(node: Node) -> Callable[[list[bool]], bool]:
    """A function of the conditions' truths (a list, condition n at index n-1) for this tree."""
    if node[0] == "const":
        value = bool(node[1])
        return lambda truths: value
    if node[0] == "ref":
        position = node[1] - 1
        return lambda truths: truths[position]
    if node[0] == "not":
        inner = compile_tree(node[1])
        return lambda truths: not inner(truths)
    kind = node[0]
    flat = _flatten(node, kind)
    parts = [compile_tree(child) for child in flat]
    positions = [child[1] - 1 for child in flat if child[0] == "ref"]
    if len(positions) == len(flat) == 2:
        left, right = positions
        if kind == "and":
            return lambda truths: truths[left] and truths[right]
        return lambda truths: truths[left] or truths[right]
    if len(positions) == len(flat):
        pick = operator.itemgetter(*positions)  # three or more positions: a tuple of truths
        if kind == "and":
            return lambda truths: all(pick(truths))
        return lambda truths: any(pick(truths))
    if len(parts) == 2:  # the usual shape, `1 and not 2`: no generator for two parts
        first, second = parts
        if kind == "and":
            return lambda truths: first(truths) and second(truths)
        return lambda truths: first(truths) or second(truths)
    if kind == "and":
        return lambda truths: all(part(truths) for part in parts)
    return lambda truths: any(part(truths) for part in parts)


def _flatten(node: Node, kind: Op) -> list[Node]:
    if node[0] != kind:
        return [node]
    return [*_flatten(node[1], kind), *_flatten(node[2], kind)]
