"""The checker's own reader for the expression strings of a certificate document.

Why the checker does not use the prover's parser: a bug in one shared reader (an operator
precedence, a function read as another) would turn the document's text into the same wrong
function on both sides, and the certificate would check. So the checker reads the text itself,
with a grammar written down once here: SymPy's printed syntax, as :mod:`convexcheck.symbolic
.printer` writes it and as users type it.

Grammar (loosest first; ``^`` is ``**``)::

    condition  :=  '|'  <  '&'  <  prefix '~'  <  comparisons < <= > >= (chains: a < b < c)
    arithmetic :=  '+' '-'  <  '*' '/'  <  prefix '-' '+'  <  '**' '^' (right-associative)
    primary    :=  number | name | pi | E | True | False | '(' expression ')'
                |  function '(' arguments ')' | Piecewise((value, condition), ...)

Nothing is ever evaluated as code: there is no ``eval``, ``sympify`` or ``ast`` here, only one
regular expression that cuts the text into numbers, names and operators, and a
precedence-climbing walk that accepts exactly the grammar above (a string, a subscript, an
attribute, a dunder name, an unknown function are refusals). Python's own ``ast`` would read the
operators with Python's precedences (``x < 1 & y > 2`` is not two comparisons there) and refuses
sums of a few thousand terms, which the provers do write.

Function names are read off the atom table (:data:`convexcheck.symbolic.atoms.UNARY_ATOMS` rows
that have a ``sympy_name``, and :data:`~convexcheck.symbolic.atoms.NARY_ATOMS`), so a new row
needs no change here; ``abs`` and ``ln`` are the grammar's two aliases.

One walk, two builders: :func:`read_node` builds :mod:`convexcheck.symbolic.ir` nodes (for the
interval enclosures and the structure checks), :func:`read_sympy` builds the SymPy expression
*directly from the text* (for differentiation and identities), never through the IR and never
through the prover's SymPy translation.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import NARY_ATOMS, UNARY_ATOMS

__all__ = ["MAX_DEPTH", "UnreadableExpression", "function_rows", "read_node", "read_sympy"]

MAX_DEPTH = 200  # nesting (parentheses, calls, prefix operators, powers)
MAX_DIGITS = 1000  # characters of one numeric literal
MAX_EXPONENT = 400  # decimal exponent of one numeric literal

ALIASES = {"abs": "Abs", "ln": "log"}
CONSTANTS = ("pi", "E")
REFUSED_NAMES = {
    "oo": "infinity is not a value of an expression",
    "zoo": "complex infinity is not a real value",
    "nan": "nan is not a real value",
    "I": "the imaginary unit is not a real value",
    "lambda": "lambdas are not part of the grammar",
}

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|<=|>=|[-+*/^(),<>&|~]))"
)
_SPACE = re.compile(r"\s*")

# binary operators: precedence (higher binds tighter)
_PREC = {"|": 1, "&": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_PREC_NOT = 3
_PREC_PREFIX = 7
_PREC_POWER = 8


class UnreadableExpression(ValueError):
    """The text is not an expression of the grammar (the message says where and why)."""


def function_rows() -> dict[str, tuple[str, Any]]:
    """Callable names of the grammar: ``name -> (kind, row)`` with kind ``"unary"``/``"nary"``.

    Read from the atom table on every call (cheap): the rows are the single source of truth."""
    out: dict[str, tuple[str, Any]] = {}
    for name, row in UNARY_ATOMS.items():
        if row.sympy_name:  # rows without one (logistic...) are produced by patterns only
            out[name] = ("unary", row)
    for name, row in NARY_ATOMS.items():
        out[name] = ("nary", row)
    return out


# ---------------------------------------------------------------------------------------------
# builders: what each grammatical form means, in the IR and in SymPy
# ---------------------------------------------------------------------------------------------


class _IRBuilder:
    """Builds hash-consed IR nodes with the IR's own constructors."""

    def number(self, q: int | Fraction) -> Any:
        return ir.num(q)

    def symbol(self, name: str) -> Any:
        return ir.var(name)

    def constant(self, name: str) -> Any:
        return ir.const(name)

    def truth(self, value: bool) -> Any:
        return ir.TRUE if value else ir.FALSE

    def negate(self, x: Any) -> Any:
        return ir.neg(x)

    def add(self, terms: list[tuple[bool, Any]]) -> Any:
        return ir.add(*(ir.neg(t) if minus else t for minus, t in terms))

    def mul(self, factors: list[tuple[bool, Any]]) -> Any:
        out = []
        for divide, f in factors:
            if divide:
                if ir.is_num(f, 0):
                    raise UnreadableExpression("division by zero")
                f = ir.power(f, ir.MINUS_ONE)
            out.append(f)
        return ir.mul(*out)

    def power(self, base: Any, exponent: Any) -> Any:
        return ir.power(base, exponent)

    def sqrt(self, x: Any) -> Any:
        return ir.sqrt(x)

    def call(self, name: str, kind: str, row: Any, args: list[Any]) -> Any:
        return ir.func(name, *args)

    def piecewise(self, pairs: list[tuple[Any, Any]]) -> Any:
        return ir.piecewise(pairs)

    def relation(self, op: str, left: Any, right: Any) -> Any:
        return ir.relation(op, left, right)

    def logic(self, op: str, args: list[Any]) -> Any:
        return ir.logic(op, *args)

    def finish(self, value: Any) -> Any:
        return value


