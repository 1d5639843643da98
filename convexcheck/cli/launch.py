"""``convexcheck model`` started by ``torchrun``: the process group, and one rank that speaks.

``torchrun --nproc_per_node=N -m convexcheck model FILE`` starts ``N`` copies of the command
with ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` in the environment. Before the model file runs
(it may read ``torch.distributed.get_rank()`` to pick its shard), the default process group is
initialised from that environment: NCCL when the check runs on CUDA (each rank on the GPU
``LOCAL_RANK``), gloo on the CPU, with a collective timeout of
:data:`~convexcheck.numeric.distributed.DEFAULT_TIMEOUT_S` seconds (``CONVEXCHECK_DIST_TIMEOUT``
overrides it) so that a rank that dies cannot leave the others waiting for ever. A group the
caller initialised is used as it is.

Only rank 0 prints and writes files: the other ranks' standard output and error go to
``os.devnull`` for the rest of the process (their result is the same, see
:mod:`convexcheck.numeric.distributed`), including the one-line error every rank raises when
one of them fails.
"""

from __future__ import annotations

import atexit
import os
import sys
from datetime import timedelta

from convexcheck.errors import ConvexcheckInputError


def world_size_from_environment() -> int:
    """``WORLD_SIZE`` as ``torchrun`` sets it (1 when absent or unreadable)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1") or "1"))
    except ValueError:
        return 1


def start_data_parallel(device: str) -> int:
    """Initialise the default process group when launched with ``WORLD_SIZE > 1``; return
    this process's rank (0 outside a group). Silences every rank but 0."""
    if world_size_from_environment() <= 1:
        return 0
    import torch
    import torch.distributed as dist

    from convexcheck.numeric.distributed import DEFAULT_TIMEOUT_S

    if not dist.is_initialized():
        try:
            timeout = float(os.environ.get("CONVEXCHECK_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))
        except ValueError:
            raise ConvexcheckInputError(
                "CONVEXCHECK_DIST_TIMEOUT must be a number of seconds, got "
                f"{os.environ['CONVEXCHECK_DIST_TIMEOUT']!r}"
            ) from None
        cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(
            backend="nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout)
        )
        atexit.register(_leave, dist)
    rank = dist.get_rank()
    if rank != 0:
        quiet = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)
        sys.stdout = sys.stderr = quiet
    return int(rank)


def _leave(dist: object) -> None:
    try:
        if dist.is_initialized():  # type: ignore[attr-defined]
            dist.destroy_process_group()  # type: ignore[attr-defined]
    except Exception:  # leaving is best effort: the process ends either way
        pass
