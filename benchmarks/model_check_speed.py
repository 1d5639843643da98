"""Benchmark: what ``convexcheck.check_model`` costs, per model and for a 5M-parameter CNN.

Targets (issue 12, item 5; CPU):

* fixed cost: no per-model cost above 0.5 s beyond importing torch, for a 5-parameter model
  whose answer is ``yes`` (linear regression, a structural proof), ``no`` (a tiny tanh MLP,
  a Jensen witness) and ``unknown`` (a linear regression whose ``forward`` has a data-dependent
  branch, so the structural prover cannot trace it and, the loss being convex, no Jensen
  violation exists: the whole search, the Hessian estimate and the reasons run to the end);
* a float64-verified witness (answer ``no``) for a 5-million-parameter CNN on 32x32 inputs in
  under 30 s and under 1.5 GB peak RSS.

Every case runs in a fresh subprocess (``--worker``), so that "cold" means what a user sees:
the first ``check_model`` call of a process, timed after ``import torch`` (importing convexcheck
and its lazy imports are inside the timed region), and peak RSS is the process's own
(``VmHWM`` from ``/proc/self/status``; ``check_peak_rss_mb`` is the peak during the check only,
measured after resetting the high-water mark through ``/proc/self/clear_refs``; where that
is unavailable, ``ru_maxrss`` of the process). The "warm" times come after one warm-up call in
the same process. Phase times come from timers wrapped around the stages of ``check_model``
(structural proof, Jensen search, Hessian/Lanczos, the explain reasons, result building) and
around the float64 verifier; nested phases are reported inside their parent (``verify`` is part
of ``jensen`` and ``reasons``).

Threads: ``torch.set_num_threads(--threads)`` is called in every worker before anything is
built (default 2, the development machine's core count; the interop pool is left alone). All
randomness is seeded (``--seed``): the same seed gives the same model, data, candidates and
answer, so only the times vary with machine load. The load average before and after is
recorded with the results.

    python benchmarks/model_check_speed.py [--repeat 3] [--cnn-repeat 1] [--threads 2]
        [--seed 0] [--only fixed|cnn] [--json out.json] [--quick]

``--quick`` uses small sizes (a 26k-parameter CNN, one repeat) so that a test can smoke-run the
whole script in a few seconds; its numbers say nothing about the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_PROCESS_START = time.perf_counter()
import torch  # noqa: E402  (timed: the fixed costs are measured beyond this import)
from torch import nn  # noqa: E402

TORCH_IMPORT_S = time.perf_counter() - _PROCESS_START

FIXED_TARGET_S = 0.5
CNN_TARGET_S = 30.0
CNN_TARGET_RSS_MB = 1536.0
FIXED_CASES = ("linear_yes", "tanh_no", "branch_unknown")

# CNN sizes: (channels 1..3, hidden width, batch). Full: 5,010,611 parameters on 3x32x32.
CNN_FULL = {"channels": (64, 128, 256), "hidden": 283, "batch": 64, "sgd_steps": 3}
CNN_QUICK = {"channels": (4, 8, 16), "hidden": 24, "batch": 8, "sgd_steps": 1}


# -- models ---------------------------------------------------------------------------------
class TanhNet(nn.Module):
    """``s * (u tanh(w x + b) + c)``: five scalar parameters, not convex."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(1, 1)
        self.act = nn.Tanh()
        self.outer = nn.Linear(1, 1)
        self.s = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.s * self.outer(self.act(self.inner(x)))


class BranchyLinear(nn.Module):
    """A linear regression (convex) behind a data-dependent branch that fx cannot trace."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if float(x.abs().sum()) >= 0.0:  # always true; fx refuses the data-dependent test
            return self.lin(x)
        return -self.lin(x)


def fixed_case(name: str, seed: int) -> tuple[nn.Module, Any, Any]:
    """``(model, loss_fn, data)`` of a 5-parameter case."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.randn(32, 4, generator=g)
    w = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    y = x @ w + 0.1 * torch.randn(32, 1, generator=g)
    if name == "linear_yes":
        return nn.Linear(4, 1), nn.MSELoss(), (x, y)
    if name == "tanh_no":
        xs = x[:, :1]
        return TanhNet(), nn.MSELoss(), (xs, torch.sin(3 * xs))
    if name == "branch_unknown":
        return BranchyLinear(), nn.MSELoss(), (x, y)
    raise ValueError(f"unknown case {name!r}")


