"""Where the structural proof is compared with the user's program: the probe points.

The structural prover (:mod:`convexcheck.torchgraph.prove`) gives a ``yes`` only after the
expression it proved, evaluated at these points, equals the user's program there to rounding:
the current values, then for each scale in ``PROBE_SCALES`` random points around them drawn like
the Jensen search's, then the global sign flip. A forward that behaves
differently while traced, a value computed from a parameter and baked in as a constant, or a
translation mistake shows up as a disagreement at one of them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from convexcheck.numeric.candidates import random_pairs, tensor_scales

PROBE_SCALES = (0.1, 1.0, 3.0)
PROBE_SEED = 2024
RELATIVE_TOLERANCE_EPS = 1e3  # "beyond rounding": 1000 ulps of the evaluation dtype


def probe_points(reference: Any, seed: int = PROBE_SEED) -> Tensor:
    """The current values, then for each scale in ``PROBE_SCALES`` a random point around them
    (two at the middle scale), then the global sign flip: six evaluations of the program, each
    a full forward pass (a frozen backbone included), enough to expose an expression that is
    not the program without making a large model's proof cost many forwards."""
    theta0 = reference.theta0.detach()
    gen = torch.Generator().manual_seed(seed)
    rms, init = tensor_scales(reference, theta0)
    rows = [theta0]
    for scale in PROBE_SCALES:
        pairs = random_pairs(theta0, rms, init, scale, 1, gen)
        rows.append(pairs.a[0])
        if scale == 1.0:
            rows.append(pairs.b[0])
    rows.append(-theta0)
    return torch.stack(rows)
