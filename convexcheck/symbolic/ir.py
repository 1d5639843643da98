"""The expression tree every symbolic prover works on.

Why not SymPy's own tree: importing SymPy costs ~0.6 s and building a 10^4-term SymPy sum costs
more, while ``convexcheck expr`` must start in well under half a second and analyse 10^5-node sums.
So expressions are small immutable :class:`Node` objects, *hash-consed* (two structurally equal
nodes are the same object), which makes equality an identity test, lets the DCP engine memoise on
node identity over a DAG, and lets pattern rules ask "is this the same ``u``?" in O(1).
Conversion to and from SymPy lives in :mod:`convexcheck.symbolic.sympy_bridge`.

Constructors canonicalise lightly, in the spirit of SymPy's automatic evaluation: sums and
products are flattened, numeric constants folded, like terms and equal bases collected. Nothing
here depends on variable domains; domain-dependent rewriting is the provers' job.

Every canonicalisation preserves the *set where the expression is defined*, not only its value
there: the provers judge the function the user wrote, and ``sqrt(x)**2`` is not ``x`` on
``x < 0``. So a rewrite that would drop or merge a subexpression happens only when nothing of the
domain is lost: a cancelled term (``log(x) - log(x)``), a factor times zero (``0*log(x)``) or a
zeroth power (``log(x)**0``) is dropped only when it is :attr:`Node.total` (defined for every real
value of its variables), and powers of one base are merged (``x**a * x**b``, ``(x**a)**n``) only
when the merged power needs exactly the condition on the base that the original ones needed
together (see :func:`_base_condition`). Otherwise the form as written is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Union

from convexcheck.symbolic.atoms import UNARY_ATOMS, UNARY_FUNCTIONS
from convexcheck.symbolic.interval import REALS, point
from convexcheck.symbolic.interval_powers import exact_power
from convexcheck.symbolic.printer import to_str
from convexcheck.symbolic.traversal import postorder

Number = Union[int, Fraction]

# The unary functions of the grammar are the atom table's rows (``UNARY_FUNCTIONS``, re-exported
# from :mod:`convexcheck.symbolic.atoms`): the tree folds constants with a row's ``exact_at`` and
# reads its totality off the row's domain, so a new row is a new function here with no change to
# this module. The table does not import the tree (derivatives receive it as an argument).

#: n-ary functions.
NARY_FUNCTIONS = ("Max", "Min")
#: Named constants and their SymPy names.
CONSTANTS = ("pi", "E")
RELATIONS = ("<", "<=")  # > and >= are stored swapped
LOGIC = ("And", "Or", "Not", "True", "False")


def normalize_number(q: Number) -> Number:
    """Integers stay ``int`` (fast arithmetic); other rationals are ``Fraction``."""
    if isinstance(q, Fraction) and q.denominator == 1:
        return q.numerator
    return q


class Node:
    """One hash-consed expression node.

    ``op`` is one of ``num``, ``const``, ``var``, ``add``, ``mul``, ``pow``, a function name from
    :data:`UNARY_FUNCTIONS` / :data:`NARY_FUNCTIONS`, ``Piecewise`` (args alternate value and
    condition), a relation ``<``/``<=`` or a logic op ``And``/``Or``/``Not``/``True``/``False``.
    ``value`` holds the number (``num``), the name (``var``, ``const``) or ``None``.
    """

    __slots__ = ("args", "is_const", "op", "size", "total", "value")

    op: str
    args: tuple[Node, ...]
    value: object
    is_const: bool
    size: int
    #: Defined for every real value of the variables (a sound under-approximation: ``False``
    #: only means "not known to be total"). Rewrites that drop a subexpression need it.
    total: bool

    def __reduce__(self):  # pragma: no cover - pickling goes through the constructors
        return (_rebuild, (self.op, self.args, self.value))

    def __repr__(self) -> str:
        return f"Node({to_str(self, limit=200)!r})"

    def __str__(self) -> str:
        return to_str(self)

    @property
    def value_args(self) -> tuple[Node, ...]:
        """The numeric-valued children (a Piecewise's conditions are not among them)."""
        if self.op == "Piecewise":
            return self.args[0::2]
        return self.args

    @property
    def is_bool(self) -> bool:
        return self.op in RELATIONS or self.op in LOGIC


# The intern table. A plain dict (a weak-value dict costs ~5 us per insert, most of the time
# of building a large sum); it is cleared when it grows past _TABLE_LIMIT. After a clear, nodes
# still held elsewhere are no longer canonical: equal structure may then be two objects, which
# only makes pattern rules match less often (never a wrong match), so soundness is unaffected.
_TABLE: dict[tuple, Node] = {}
_TABLE_LIMIT = 2_000_000


def clear_intern_table() -> None:
    """Free the intern table (for long-running processes that build many large expressions)."""
    _TABLE.clear()


def _make(op: str, args: tuple[Node, ...], value: object = None) -> Node:
    key = (op, value, args)
    node = _TABLE.get(key)
    if node is not None:
        return node
    if len(_TABLE) >= _TABLE_LIMIT:
        _TABLE.clear()
    node = Node.__new__(Node)
    node.op = op
    node.args = args
    node.value = value
    node.is_const = op != "var" and all(a.is_const for a in args)
    node.size = 1 + sum(a.size for a in args) if args else 1
    node.total = _op_is_total(op, args, value) and all(a.total for a in args)
    _TABLE[key] = node
    return node


#: Functions defined on the whole real line (``log`` and ``tan`` are not), read off the rows.
_TOTAL_FUNCTIONS = frozenset(
    {name for name in UNARY_FUNCTIONS if UNARY_ATOMS[name].domain_ok(REALS)} | set(NARY_FUNCTIONS)
)


def _op_is_total(op: str, args: tuple[Node, ...], value: object) -> bool:
    """Whether ``op`` applied to defined arguments is defined (conservatively)."""
    if op in ("num", "const", "var", "add", "mul") or op in _TOTAL_FUNCTIONS:
        return True
    if op in RELATIONS or op in LOGIC:
        return True
    if op in UNARY_FUNCTIONS:  # a number inside the row's domain (log(2)) is defined
        return args[0].op == "num" and UNARY_ATOMS[op].domain_ok(point(args[0].value))  # type: ignore[arg-type]
    if op == "pow":
        base, exponent = args
        if _is_positive_constant(base):
            return True
        condition = _base_condition(exponent)
        if condition == (False, False):
            return True
        # a nonzero number raised to a negative integer power is a defined constant
        return condition == (False, True) and base.op == "num" and base.value != 0
    if op == "Piecewise":
        # defined where the chosen piece is; total only if every piece is and one always holds
        return args[-1].op == "True"
    return False


def _is_positive_constant(node: Node) -> bool:
    return (node.op == "num" and node.value > 0) or node.op == "const"  # type: ignore[operator]


def _base_condition(exponent: Node) -> tuple[bool, bool]:
    """What ``u**exponent`` needs of its base ``u``: ``(u >= 0 needed, u != 0 needed)``.

    The semantics are SymPy's on the reals (and :mod:`convexcheck.symbolic.evaluate`'s):
    a nonnegative integer power is defined everywhere, a negative integer power needs
    ``u != 0``, a positive non-integer power ``u >= 0``, a negative non-integer power and a
    symbolic exponent ``u > 0``. The pair is a lattice: the condition of a product of powers
    is the componentwise ``or``.
    """
    if exponent.op == "num":
        e = exponent.value
        if isinstance(e, int):
            return (False, e < 0)
        return (True, e < 0)  # type: ignore[operator]
    return (True, True)


def powers_compose_on_the_same_set(a: Number, n: int) -> bool:
    """Whether ``(u**a)**n`` and ``u**(a*n)`` are defined for the same ``u`` (integer ``n``).

    ``(x**(3/2))**2`` needs ``x >= 0`` and ``x**3`` does not; ``(x**2)**(-1)`` and ``x**(-2)``
    both need ``x != 0``. Rewrites that distribute a power (the IR's fold, the DCP engine's
    ``(x*y)**p`` pattern) may apply it only when this holds.
    """
    a = Fraction(a)
    before = _merged_condition([_base_condition(num(a)), (False, n < 0 < a)])
    return _base_condition(num(a * n)) == before


def _merged_condition(conditions: Iterable[tuple[bool, bool]]) -> tuple[bool, bool]:
    nonneg = nonzero = False
    for a, b in conditions:
        nonneg, nonzero = nonneg or a, nonzero or b
    return (nonneg, nonzero)


def _rebuild(op: str, args: tuple[Node, ...], value: object) -> Node:  # pragma: no cover
    return _make(op, args, value)


# --------------------------------------------------------------------------------------------
# Leaves
# --------------------------------------------------------------------------------------------


def num(q: Number | str) -> Node:
    """An exact rational constant (decimal strings are converted exactly)."""
    if type(q) is int:
        return _make("num", (), q)
    if isinstance(q, str):
        q = Fraction(q)
    if isinstance(q, bool) or not isinstance(q, (int, Fraction)):
        raise TypeError(f"num() takes an int, Fraction or decimal string, not {type(q).__name__}")
    return _make("num", (), normalize_number(q))


def var(name: str) -> Node:
    return _make("var", (), name)


def const(name: str) -> Node:
    if name not in CONSTANTS:
        raise ValueError(f"unknown constant {name!r}")
    return _make("const", (), name)


ZERO = num(0)
ONE = num(1)
MINUS_ONE = num(-1)
TRUE = _make("True", ())
FALSE = _make("False", ())


def is_num(node: Node, value: Number | None = None) -> bool:
    return node.op == "num" and (value is None or node.value == value)


# --------------------------------------------------------------------------------------------
# Sums and products
# --------------------------------------------------------------------------------------------


def split_coefficient(node: Node) -> tuple[Number, tuple[Node, ...]]:
    """``3*x*y`` -> ``(3, (x, y))``; ``x`` -> ``(1, (x,))``; a number -> ``(q, ())``."""
    if node.op == "num":
        return node.value, ()  # type: ignore[return-value]
    if node.op == "mul" and node.args[0].op == "num":
        return node.args[0].value, node.args[1:]  # type: ignore[return-value]
    if node.op == "mul":
        return 1, node.args
    return 1, (node,)


def add(*terms: Node) -> Node:
    """Sum with flattening, constant folding and collection of like terms (first-seen order)."""
    constant: Number = 0
    collected: dict[tuple[Node, ...], Number] = {}
    stack = list(reversed(terms))
    while stack:
        term = stack.pop()
        if term.op == "add":
            stack.extend(reversed(term.args))
            continue
        coefficient, rest = split_coefficient(term)
        if not rest:
            constant += coefficient
        elif rest in collected:
            collected[rest] += coefficient
        else:
            collected[rest] = coefficient
    out: list[Node] = []
    for rest, coefficient in collected.items():
        if coefficient == 0:
            if not all(f.total for f in rest):
                # u - u is 0 only where u is defined: keep both terms (see the module doc)
                out.append(_scaled_product(1, rest))
                out.append(_scaled_product(-1, rest))
            continue
        out.append(_scaled_product(coefficient, rest))
    if constant != 0:
        out.append(num(constant))
    if not out:
        return ZERO
    if len(out) == 1:
        return out[0]
    return _make("add", tuple(out))


def _scaled_product(coefficient: Number, factors: tuple[Node, ...]) -> Node:
    if coefficient == 1:
        return factors[0] if len(factors) == 1 else _make("mul", factors)
    return _make("mul", (num(coefficient), *factors))


def mul(*factors: Node) -> Node:
    """Product with flattening, folding of numbers and collection of equal bases."""
    coefficient: Number = 1
    powers: dict[Node, list[Node]] = {}
    stack = list(reversed(factors))
    while stack:
        factor = stack.pop()
        if factor.op == "mul":
            stack.extend(reversed(factor.args))
            continue
        if factor.op == "num":
            coefficient = normalize_number(coefficient * factor.value)  # type: ignore[operator]
            continue
        if factor.op == "pow":
            base, exponent = factor.args
        else:
            base, exponent = factor, ONE
        powers.setdefault(base, []).append(exponent)
    if coefficient == 0:
        if all(f.total for f in factors):
            return ZERO
        # 0*u is 0 only where u is defined: u - u keeps that set (see the module doc)
        rest = mul(*(f for f in factors if f.op != "num"))
        return add(rest, neg(rest))
    out: list[Node] = []
    merged: list[Node] = []
    for base, exponents in powers.items():
        if len(exponents) == 1:
            merged.append(power(base, exponents[0]))
            continue
        exponent = add(*exponents)
        if _is_positive_constant(base) or _base_condition(exponent) == _merged_condition(
            _base_condition(e) for e in exponents
        ):
            merged.append(power(base, exponent))
        else:  # x**(1/2) * x**(1/2) is x only for x >= 0: keep the factors apart
            merged.extend(power(base, e) for e in exponents)
    for factor in merged:
        if factor.op == "num":
            coefficient = normalize_number(coefficient * factor.value)  # type: ignore[operator]
        elif factor.op == "mul":  # e.g. a folded numeric power like 2**(3/2) = 2*2**(1/2)
            c, rest = split_coefficient(factor)
            coefficient = normalize_number(coefficient * c)
            out.extend(rest)
        else:
            out.append(factor)
    if not out:
        return num(coefficient)
    return _scaled_product(coefficient, tuple(out))


def neg(node: Node) -> Node:
    return mul(MINUS_ONE, node)


def sub(a: Node, b: Node) -> Node:
    return add(a, neg(b))


def div(a: Node, b: Node) -> Node:
    if is_num(b, 0):
        raise ZeroDivisionError("division by zero")
    return mul(a, power(b, MINUS_ONE))


def _fold_numeric_power(base: Number, exponent: Number) -> Node | None:
    """The folded ``base**exponent`` when it is rational (see :func:`exact_power`)."""
    value = exact_power(base, exponent)
    return None if value is None else num(value)


def power(base: Node, exponent: Node) -> Node:
    """``base**exponent`` with the safe simplifications only."""
    if exponent.op == "num":
        e = exponent.value
        if e == 0:
            if base.total:
                return ONE
            # u**0 is 1 only where u is defined (see the module doc)
            return add(ONE, base, neg(base))
        if e == 1:
            return base
        if base.op == "num":
            folded = _fold_numeric_power(base.value, e)  # type: ignore[arg-type]
            if folded is not None:
                return folded
        # (u**a)**n = u**(a*n) for integer n wherever both sides are defined; fold only when
        # both are defined on the same set: (x**(3/2))**2 needs x >= 0, x**3 does not.
        if base.op == "pow" and isinstance(e, int) and base.args[1].op == "num":
            inner, a = base.args[0], Fraction(base.args[1].value)  # type: ignore[arg-type]
            if _is_positive_constant(inner) or powers_compose_on_the_same_set(a, e):
                return power(inner, num(a * e))
    return _make("pow", (base, exponent))


def sqrt(node: Node) -> Node:
    return power(node, num(Fraction(1, 2)))


def func(name: str, *args: Node) -> Node:
    """A function application; numeric arguments are folded only where the value is rational."""
    if name in UNARY_FUNCTIONS:
        if len(args) != 1:
            raise ValueError(f"{name} takes exactly one argument")
        (arg,) = args
        if arg.op == "num":
            folded = _fold_unary(name, arg.value)  # type: ignore[arg-type]
            if folded is not None:
                return folded
        return _make(name, (arg,))
    if name in NARY_FUNCTIONS:
        if len(args) < 1:
            raise ValueError(f"{name} needs at least one argument")
        flat: list[Node] = []
        for a in args:
            for b in a.args if a.op == name else (a,):
                if b not in flat:
                    flat.append(b)
        numbers = [a.value for a in flat if a.op == "num"]
        if len(numbers) > 1:
            pick = max(numbers) if name == "Max" else min(numbers)  # type: ignore[type-var]
            flat = [a for a in flat if a.op != "num"] + [num(pick)]  # type: ignore[arg-type]
        if len(flat) == 1:
            return flat[0]
        return _make(name, tuple(flat))
    raise ValueError(f"unknown function {name!r}")


def _fold_unary(name: str, q: Number) -> Node | None:
    """``name(q)`` as a number where the row's ``exact_at`` knows it is rational."""
    exact_at = UNARY_ATOMS[name].exact_at
    value = exact_at(q) if exact_at is not None else None
    return None if value is None else num(value)  # type: ignore[arg-type]


def relation(op: str, left: Node, right: Node) -> Node:
    """``left op right`` for op in ``< <= > >=``; ``>``/``>=`` are stored swapped."""
    if op == ">":
        return _make("<", (right, left))
    if op == ">=":
        return _make("<=", (right, left))
    if op not in RELATIONS:
        raise ValueError(f"unsupported relation {op!r}")
    return _make(op, (left, right))


def logic(op: str, *args: Node) -> Node:
    if op == "Not":
        (arg,) = args
        return _make("Not", (arg,))
    if op in ("And", "Or"):
        flat: list[Node] = []
        for a in args:
            flat.extend(a.args if a.op == op else (a,))
        if len(flat) == 1:
            return flat[0]
        return _make(op, tuple(flat))
    raise ValueError(f"unknown logic operator {op!r}")


def piecewise(pairs: Iterable[tuple[Node, Node]]) -> Node:
    """``Piecewise((e1, c1), (e2, c2), ...)``; pieces after a ``True`` condition are dropped."""
    flat: list[Node] = []
    for value, condition in pairs:
        if value.is_bool or not condition.is_bool:
            raise ValueError("Piecewise takes (expression, condition) pairs")
        if condition is FALSE:
            continue
        flat.extend((value, condition))
        if condition is TRUE:
            break
    if not flat:
        raise ValueError("Piecewise has no piece whose condition can hold")
    if flat[1] is TRUE:
        return flat[0]
    return _make("Piecewise", tuple(flat))


# --------------------------------------------------------------------------------------------
# Traversal helpers (all iterative: trees may be 10^5 nodes wide or deep)
# --------------------------------------------------------------------------------------------


def free_variables(root: Node) -> list[str]:
    """Variable names in first-occurrence order."""
    names: dict[str, None] = {}
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.is_const:
            continue
        seen.add(id(node))
        if node.op == "var":
            names[node.value] = None  # type: ignore[index]
        stack.extend(reversed(node.args))
    return list(names)


def substitute(root: Node, mapping: dict[Node, Node]) -> Node:
    """Replace nodes (usually variables) bottom-up, rebuilding through the constructors."""
    memo: dict[int, Node] = {}
    for node in postorder(root):
        if node in mapping:
            memo[id(node)] = mapping[node]
            continue
        if not node.args:
            memo[id(node)] = node
            continue
        new_args = tuple(memo[id(a)] for a in node.args)
        memo[id(node)] = node if new_args == node.args else rebuild(node, new_args)
    return memo[id(root)]


def rebuild(node: Node, args: tuple[Node, ...]) -> Node:
    """The node with new children, canonicalised through the constructors."""
    op = node.op
    if op == "add":
        return add(*args)
    if op == "mul":
        return mul(*args)
    if op == "pow":
        return power(*args)
    if op in UNARY_FUNCTIONS or op in NARY_FUNCTIONS:
        return func(op, *args)
    if op == "Piecewise":
        return piecewise(zip(args[0::2], args[1::2]))
    if op in RELATIONS:
        return relation(op, *args)
    if op in ("And", "Or", "Not"):
        return logic(op, *args)
    return _make(op, args, node.value)