def cnn_case(sizes: dict[str, Any], seed: int) -> tuple[nn.Module, Any, Any]:
    """A VGG-like CNN on 3x32x32 inputs, CrossEntropyLoss, weights after a few seeded SGD steps
    (``sgd_steps``, lr 0.01, momentum 0.9, on the same random data that is then judged)."""
    c1, c2, c3 = sizes["channels"]
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, c1, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c2, c3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c3 * 8 * 8, sizes["hidden"]),
        nn.ReLU(),
        nn.Linear(sizes["hidden"], 10),
    )
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(sizes["batch"], 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (sizes["batch"],), generator=g)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(sizes["sgd_steps"]):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    model.zero_grad(set_to_none=True)
    return model, loss_fn, (x, y)


# -- phase timers ---------------------------------------------------------------------------
class PhaseTimer:
    """Wraps the stages of ``check_model`` (module attributes looked up at call time) with
    timers; ``phases`` accumulates seconds per phase for one call."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._installed: list[tuple[Any, str, Any]] = []

    def _wrap(self, owner: Any, attr: str, phase: str) -> None:
        original = getattr(owner, attr)
        timer = self

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.phases[phase] = timer.phases.get(phase, 0.0) + time.perf_counter() - start

        self._installed.append((owner, attr, original))
        setattr(owner, attr, wrapped)

    def install(self) -> None:
        from convexcheck.numeric import check, verify

        # the function of one flat vector (FunctionalLoss, built through the objective module
        # where check_model has one): its validating evaluations
        setup = "build_objective" if hasattr(check, "build_objective") else "FunctionalLoss"
        self._wrap(check, setup, "setup (FunctionalLoss)")
        self._wrap(check, "_structural", "structural proof")
        self._wrap(check.JensenSearch, "run", "jensen search")
        self._wrap(check.JensenSearch, "try_directions", "jensen search")
        self._wrap(check, "_hessian_with_vector", "hessian/lanczos")
        self._wrap(check, "_argued_reasons", "reasons (explain/reasons.py)")
        self._wrap(check, "ModelCheckResult", "result building")
        self._wrap(verify.Verifier, "__init__", "  of which: float64 copy")
        self._wrap(verify.Verifier, "check", "  of which: float64 verification")

    def reset(self) -> None:
        self.phases = {}


def _rss_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _answer_info(result: Any) -> dict[str, Any]:
    verdict = result.convex
    info: dict[str, Any] = {"answer": verdict.answer, "method": verdict.method}
    if verdict.witness:
        info["witness_source"] = verdict.witness.get("source")
        info["witness_gap"] = verdict.witness.get("gap")
        info["witness_margin"] = verdict.witness.get("margin")
    info["jensen_evaluations"] = result.jensen.get("evaluations")
    info["jensen_stopped_by"] = result.jensen.get("stopped_by")
    hess = result.hessian or {}
    info["hessian"] = {
        k: hess.get(k) for k in ("status", "iterations", "matvecs", "min_eigenvalue") if k in hess
    }
    info["reasons"] = [r.get("kind") for r in result.reasons]
    return info


# -- workers (run in a fresh process) -------------------------------------------------------
def worker(case: str, seed: int, threads: int, repeat: int, quick: bool) -> dict[str, Any]:
    torch_import_s = TORCH_IMPORT_S
    torch.set_num_threads(threads)
    if case == "cnn":
        model, loss_fn, data = cnn_case(CNN_QUICK if quick else CNN_FULL, seed)
    else:
        model, loss_fn, data = fixed_case(case, seed)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    timer = PhaseTimer()
    rss_before = _rss_mb("VmRSS")
    peak_reset = _reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    import convexcheck

    timer.install()
    result = convexcheck.check_model(model, loss_fn, data, device="cpu", seed=seed)
    cold = time.perf_counter() - t0
    cold_cpu = time.process_time() - c0
    out: dict[str, Any] = {
        "case": case,
        "parameters": params,
        "threads": torch.get_num_threads(),
        "torch_import_s": torch_import_s,
        "cold_s": cold,
        "cold_cpu_s": cold_cpu,
        "cold_phases": dict(timer.phases),
        "rss_before_check_mb": rss_before,
        "check_peak_rss_mb": _rss_mb("VmHWM") if peak_reset else None,
        **_answer_info(result),
    }
    if case == "cnn":
        out["batch"] = (CNN_QUICK if quick else CNN_FULL)["batch"]
        out["input"] = [3, 32, 32]
    warm: list[float] = []
    phases: list[dict[str, float]] = []
    if repeat > 0:
        convexcheck.check_model(model, loss_fn, data, device="cpu", seed=seed)  # warm-up
        for _ in range(repeat):
            timer.reset()
            t0 = time.perf_counter()
            again = convexcheck.check_model(model, loss_fn, data, device="cpu", seed=seed)
            warm.append(time.perf_counter() - t0)
            phases.append(dict(timer.phases))
            if again.convex.answer != result.convex.answer:
                out["nondeterministic"] = True
    out["warm_s"] = warm
    if phases:
        keys = sorted({k for p in phases for k in p})
        out["warm_phases"] = {k: statistics.median(p.get(k, 0.0) for p in phases) for k in keys}
    out["peak_rss_mb"] = _rss_mb("VmHWM") if not peak_reset else out["check_peak_rss_mb"]
    out["process_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def run_worker(case: str, args: argparse.Namespace, repeat: int) -> dict[str, Any]:
    cmd = [
        sys.executable, __file__, "--worker", case, "--seed", str(args.seed),
        "--threads", str(args.threads), "--warm-repeat", str(repeat),
    ]  # fmt: skip
    if args.quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {case} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


ROOT = Path(__file__).resolve().parent.parent


def worker_env() -> dict[str, str]:
    """The workers' environment: this checkout first on ``PYTHONPATH``."""
    env = dict(os.environ)
    root = str(ROOT)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def prepare_bytecode() -> list[Path]:
    """Compile convexcheck's sources to ``__pycache__`` (git-ignored), as ``pip install`` does,
    so that the workers time the check and not Python's compiler (this machine sets
    ``PYTHONDONTWRITEBYTECODE``, so nothing would ever be cached). Returns the files created,
    which :func:`main` removes at the end."""
    package = ROOT / "convexcheck"
    before = set(package.rglob("*.pyc"))
    env = worker_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package)],
        env=env,
        check=True,
        capture_output=True,
    )
    return sorted(set(package.rglob("*.pyc")) - before)


