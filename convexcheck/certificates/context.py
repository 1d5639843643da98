"""What every check of a certificate shares: the document's expression and domains read back
(by the checker's own reader, :mod:`~convexcheck.certificates.trusted_reader`; nothing is ever
evaluated as code), the failure type, and the identity test that the Hessian and SOS checks use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    """The outcome of checking one document: ``ok`` only when no problem was found."""

    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    trusted: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.ok:
            count = len(self.trusted)
            extra = f" ({count} trusted step{'s' if count != 1 else ''})" if count else ""
            return f"ok    {self.name}{extra}"
        return f"FAIL  {self.name}: {'; '.join(self.problems)}"


class CheckFailed(Exception):
    pass


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------
# reading expressions and domains (the checker's own reader; nothing is evaluated as code)
# ---------------------------------------------------------------------------------------------


class Context:
    def __init__(self, doc: dict[str, Any]) -> None:
        import sympy

        from convexcheck.certificates.trusted_reader import read_node
        from convexcheck.symbolic.domains import parse_domain

        self.doc = doc
        self.root = read_node(doc["expression"])
        self.domains = {name: parse_domain(spec) for name, spec in doc["variables"].items()}
        self.symbols = {name: sympy.Symbol(name, real=True) for name in self.domains}
        self.trusted: list[str] = []
        self._f: Any = None
        self._parsed: dict[str, Any] = {}
        self._sympy: dict[str, Any] = {}

    @property
    def f(self) -> Any:
        """SymPy's form of the expression, built only for the checks that differentiate it: a
        witness is checked on the expression as written, and SymPy cannot even build some
        expressions that are fine there (``Max(1/(4*x), log(-3))`` in a piece never taken)."""
        if self._f is None:
            self._f = self.sympy_of(self.doc["expression"])
        return self._f

    def node_of(self, text: str):
        """The checker's reading of ``text`` as an IR node, once per document (the range and
        the structure checks both read every derivation node)."""
        from convexcheck.certificates.trusted_reader import read_node

        node = self._parsed.get(text)
        if node is None:
            node = self._parsed[text] = read_node(text)
        return node

    def sympy_of(self, text: str):
        """SymPy's form of ``text``, built by the checker's reader from the text itself (not
        from the IR, and not by the prover's translation): an atom mistranslated on one side
        cannot pass on both."""
        from convexcheck.certificates.trusted_reader import read_sympy

        value = self._sympy.get(text)
        if value is None:
            value = self._sympy[text] = read_sympy(text, self.symbols)
        return value


def is_zero(e: Any, ctx: Context | None = None) -> bool:
    """Whether ``e`` is identically zero on the document's domains (``False``: not shown).

    With ``ctx``, each variable is first replaced by a symbol carrying its domain's sign
    (``positive``, ``nonnegative``, ...), so that ``sqrt(2*y**2)`` is ``sqrt(2)*y`` on
    ``y > 0`` as the prover simplified it, not ``sqrt(2)*Abs(y)`` with a ``DiracDelta`` in its
    second derivative; an identity that holds on the domain is all a certificate needs."""
    import sympy

    if e == 0:
        return True
    if ctx is not None:
        e = e.xreplace(_signed_symbols(ctx))
    # cancel/simplify expand x**(10**9) densely: such identities are not checked, they fail
    if not polys_safe(e):
        # no cancel/simplify (they expand exp(n*x) densely); a plain expansion is safe and
        # settles an identity whose sides differ only in how they are multiplied out
        require(sympy.expand(e) == 0, "exponents too large for the checker's identity tests")
        return True
    canceled = sympy.cancel(sympy.together(e))
    if canceled == 0:
        return True
    # simplify the original too: cancel's normal form can hide an identity that simplify finds
    # in the unexpanded expression (tanh/cosh quotients)
    if sympy.simplify(e) == 0 or sympy.simplify(canceled) == 0:
        return True
    # the prover's trigsimp writes exp(x)/(exp(x) + 1)**2 as 1/(4*cosh(x/2)**2): compare both
    # in exponentials
    hyperbolic = (sympy.sinh, sympy.cosh, sympy.tanh, sympy.sin, sympy.cos, sympy.tan)
    if e.has(*hyperbolic):
        in_exp = sympy.cancel(sympy.together(sympy.expand(e.rewrite(sympy.exp))))
        return in_exp == 0 or sympy.simplify(in_exp) == 0
    return False


MAX_POLY_EXPONENT = 1000


def polys_safe(e: Any) -> bool:
    """Whether SymPy's polynomial functions (``cancel``, ``Poly``, ``factor``) may be called on
    ``e``: every rational inside an exponent (of a power or of ``exp``) has numerator and
    denominator at most :data:`MAX_POLY_EXPONENT`. ``x**(10**9)`` or ``exp(10**9*x)`` would be
    expanded into a dense polynomial of that degree in one call no timer can stop."""
    import sympy

    for sub in sympy.preorder_traversal(e):
        if sub.is_Pow:
            exponent = sub.exp
        elif isinstance(sub, sympy.exp):
            exponent = sub.args[0]
        else:
            continue
        for r in sympy.preorder_traversal(exponent):
            if r.is_Rational and (abs(r.p) > MAX_POLY_EXPONENT or r.q > MAX_POLY_EXPONENT):
                return False
    return True


def _signed_symbols(ctx: Context) -> dict[Any, Any]:
    import sympy

    out = {}
    for name, symbol in ctx.symbols.items():
        d = ctx.domains[name]
        if d.positive:
            out[symbol] = sympy.Symbol(name, positive=True)
        elif d.nonneg:
            out[symbol] = sympy.Symbol(name, nonnegative=True)
        elif d.negative:
            out[symbol] = sympy.Symbol(name, negative=True)
        elif d.nonpos:
            out[symbol] = sympy.Symbol(name, nonpositive=True)
    return out
