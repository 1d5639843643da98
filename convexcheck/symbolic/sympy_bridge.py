"""Translation between the IR and SymPy, in both directions, without ``sympify``.

``from_sympy`` walks a SymPy expression with an explicit stack (a 10^4-term ``Add`` converts
without recursion), accepts exactly the contract's functions, and turns symbol assumptions
(``positive=True``...) into domains. SymPy ``Float`` constants are taken at their *decimal*
value (``Float(0.1)`` becomes ``1/10``), which is what a user who typed ``0.1`` means.
``to_sympy`` builds the SymPy expression of an IR node (also iteratively), for the Hessian and
SOS stages and for users who want SymPy objects back. A function's SymPy name is its atom row's
``sympy_name`` in both directions, so a new row needs no change here.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from convexcheck.errors import ConvexcheckInputError
from convexcheck.symbolic import ir
from convexcheck.symbolic.atoms import UNARY_ATOMS
from convexcheck.symbolic.interval import NEGATIVE, NONNEG, NONPOS, POSITIVE, Interval
from convexcheck.symbolic.ir import UNARY_FUNCTIONS, Node, postorder

#: IR function name -> SymPy function name, from the atom rows.
_SYMPY_NAME = {name: UNARY_ATOMS[name].sympy_name for name in UNARY_FUNCTIONS}


def _sympy_functions(sympy: Any) -> list[tuple[Any, str]]:
    """(SymPy class, IR name) for every function of the grammar, unary and n-ary."""
    pairs = [(getattr(sympy, sympy_name), name) for name, sympy_name in _SYMPY_NAME.items()]
    return pairs + [(getattr(sympy, name), name) for name in ir.NARY_FUNCTIONS]


def to_sympy(node: Node, symbols: dict[str, Any] | None = None) -> Any:
    """The SymPy expression of ``node`` (variables become real symbols unless given)."""
    import sympy

    symbols = dict(symbols or {})
    done: dict[int, Any] = {}
    for n in postorder(node):
        args = [done[id(a)] for a in n.args]
        op = n.op
        if op == "num":
            q = Fraction(n.value)  # type: ignore[arg-type]
            value: Any = sympy.Rational(q.numerator, q.denominator)
        elif op == "var":
            if n.value not in symbols:
                symbols[n.value] = sympy.Symbol(n.value, real=True)  # type: ignore[index]
            value = symbols[n.value]  # type: ignore[index]
        elif op == "const":
            value = sympy.pi if n.value == "pi" else sympy.E
        elif op == "add":
            value = sympy.Add(*args)
        elif op == "mul":
            value = sympy.Mul(*args)
        elif op == "pow":
            value = sympy.Pow(*args)
        elif op in _SYMPY_NAME:
            value = getattr(sympy, _SYMPY_NAME[op])(args[0])
        elif op == "Max":
            value = sympy.Max(*args)
        elif op == "Min":
            value = sympy.Min(*args)
        elif op == "Piecewise":
            value = sympy.Piecewise(*zip(args[0::2], args[1::2]))
        elif op == "<":
            value = sympy.StrictLessThan(*args)
        elif op == "<=":
            value = sympy.LessThan(*args)
        elif op == "And":
            value = sympy.And(*args)
        elif op == "Or":
            value = sympy.Or(*args)
        elif op == "Not":
            value = sympy.Not(args[0])
        elif op == "True":
            value = sympy.true
        elif op == "False":
            value = sympy.false
        else:  # pragma: no cover - every IR op is listed
            raise ValueError(f"no SymPy form for {op!r}")
        done[id(n)] = value
    return done[id(node)]


def _domain_of(symbol: Any) -> Interval | None:
    if symbol.is_positive:
        return POSITIVE
    if symbol.is_negative:
        return NEGATIVE
    if symbol.is_nonnegative:
        return NONNEG
    if symbol.is_nonpositive:
        return NONPOS
    return None


def from_sympy(expr: Any) -> tuple[Node, dict[str, Interval]]:
    """``(node, domains)`` for a SymPy expression; domains come from symbol assumptions."""
    import sympy

    if not isinstance(expr, sympy.Basic):
        raise ConvexcheckInputError(f"expected a SymPy expression, got {type(expr).__name__}")
    domains: dict[str, Interval] = {}
    done: dict[Any, Node] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        e, expanded = stack.pop()
        if e in done:
            continue
        children = _children(e, sympy)
        if children and not expanded:
            stack.append((e, True))
            stack.extend((c, False) for c in children if c not in done)
            continue
        done[e] = _convert(e, [done[c] for c in children], sympy, domains)
    return done[expr], domains


def _children(e: Any, sympy: Any) -> tuple:
    if isinstance(e, sympy.Piecewise):
        out = []
        for piece in e.args:
            out.extend(piece.args)
        return tuple(out)
    if isinstance(e, (sympy.Symbol, sympy.Number, sympy.NumberSymbol)):
        return ()
    return tuple(e.args)


def _convert(e: Any, args: list[Node], sympy: Any, domains: dict[str, Interval]) -> Node:
    if isinstance(e, sympy.Symbol):
        complex_only = e.is_complex and e.is_real is None  # Symbol("z", complex=True)
        if e.is_real is False or complex_only:
            raise ConvexcheckInputError(f"symbol {e.name!r} is not real")
        if not e.name.isidentifier() or e.name.startswith("_"):
            raise ConvexcheckInputError(f"symbol name {e.name!r} is not a plain identifier")
        dom = _domain_of(e)
        if dom is not None:
            domains[e.name] = dom
        return ir.var(e.name)
    if e is sympy.pi:
        return ir.const("pi")
    if e is sympy.E:
        return ir.const("E")
    if isinstance(e, (sympy.Integer, sympy.Rational)):
        return ir.num(Fraction(int(e.p), int(e.q)))
    if isinstance(e, sympy.Float):
        if not e.is_finite:
            raise ConvexcheckInputError(f"the constant {e} is not finite")
        return ir.num(Fraction(str(e)))
    if e is sympy.true:
        return ir.TRUE
    if e is sympy.false:
        return ir.FALSE
    if isinstance(e, sympy.Add):
        return ir.add(*args)
    if isinstance(e, sympy.Mul):
        return ir.mul(*args)
    if isinstance(e, sympy.Pow):
        return ir.power(*args)
    for cls, name in _sympy_functions(sympy):
        if isinstance(e, cls):
            if name in _SYMPY_NAME and len(args) != 1:
                hint = "; write log(x)/log(b)" if name == "log" else ""
                raise ConvexcheckInputError(
                    f"{cls.__name__} with {len(args)} arguments is not supported{hint}"
                )
            return ir.func(name, *args)
    if isinstance(e, sympy.Piecewise):
        return ir.piecewise(list(zip(args[0::2], args[1::2])))
    if isinstance(e, sympy.StrictLessThan):
        return ir.relation("<", *args)
    if isinstance(e, sympy.LessThan):
        return ir.relation("<=", *args)
    if isinstance(e, sympy.StrictGreaterThan):
        return ir.relation(">", *args)
    if isinstance(e, sympy.GreaterThan):
        return ir.relation(">=", *args)
    if isinstance(e, sympy.And):
        return ir.logic("And", *args)
    if isinstance(e, sympy.Or):
        return ir.logic("Or", *args)
    if isinstance(e, sympy.Not):
        return ir.logic("Not", *args)
    raise ConvexcheckInputError(
        f"SymPy {type(e).__name__} ({str(e)[:60]}) is not supported; supported: numbers, symbols, "
        f"+, *, **, {', '.join((*UNARY_FUNCTIONS, *ir.NARY_FUNCTIONS))}, Piecewise"
    )