_MODEL_FILE = """import sys
sys.path.insert(0, {bench!r})
from model_check_speed import fixed_case
model, loss_fn, data = fixed_case({case!r}, {seed!r})
"""


def cli_times(args: argparse.Namespace, repeat: int) -> dict[str, Any]:
    """Whole-process times of ``python -m convexcheck model FILE --json`` for the fixed cases,
    against ``python -c "import torch"`` (what a user waits for at the command line)."""
    import tempfile

    env = worker_env()
    env["OMP_NUM_THREADS"] = str(args.threads)

    def timed(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    out: dict[str, Any] = {"repeat": repeat, "threads_via": "OMP_NUM_THREADS"}
    out["import_torch_s"] = [timed([sys.executable, "-c", "import torch"]) for _ in range(repeat)]
    with tempfile.TemporaryDirectory() as tmp:
        for case in FIXED_CASES:
            file = Path(tmp) / f"{case}.py"
            file.write_text(_MODEL_FILE.format(bench=str(ROOT / "benchmarks"), case=case, seed=0))
            cmd = [sys.executable, "-m", "convexcheck", "model", str(file), "--json"]
            out[case] = [timed(cmd) for _ in range(repeat)]
    torch_median = statistics.median(out["import_torch_s"])
    out["beyond_import_torch_median_s"] = {
        case: statistics.median(out[case]) - torch_median for case in FIXED_CASES
    }
    return out


# -- driver ---------------------------------------------------------------------------------
def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _load() -> list[float] | None:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def summarise(runs: list[dict[str, Any]], target_s: float | None) -> dict[str, Any]:
    first = runs[0]
    cold = [r["cold_s"] for r in runs]
    warm = [w for r in runs for w in r.get("warm_s", [])]
    rss = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb") is not None]
    summary = {
        k: first[k]
        for k in (
            "case", "parameters", "threads", "answer", "method", "witness_source",
            "jensen_evaluations", "jensen_stopped_by", "hessian", "reasons", "batch", "input",
        )
        if k in first
    }  # fmt: skip
    summary.update(
        {
            "runs": len(runs),
            "cold_s": cold,
            "cold_median_s": _median(cold),
            "cold_cpu_median_s": _median([r["cold_cpu_s"] for r in runs]),
            "warm_s": warm,
            "warm_median_s": _median(warm),
            "torch_import_median_s": _median([r["torch_import_s"] for r in runs]),
            "cold_phases": _median_phases([r["cold_phases"] for r in runs]),
            "warm_phases": _median_phases([r.get("warm_phases", {}) for r in runs]),
            "peak_rss_mb": _median(rss),
            "process_maxrss_mb": _median([r["process_maxrss_mb"] for r in runs]),
            "rss_before_check_mb": _median([r["rss_before_check_mb"] or 0.0 for r in runs]),
            "answers": sorted({r["answer"] for r in runs}),
        }
    )
    if target_s is not None:
        summary["target_s"] = target_s
    return summary


def _median_phases(items: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for p in items for k in p}, key=_phase_order)
    return {k: statistics.median(p.get(k, 0.0) for p in items) for k in keys}