class _SympyBuilder:
    """Builds SymPy objects straight from the text (SymPy's automatic evaluation only)."""

    def __init__(self, symbols: dict[str, Any] | None) -> None:
        import sympy

        self.sympy = sympy
        self.symbols = dict(symbols or {})

    def number(self, q: int | Fraction) -> Any:
        q = Fraction(q)
        return self.sympy.Rational(q.numerator, q.denominator)

    def symbol(self, name: str) -> Any:
        if name not in self.symbols:
            self.symbols[name] = self.sympy.Symbol(name, real=True)
        return self.symbols[name]

    def constant(self, name: str) -> Any:
        return self.sympy.pi if name == "pi" else self.sympy.E

    def truth(self, value: bool) -> Any:
        return self.sympy.true if value else self.sympy.false

    def negate(self, x: Any) -> Any:
        return -x

    def add(self, terms: list[tuple[bool, Any]]) -> Any:
        return self.sympy.Add(*(-t if minus else t for minus, t in terms))

    def mul(self, factors: list[tuple[bool, Any]]) -> Any:
        out = []
        for divide, f in factors:
            if divide:
                if f == 0:
                    raise UnreadableExpression("division by zero")
                f = self.sympy.Pow(f, -1)
            out.append(f)
        return self.sympy.Mul(*out)

    def power(self, base: Any, exponent: Any) -> Any:
        return self.sympy.Pow(base, exponent)

    def sqrt(self, x: Any) -> Any:
        return self.sympy.sqrt(x)

    def call(self, name: str, kind: str, row: Any, args: list[Any]) -> Any:
        # the SymPy function is named by the row (unary rows: ``sympy_name``; the n-ary rows
        # Max and Min are named by SymPy's own names), never by the document's text
        target = row.sympy_name if kind == "unary" else row.name
        return getattr(self.sympy, target)(*args)

    def piecewise(self, pairs: list[tuple[Any, Any]]) -> Any:
        return self.sympy.Piecewise(*pairs)

    def relation(self, op: str, left: Any, right: Any) -> Any:
        s = self.sympy
        if op == "<":
            return s.StrictLessThan(left, right)
        if op == "<=":
            return s.LessThan(left, right)
        if op == ">":
            return s.StrictLessThan(right, left)  # stored as the IR stores it: 1 < x, not x > 1
        return s.LessThan(right, left)

    def logic(self, op: str, args: list[Any]) -> Any:
        return {"And": self.sympy.And, "Or": self.sympy.Or, "Not": self.sympy.Not}[op](*args)

    def finish(self, value: Any) -> Any:
        s = self.sympy
        if value.has(s.zoo, s.nan, s.oo, -s.oo, s.I):
            raise UnreadableExpression("the expression has a non-real or infinite value")
        return value


# ---------------------------------------------------------------------------------------------
# the walk
# ---------------------------------------------------------------------------------------------


