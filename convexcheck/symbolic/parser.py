"""A whitelisted parser for expressions in SymPy's printed syntax.

Nothing in a user's string is ever executed: there is no ``eval``, ``sympify`` or ``parse_expr``
here, only a tokenizer (one regular expression) and a precedence-climbing parser that knows the
contract's grammar and builds :mod:`convexcheck.symbolic.ir` nodes directly. Anything else — an
unknown function, a dunder name, a string, a lambda, a subscript — is a :class:`ParseError` that
names the position and what was expected.

Grammar (loosest first)::

    condition  :=  or-terms joined by '|', '&'; prefix '~'; comparisons < <= > >= (chains allowed)
    arithmetic :=  '+' '-'  <  '*' '/'  <  unary '-' '+'  <  '**' '^' (right-associative)
    primary    :=  number | name | constant (pi, E) | function '(' args ')' | '(' expression ')'
    Piecewise((value, condition), ..., (value, True))

Size limits keep hostile input from hanging or exhausting the stack: ``max_length`` characters
(default 500,000; ``None`` for generated inputs), nesting at most :data:`MAX_DEPTH` levels, and
numeric literals of at most 400 decimal digits of exponent.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from convexcheck.errors import ParseError
from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import UNARY_FUNCTIONS
from convexcheck.symbolic.ir import Node

MAX_DEPTH = 200
DEFAULT_MAX_LENGTH = 500_000

#: name in the string -> IR function name (aliases included)
FUNCTIONS = {name: name for name in (*UNARY_FUNCTIONS, *ir.NARY_FUNCTIONS)}
FUNCTIONS.update({"abs": "Abs", "ln": "log"})
SPECIAL_FORMS = ("sqrt", "Piecewise", "And", "Or", "Not")
CONSTANT_NAMES = {"pi": "pi", "E": "E"}
FORBIDDEN_NAMES = {
    "oo": "infinity is only allowed in domains, not in expressions",
    "zoo": "complex infinity is not a real value",
    "nan": "nan is not a real value",
    "I": "the imaginary unit is not supported: convexity is about real functions",
    "lambda": "lambdas are not part of the expression grammar",
}

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>\*\*|<=|>=|==|!=|[-+*/^(),<>&|~])
    )
    """,
    re.VERBOSE,
)

_BINARY = {
    "|": (1, "left"),
    "&": (2, "left"),
    "<": (4, "cmp"),
    "<=": (4, "cmp"),
    ">": (4, "cmp"),
    ">=": (4, "cmp"),
    "+": (5, "left"),
    "-": (5, "left"),
    "*": (6, "left"),
    "/": (6, "left"),
    "**": (8, "right"),
    "^": (8, "right"),
}
_NARY_OPS = {"+": "add", "-": "add", "*": "mul", "/": "mul"}
_UNARY_MINUS_PREC = 7
_NOT_PREC = 3


