"""The torch front end of the tensor engine: a model's loss becomes a tensor expression.

A model is just another front end (``../shared/ARCHITECTURE.md``): :mod:`.trace` records the
user's ``loss_fn(model(inputs), targets)`` with ``torch.fx``; :mod:`.translate` walks that graph,
evaluating with torch everything that does not depend on the judged variables (a frozen
backbone, the data) and turning the rest, op by op through the rows of :mod:`.ops` and
:mod:`.ops_losses`, into the shape-aware tree of :mod:`convexcheck.tensor`; :mod:`.prove` runs the
one DCP engine on it and gives a structural ``yes`` only after the tree has been evaluated
against the user's own program at several points.

Everything here imports torch; nothing in the closed-form path imports this package.
"""

from convexcheck.torchgraph.prove import structural_proof

__all__ = ["structural_proof"]