class _Token:
    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind, self.text, self.pos = kind, text, pos


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            break
        kind = m.lastgroup or ""
        out.append(_Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if pos < len(text):
        raise UnreadableExpression(f"character {text[pos]!r} at position {pos} is not allowed")
    out.append(_Token("end", "", len(text)))
    return out


def _number(tok: _Token) -> int | Fraction:
    text = tok.text
    if len(text) > MAX_DIGITS + 8:
        raise UnreadableExpression(f"the number at position {tok.pos} is too long")
    if text.isdigit():
        return int(text)
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa) > MAX_DIGITS or (exponent and abs(int(exponent)) > MAX_EXPONENT):
        raise UnreadableExpression(f"the number at position {tok.pos} is too large")
    return Fraction(text)


class _Walk:
    """Precedence climbing over the tokens; every result is ``(value, is_condition)``."""

    def __init__(self, text: str, builder: Any) -> None:
        self.tokens = _tokens(text.replace("^", "**"))  # the grammar's two spellings of power
        self.i = 0
        self.depth = 0
        self.b = builder
        self.functions = function_rows()

    # -- small helpers ----------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_op(self, text: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "op" and tok.text == text

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.text != text:
            found = "the end" if tok.kind == "end" else repr(tok.text)
            raise UnreadableExpression(f"expected {text!r} at position {tok.pos}, found {found}")

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise UnreadableExpression(f"nested more than {MAX_DEPTH} levels deep")

    @staticmethod
    def numeric(item: tuple[Any, bool], what: str) -> Any:
        if item[1]:
            raise UnreadableExpression(f"{what} needs a number, not a condition")
        return item[0]

    @staticmethod
    def condition(item: tuple[Any, bool], what: str) -> Any:
        if not item[1]:
            raise UnreadableExpression(f"{what} needs a condition, not a number")
        return item[0]

    # -- grammar ----------------------------------------------------------------------------
    def top(self) -> Any:
        if self.peek().kind == "end":
            raise UnreadableExpression("the expression is empty")
        value = self.numeric(self.expression(0), "the expression")
        tok = self.peek()
        if tok.kind != "end":
            raise UnreadableExpression(f"unexpected {tok.text!r} at position {tok.pos}")
        return self.b.finish(value)

    def expression(self, min_prec: int) -> tuple[Any, bool]:
        left = self.prefix()
        chain: Any = None  # right side of the last comparison of a chain a < b < c
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return left
            if tok.text == "**":
                if min_prec > _PREC_POWER:
                    return left
                self.take()
                self.deeper()
                exponent = self.numeric(self.expression(_PREC_POWER), "'**'")
                self.depth -= 1
                left = (self.b.power(self.numeric(left, "'**'"), exponent), False)
                chain = None
                continue
            prec = _PREC.get(tok.text)
            if prec is None or prec < min_prec:
                return left
            if prec == 4:
                self.take()
                right = self.numeric(self.expression(prec + 1), f"{tok.text!r}")
                lhs = chain if chain is not None else self.numeric(left, f"{tok.text!r}")
                rel = self.b.relation(tok.text, lhs, right)
                left = (rel, True) if chain is None else (self.b.logic("And", [left[0], rel]), True)
                chain = right
                continue
            chain = None
            if prec in (5, 6):
                left = (self.chain(prec, self.numeric(left, f"{tok.text!r}")), False)
                continue
            self.take()  # '&' or '|'
            right = self.condition(self.expression(prec + 1), f"{tok.text!r}")
            op = "And" if tok.text == "&" else "Or"
            left = (self.b.logic(op, [self.condition(left, f"{tok.text!r}"), right]), True)

    def chain(self, prec: int, first: Any) -> Any:
        """``a + b - c ...`` or ``a * b / c ...`` as one n-ary sum or product (a fold of
        binary ones would rebuild the growing sum at each term: quadratic time)."""
        items: list[tuple[bool, Any]] = [(False, first)]
        inverse = "-" if prec == 5 else "/"
        while self.peek().kind == "op" and _PREC.get(self.peek().text) == prec:
            op = self.take().text
            items.append((op == inverse, self.numeric(self.expression(prec + 1), repr(op))))
        return self.b.add(items) if prec == 5 else self.b.mul(items)

    def prefix(self) -> tuple[Any, bool]:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("-", "+", "~"):
            self.take()
            self.deeper()
            if tok.text == "~":
                inner = self.condition(self.expression(_PREC_NOT), "'~'")
                out = (self.b.logic("Not", [inner]), True)
            else:
                inner = self.numeric(self.expression(_PREC_PREFIX), f"prefix {tok.text!r}")
                out = (self.b.negate(inner) if tok.text == "-" else inner, False)
            self.depth -= 1
            return out
        return self.primary()

    def primary(self) -> tuple[Any, bool]:
        tok = self.take()
        if tok.kind == "number":
            return self.b.number(_number(tok)), False
        if tok.kind == "op" and tok.text == "(":
            self.deeper()
            inner = self.expression(0)
            self.expect(")")
            self.depth -= 1
            return inner
        if tok.kind != "name":
            found = "the end" if tok.kind == "end" else repr(tok.text)
            raise UnreadableExpression(f"expected a value at position {tok.pos}, found {found}")
        name = tok.text
        called = self.is_op("(")
        if name in REFUSED_NAMES:
            raise UnreadableExpression(f"{REFUSED_NAMES[name]} ({name!r})")
        if not called:
            if name in ("True", "False"):
                return self.b.truth(name == "True"), True
            if name in CONSTANTS:
                return self.b.constant(name), False
            if name in self.functions or name in ALIASES or name in _SPECIAL:
                raise UnreadableExpression(f"{name!r} is a function and must be called")
            return self.b.symbol(name), False
        self.take()  # '('
        self.deeper()
        if name == "Piecewise":
            out = (self.piecewise(), False)
        else:
            args = [self.expression(0)]
            while self.is_op(","):
                self.take()
                args.append(self.expression(0))
            out = self.apply(tok, ALIASES.get(name, name), args)
        self.expect(")")
        self.depth -= 1
        return out

    def apply(self, tok: _Token, name: str, args: list[tuple[Any, bool]]) -> tuple[Any, bool]:
        if name in ("And", "Or", "Not"):
            if name == "Not" and len(args) != 1:
                raise UnreadableExpression("Not takes one condition")
            return self.b.logic(name, [self.condition(a, name) for a in args]), True
        values = [self.numeric(a, name) for a in args]
        if name == "sqrt":
            if len(values) != 1:
                raise UnreadableExpression("sqrt takes one argument")
            return self.b.sqrt(values[0]), False
        entry = self.functions.get(name)
        if entry is None:
            raise UnreadableExpression(f"unknown function {name!r} at position {tok.pos}")
        kind, row = entry
        if kind == "unary" and len(values) != 1:
            raise UnreadableExpression(f"{name} takes one argument, got {len(values)}")
        return self.b.call(name, kind, row, values), False

    def piecewise(self) -> Any:
        pairs = []
        while True:
            self.expect("(")
            self.deeper()
            value = self.numeric(self.expression(0), "a Piecewise value")
            self.expect(",")
            cond = self.condition(self.expression(0), "a Piecewise condition")
            self.expect(")")
            self.depth -= 1
            pairs.append((value, cond))
            if not self.is_op(","):
                return self.b.piecewise(pairs)
            self.take()


_SPECIAL = ("sqrt", "Piecewise", "And", "Or", "Not")


def _read(text: Any, builder: Any) -> Any:
    if not isinstance(text, str):
        raise UnreadableExpression(f"an expression must be a string, not {type(text).__name__}")
    if not text.isascii():
        raise UnreadableExpression("the expression has a character outside ASCII")
    try:
        return _Walk(text, builder).top()
    except RecursionError:
        raise UnreadableExpression(f"nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ZeroDivisionError:
        raise UnreadableExpression("division by zero") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, UnreadableExpression):
            raise
        raise UnreadableExpression(f"not an expression of the grammar: {exc}") from None


def read_node(text: str) -> ir.Node:
    """The IR node of ``text`` (raises :class:`UnreadableExpression`)."""
    return _read(text, _IRBuilder())


def read_sympy(text: str, symbols: dict[str, Any] | None = None) -> Any:
    """The SymPy expression of ``text``, built from the text itself (variables are real
    symbols unless ``symbols`` names them); raises :class:`UnreadableExpression`."""
    return _read(text, _SympyBuilder(symbols))