class _Token:
    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind = kind
        self.text = text
        self.pos = pos


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    append = tokens.append
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            break
        kind = m.lastgroup
        pos = m.end()
        append(_Token(kind, m.group(kind), m.start(kind)))  # type: ignore[arg-type]
    tail = text[pos:]
    pos += len(tail) - len(tail.lstrip())
    if pos < len(text):
        ch = text[pos]
        hint = " (strings are not part of the grammar)" if ch in "'\"" else ""
        if ch in "[]{}":
            hint = " (brackets are not part of the grammar; use parentheses)"
        if ch in ".:;=@$#!?`\\":
            hint = " (attribute access, statements and assignments are not allowed)"
        raise ParseError(f"unexpected character {ch!r} at position {pos}{hint}", pos)
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.variables: dict[str, Node] = {}

    # ---- helpers ----------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def describe(self, tok: _Token) -> str:
        return "the end of the expression" if tok.kind == "end" else repr(tok.text)

    def fail(self, expected: str, tok: _Token | None = None) -> ParseError:
        tok = tok or self.peek()
        return ParseError(
            f"at position {tok.pos}: expected {expected} but found {self.describe(tok)}", tok.pos
        )

    def expect(self, text: str) -> _Token:
        tok = self.peek()
        if tok.text != text or tok.kind not in ("op",):
            raise self.fail(repr(text))
        return self.advance()

    def enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(
                f"at position {tok.pos}: expression nested more than {MAX_DEPTH} levels deep",
                tok.pos,
            )

    def leave(self) -> None:
        self.depth -= 1

    @staticmethod
    def numeric(node: Node, tok: _Token, what: str) -> Node:
        if node.is_bool:
            raise ParseError(
                f"at position {tok.pos}: {what} needs a numeric operand, not a condition", tok.pos
            )
        return node

    @staticmethod
    def boolean(node: Node, tok: _Token, what: str) -> Node:
        if not node.is_bool:
            raise ParseError(
                f"at position {tok.pos}: {what} needs a condition (a comparison), "
                "not a numeric expression",
                tok.pos,
            )
        return node

    # ---- grammar ----------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ParseError("the expression is empty", 0)
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.fail("an operator or the end of the expression")
        if node.is_bool:
            raise ParseError("the expression is a condition, not a function to check", 0)
        return node

    def expression(self, min_prec: int) -> Node:
        left = self.unary()
        chain_rhs: Node | None = None
        while True:
            tok = self.peek()
            if tok.kind != "op" or tok.text not in _BINARY:
                return left
            prec, assoc = _BINARY[tok.text]
            if prec < min_prec:
                return left
            self.advance()
            if assoc == "cmp":
                right = self.numeric(self.expression(prec + 1), tok, f"'{tok.text}'")
                lhs = (
                    chain_rhs if chain_rhs is not None else self.numeric(left, tok, "a comparison")
                )
                rel = ir.relation(tok.text, lhs, right)
                left = rel if chain_rhs is None else ir.logic("And", left, rel)
                chain_rhs = right
                continue
            chain_rhs = None
            if tok.text in _NARY_OPS:
                left = self.nary(tok, left, prec)
                continue
            if assoc == "right":  # x**x**x... recurses once per operator: count it as nesting
                self.enter(tok)
                right = self.expression(prec)
                self.leave()
            else:
                right = self.expression(prec + 1)
            left = self.binary(tok, left, right)

    def nary(self, tok: _Token, first: Node, prec: int) -> Node:
        """A chain ``a + b - c ...`` or ``a * b / c ...`` built with one n-ary constructor call
        (a binary fold would re-flatten the growing sum at every step: quadratic time)."""
        kind = _NARY_OPS[tok.text]
        items = [self.numeric(first, tok, f"'{tok.text}'")]
        op_tok: _Token | None = tok
        while op_tok is not None:
            right = self.numeric(self.expression(prec + 1), op_tok, f"'{op_tok.text}'")
            if op_tok.text == "-":
                right = ir.neg(right)
            elif op_tok.text == "/":
                if ir.is_num(right, 0):
                    raise ParseError(f"at position {op_tok.pos}: division by zero", op_tok.pos)
                right = ir.power(right, ir.MINUS_ONE)
            items.append(right)
            nxt = self.peek()
            if nxt.kind == "op" and _NARY_OPS.get(nxt.text) == kind:
                op_tok = self.advance()
            else:
                op_tok = None
        return ir.add(*items) if kind == "add" else ir.mul(*items)

    def binary(self, tok: _Token, left: Node, right: Node) -> Node:
        op = tok.text
        if op in ("&", "|"):
            self.boolean(left, tok, f"'{op}'")
            self.boolean(right, tok, f"'{op}'")
            return ir.logic("And" if op == "&" else "Or", left, right)
        self.numeric(left, tok, f"'{op}'")
        self.numeric(right, tok, f"'{op}'")
        if op == "+":
            return ir.add(left, right)
        if op == "-":
            return ir.sub(left, right)
        if op == "*":
            return ir.mul(left, right)
        if op == "/":
            if ir.is_num(right, 0):
                raise ParseError(f"at position {tok.pos}: division by zero", tok.pos)
            return ir.div(left, right)
        # ** and ^
        return ir.power(left, right)

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.advance()
            self.enter(tok)
            operand = self.numeric(self.expression(_UNARY_MINUS_PREC), tok, f"unary '{tok.text}'")
            self.leave()
            return ir.neg(operand) if tok.text == "-" else operand
        if tok.kind == "op" and tok.text == "~":
            self.advance()
            self.enter(tok)
            operand = self.boolean(self.expression(_NOT_PREC), tok, "'~'")
            self.leave()
            return ir.logic("Not", operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.advance()
        if tok.kind == "number":
            return ir.num(_parse_number(tok))
        if tok.kind == "op" and tok.text == "(":
            self.enter(tok)
            node = self.expression(0)
            self.expect(")")
            self.leave()
            return node
        if tok.kind == "name":
            return self.name(tok)
        if tok.kind == "op" and tok.text in ("==", "!="):
            raise ParseError(
                f"at position {tok.pos}: equality conditions are not supported; use <, <=, >, >=",
                tok.pos,
            )
        raise self.fail("a number, a name or '('", tok)

    def name(self, tok: _Token) -> Node:
        name = tok.text
        is_call = self.peek().kind == "op" and self.peek().text == "("
        if name.startswith("_"):
            raise ParseError(
                f"at position {tok.pos}: names starting with '_' are not allowed ({name!r})",
                tok.pos,
            )
        if name in FORBIDDEN_NAMES:
            raise ParseError(f"at position {tok.pos}: {FORBIDDEN_NAMES[name]}", tok.pos)
        if name in ("True", "False") and not is_call:
            return ir.TRUE if name == "True" else ir.FALSE
        if name in CONSTANT_NAMES and not is_call:
            return ir.const(CONSTANT_NAMES[name])
        if name in FUNCTIONS or name in SPECIAL_FORMS:
            if not is_call:
                raise ParseError(
                    f"at position {tok.pos}: {name!r} is a function; call it as {name}(...)",
                    tok.pos,
                )
            return self.call(tok)
        if is_call:
            raise ParseError(
                f"at position {tok.pos}: unknown function {name!r}; supported functions are "
                + ", ".join(sorted({*FUNCTIONS, *SPECIAL_FORMS} - {"abs", "ln"})),
                tok.pos,
            )
        node = self.variables.get(name)
        if node is None:
            node = self.variables[name] = ir.var(name)
        return node

    def call(self, tok: _Token) -> Node:
        name = tok.text
        open_tok = self.expect("(")
        self.enter(open_tok)
        if name == "Piecewise":
            node = self.piecewise(tok)
        else:
            args = self.arguments()
            node = self.apply(tok, name, args)
        self.expect(")")
        self.leave()
        return node

    def arguments(self) -> list[tuple[Node, _Token]]:
        args: list[tuple[Node, _Token]] = []
        if self.peek().text == ")":
            return args
        while True:
            start = self.peek()
            args.append((self.expression(0), start))
            if self.peek().text == ",":
                self.advance()
                continue
            return args

    def apply(self, tok: _Token, name: str, args: list[tuple[Node, _Token]]) -> Node:
        if name in ("And", "Or", "Not"):
            nodes = [self.boolean(a, t, name) for a, t in args]
            if (name == "Not" and len(nodes) != 1) or not nodes:
                raise ParseError(
                    f"at position {tok.pos}: wrong number of arguments to {name}", tok.pos
                )
            return ir.logic(name, *nodes)
        nodes = [self.numeric(a, t, name) for a, t in args]
        if name == "sqrt":
            if len(nodes) != 1:
                raise ParseError(f"at position {tok.pos}: sqrt takes exactly one argument", tok.pos)
            return ir.sqrt(nodes[0])
        target = FUNCTIONS[name]
        if target in UNARY_FUNCTIONS and len(nodes) != 1:
            extra = " (log(x, b) is not supported; write log(x)/log(b))" if target == "log" else ""
            raise ParseError(
                f"at position {tok.pos}: {name} takes exactly one argument, "
                f"got {len(nodes)}{extra}",
                tok.pos,
            )
        if target in ir.NARY_FUNCTIONS and not nodes:
            raise ParseError(f"at position {tok.pos}: {name} needs at least one argument", tok.pos)
        return ir.func(target, *nodes)

    def piecewise(self, tok: _Token) -> Node:
        pairs: list[tuple[Node, Node]] = []
        while True:
            open_tok = self.expect("(")
            self.enter(open_tok)
            value_tok = self.peek()
            value = self.numeric(self.expression(0), value_tok, "a Piecewise value")
            self.expect(",")
            cond_tok = self.peek()
            condition = self.boolean(self.expression(0), cond_tok, "a Piecewise condition")
            self.expect(")")
            self.leave()
            pairs.append((value, condition))
            if self.peek().text == ",":
                self.advance()
                continue
            break
        try:
            return ir.piecewise(pairs)
        except ValueError as exc:
            raise ParseError(f"at position {tok.pos}: {exc}", tok.pos) from None


def _parse_number(tok: _Token) -> Fraction | int:
    text = tok.text
    if text.isdigit() and len(text) <= 1000:
        return int(text)
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 400:
        raise ParseError(f"at position {tok.pos}: the number {text!r} is too large", tok.pos)
    if len(mantissa) > 1000:
        raise ParseError(f"at position {tok.pos}: the number {text[:20]!r}... is too long", tok.pos)
    return Fraction(text)


def parse(text: str, max_length: int | None = DEFAULT_MAX_LENGTH) -> Node:
    """Parse ``text`` into an expression node (see the module docstring for the grammar)."""
    return parse_with_names(text, max_length)[0]


def parse_with_names(
    text: str, max_length: int | None = DEFAULT_MAX_LENGTH
) -> tuple[Node, list[str]]:
    """Like :func:`parse`, also returning every variable name the text mentions, in order
    (including names that cancel out, as in ``x - x``: a domain given for them is legitimate)."""
    if not isinstance(text, str):
        raise ParseError(f"expected an expression string, got {type(text).__name__}")
    if max_length is not None and len(text) > max_length:
        raise ParseError(
            f"the expression has {len(text):,} characters, more than the limit of "
            f"{max_length:,} (pass max_length=None to the API for generated inputs)"
        )
    try:
        parser = _Parser(text)
        return parser.parse(), list(parser.variables)
    except RecursionError:
        raise ParseError(f"expression nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ZeroDivisionError:
        raise ParseError("division by zero in the expression") from None


def parse_to_sympy(text: str, max_length: int | None = DEFAULT_MAX_LENGTH) -> Any:
    """Parse ``text`` safely and return the equivalent SymPy expression."""
    from convexcheck.symbolic.sympy_bridge import to_sympy

    return to_sympy(parse(text, max_length))