_ORDER = [
    "setup (FunctionalLoss)", "structural proof", "jensen search", "hessian/lanczos",
    "reasons (explain/reasons.py)", "result building", "  of which: float64 copy",
    "  of which: float64 verification",
]  # fmt: skip


def _phase_order(key: str) -> int:
    return _ORDER.index(key) if key in _ORDER else len(_ORDER)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_table(report: dict[str, Any]) -> None:
    print(
        f"torch {report['torch']}, {report['threads']} threads, seed {report['seed']}, "
        f"load before {report['load_before']}, after {report['load_after']}"
        + (" [--quick: sizes too small to judge the targets]" if report["quick"] else "")
    )
    if report.get("fixed"):
        print(f"\nFixed cost per model (target: cold <= {FIXED_TARGET_S} s after import torch)")
        print(f"{'case':16s} {'params':>6s} {'answer':>8s} {'cold med s':>11s} "
              f"{'cold cpu s':>11s} {'warm med s':>11s} {'torch imp s':>11s}  met")  # fmt: skip
        for row in report["fixed"]:
            met = "yes" if row["cold_median_s"] <= FIXED_TARGET_S else "NO"
            print(
                f"{row['case']:16s} {row['parameters']:6d} {row['answer']:>8s} "
                f"{_fmt(row['cold_median_s']):>11s} {_fmt(row['cold_cpu_median_s']):>11s} "
                f"{_fmt(row['warm_median_s']):>11s} "
                f"{_fmt(row['torch_import_median_s']):>11s}  {met}"
            )
        print("\nphases (median seconds, cold / warm)")
        for row in report["fixed"]:
            print(f"  {row['case']}:")
            for k, v in row["cold_phases"].items():
                print(f"    {k:34s} {v:8.4f} / {row['warm_phases'].get(k, 0.0):8.4f}")
    if report.get("cli"):
        cli = report["cli"]
        torch_s = statistics.median(cli["import_torch_s"])
        print(
            f"\ncommand line, whole process (median of {cli['repeat']}; "
            f"import torch {torch_s:.3f} s)"
        )
        for case, extra in cli["beyond_import_torch_median_s"].items():
            print(f"  {case:16s} {statistics.median(cli[case]):7.3f} s  ({extra:+.3f} s beyond)")
    if report.get("cnn"):
        row = report["cnn"]
        print(
            f"\nCNN, {row['parameters']:,} parameters, batch {row['batch']}, 3x32x32 "
            f"(target: witness in < {CNN_TARGET_S:g} s, peak RSS < {CNN_TARGET_RSS_MB:g} MB)"
        )
        print(
            f"  answer {row['answer']} ({row.get('witness_source')}), "
            f"cold {[round(x, 2) for x in row['cold_s']]} s (median "
            f"{_fmt(row['cold_median_s'], 2)} s, CPU time {_fmt(row['cold_cpu_median_s'], 1)} s "
            f"over {row['threads']} threads), peak RSS during the check "
            f"{_fmt(row['peak_rss_mb'], 0)} MB (before the check "
            f"{_fmt(row['rss_before_check_mb'], 0)} MB; process ru_maxrss "
            f"{_fmt(row['process_maxrss_mb'], 0)} MB)"
        )
        for k, v in row["cold_phases"].items():
            print(f"    {k:34s} {v:8.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per fixed case")
    parser.add_argument("--cnn-repeat", type=int, default=1, help="fresh processes for the CNN")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("fixed", "cnn"), default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="do not compile convexcheck to __pycache__ first (each worker compiles it)",
    )
    parser.add_argument(
        "--cli",
        action="store_true",
        help="also time the command line (python -m convexcheck model FILE) per fixed case",
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--warm-repeat", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(
            json.dumps(worker(args.worker, args.seed, args.threads, args.warm_repeat, args.quick))
        )
        return 0
    if args.quick:
        args.repeat, args.cnn_repeat = 1, 1
    created = [] if args.no_bytecode_cache else prepare_bytecode()
    try:
        report = run_all(args)
    finally:
        for path in created:
            path.unlink(missing_ok=True)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "threads": args.threads,
        "seed": args.seed,
        "quick": args.quick,
        "bytecode_cache": not args.no_bytecode_cache,
        "load_before": _load(),
        "fixed": [],
        "cnn": None,
    }
    if args.only in (None, "fixed"):
        for case in FIXED_CASES:
            runs = [run_worker(case, args, 1 if args.quick else 3) for _ in range(args.repeat)]
            report["fixed"].append(summarise(runs, FIXED_TARGET_S))
        if args.cli:
            report["cli"] = cli_times(args, args.repeat)
    if args.only in (None, "cnn"):
        runs = [run_worker("cnn", args, 0) for _ in range(args.cnn_repeat)]
        report["cnn"] = summarise(runs, CNN_TARGET_S)
        report["cnn"]["target_rss_mb"] = CNN_TARGET_RSS_MB
    report["load_after"] = _load()
    report["targets"] = targets(report)
    return report


def targets(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if report.get("fixed"):
        worst = max(r["cold_median_s"] for r in report["fixed"])
        out["fixed_cost"] = {"target_s": FIXED_TARGET_S, "worst_cold_median_s": worst,
                             "met": worst <= FIXED_TARGET_S}  # fmt: skip
    if report.get("cnn"):
        row = report["cnn"]
        out["cnn_time"] = {
            "target_s": CNN_TARGET_S,
            "median_s": row["cold_median_s"],
            "met": row["answer"] == "no" and row["cold_median_s"] < CNN_TARGET_S,
        }
        out["cnn_rss"] = {
            "target_mb": CNN_TARGET_RSS_MB,
            "peak_mb": row["peak_rss_mb"],
            "met": row["peak_rss_mb"] is not None and row["peak_rss_mb"] < CNN_TARGET_RSS_MB,
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
