"""Accuracy and cost of gradlib's finite-difference checker on the chapters' six problems.

Run from the repository root:   .venv/bin/python benchmarks/bench_checker.py [--repeats N]

For each problem it prints, per method: the normwise error ``max|numerical - exact| / max|exact|``,
the CPU time (best of N runs), its ratio to the *floor* -- a bare Python loop of 2n calls of f
(n = x.size), the least any central-difference checker can cost -- and the number of calls of f.
Then the directional mode (calls per direction, at every size), and for comparison the plain
loop with torch.autograd.gradcheck's rule (central differences, absolute step 1e-6), torch itself
and scipy (``optimize.approx_fprime``, ``differentiate.jacobian``) when installed.

Timing notes: CPU time of the process (``time.process_time``), best of N, so that other programs on
a shared machine do not inflate it; BLAS is pinned to one thread (otherwise OpenBLAS threads spin
and count as CPU time, e.g. for complex matmul). Targets: central <= 1e-9 at <= 1.25x
the floor, richardson <= 2e-11 at <= 2.4x (times for n >= 500), complex <= 1e-14, directional mode <=
4 calls/direction.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gradlib.checker import check_gradient, numerical_gradient

TARGETS = {"central": (1e-9, 1.25), "richardson": (2e-11, 2.4), "complex": (1e-14, None)}
TIMED_FROM = 500  # the time targets hold for n >= 500 (below, a fixed ~0.03 ms per check dominates)


class Counter:
    """Wraps f and counts its calls (used in untimed runs only)."""

    def __init__(self, f: Callable[[np.ndarray], Any]) -> None:
        self.f, self.calls = f, 0

    def __call__(self, x: np.ndarray) -> Any:
        self.calls += 1
        return self.f(x)


# -- the six problems -------------------------------------------------------------------------

def softmax_ce(n: int, rng: np.random.Generator) -> tuple[Callable, np.ndarray, np.ndarray]:
    """f(theta) = logsumexp(theta) - theta[k] (stable); gradient softmax(theta) - onehot(k)."""
    theta, k = rng.standard_normal(n), 3

    def f(t: np.ndarray) -> Any:
        m = t.max()
        return m + np.log(np.sum(np.exp(t - m))) - t[k]

    s = np.exp(theta - theta.max())
    return f, theta, s / s.sum() - np.eye(n)[k]


def softmax_ce_library(n: int, rng: np.random.Generator) -> tuple[Callable, np.ndarray, np.ndarray] | None:
    """The same loss through the chapter's gradlib.softmax_xent.forward (it validates its input)."""
    try:
        from gradlib import softmax_xent
    except Exception:  # the rule module is someone else's; the benchmark must not depend on it
        return None
    _, theta, grad = softmax_ce(n, rng)
    return (lambda t: softmax_xent.forward(t, 3)), theta, grad


def tanh_layer(m: int, n: int, rng: np.random.Generator) -> tuple[Callable, np.ndarray, np.ndarray]:
    """f(W) = sum(tanh(W x)); gradient (1 - tanh(W x)**2) x^T."""
    W, x = rng.standard_normal((m, n)), rng.standard_normal(n)
    return (lambda W: np.sum(np.tanh(W @ x))), W, np.outer(1 - np.tanh(W @ x) ** 2, x)


def sin_matmul(rng: np.random.Generator) -> tuple[Callable, np.ndarray, np.ndarray]:
    """f(X) = sum(sin(X Y)), X 50x40, Y 40x30; gradient cos(X Y) Y^T."""
    X, Y = rng.standard_normal((50, 40)), rng.standard_normal((40, 30))
    return (lambda X: np.sum(np.sin(X @ Y))), X, np.cos(X @ Y) @ Y.T


def broadcast_square(rng: np.random.Generator) -> tuple[Callable, np.ndarray, np.ndarray]:
    """f(y) = sum((y * X)**2) for a row y broadcast over X 200x100; gradient 2 y sum_i X_i**2."""
    X, y = rng.standard_normal((200, 100)), rng.standard_normal(100)
    return (lambda y: np.sum((y * X) ** 2)), y, 2 * y * np.sum(X ** 2, axis=0)


def problems() -> list[tuple[str, Callable, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20240408)
    out = [("softmax-CE, n=10", *softmax_ce(10, rng))]
    library = softmax_ce_library(10, np.random.default_rng(20240408))
    if library is not None:
        out.append(("softmax-CE, n=10, via gradlib.softmax_xent.forward", *library))
    out += [("softmax-CE, n=1000", *softmax_ce(1000, rng)),
            ("sum(tanh(W x)) wrt W 10x8", *tanh_layer(10, 8, rng)),
            ("sum(tanh(W x)) wrt W 200x100", *tanh_layer(200, 100, rng)),
            ("sum(sin(X Y)) wrt X 50x40, Y 40x30", *sin_matmul(rng)),
            ("sum((y*X)**2) wrt y, X 200x100", *broadcast_square(rng))]
    return out


# -- other estimators, for comparison -----------------------------------------------------------

def plain_loop(f: Callable, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """torch.autograd.gradcheck's numerical rule in numpy: central differences, absolute step h."""
    work = np.array(x, dtype=np.float64)
    flat, grad = work.reshape(-1), np.empty(x.size)
    for j in range(x.size):
        keep = flat[j]
        flat[j] = keep + h
        up = f(work)
        flat[j] = keep - h
        down = f(work)
        flat[j] = keep
        grad[j] = (up - down) / (2 * h)
    return grad.reshape(x.shape)


def optional_estimators() -> tuple[dict[str, Callable], list[str]]:
    """Estimators from torch and scipy if they are installed, and notes about those that are not."""
    found: dict[str, Callable] = {}
    notes: list[str] = []
    try:
        import torch
        from torch.autograd.gradcheck import get_numerical_jacobian

        def torch_gradcheck_rule(f: Callable, x: np.ndarray) -> np.ndarray:
            def fn(t: Any) -> Any:
                return torch.as_tensor(np.asarray(f(t.detach().numpy().reshape(x.shape)), dtype=np.float64))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # get_numerical_jacobian is deprecated
                jac = get_numerical_jacobian(fn, (torch.tensor(x.ravel(), dtype=torch.float64),), eps=1e-6)
            return np.asarray(jac[0]).reshape(x.shape)

        found["torch get_numerical_jacobian (gradcheck, eps=1e-6)"] = torch_gradcheck_rule
    except Exception as exc:  # not installed (it is huge), or its API moved
        notes.append(f"torch skipped ({type(exc).__name__}: {exc}); the 'plain loop' row uses gradcheck's rule")
    try:
        from scipy.optimize import approx_fprime

        found["scipy.optimize.approx_fprime (forward)"] = lambda f, x: approx_fprime(
            x.ravel(), lambda v: float(f(v.reshape(x.shape)))).reshape(x.shape)
    except Exception as exc:
        notes.append(f"scipy.optimize.approx_fprime skipped ({type(exc).__name__}: {exc})")
    try:
        from scipy.differentiate import jacobian

        def scipy_jacobian(f: Callable, x: np.ndarray) -> np.ndarray:
            def batched(points: np.ndarray) -> np.ndarray:  # f is not vectorized: loop over the batch
                return np.apply_along_axis(lambda v: np.atleast_1d(f(v.reshape(x.shape))), 0, points)
            return jacobian(batched, x.ravel()).df.reshape(x.shape)

        found["scipy.differentiate.jacobian"] = scipy_jacobian
    except Exception as exc:
        notes.append(f"scipy.differentiate.jacobian skipped ({type(exc).__name__}: {exc})")
    return found, notes


# -- measuring ----------------------------------------------------------------------------------

def cpu_time(run: Callable[[], Any]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def normwise(numerical: np.ndarray, exact: np.ndarray) -> float:
    return float(np.abs(np.asarray(numerical) - exact).max() / np.abs(exact).max())


def measure(name: str, f: Callable, x: np.ndarray, exact: np.ndarray, repeats: int,
            others: dict[str, Callable]) -> dict[str, tuple[float, float]]:
    """Print one problem's table; return {method: (error, ratio)} for the summary."""
    n = x.size
    rounds = repeats if n <= 2000 else max(2, repeats // 3)
    inner = max(1, 4000 // (2 * n))  # repeat tiny problems so that one timing is >= ~1 ms

    def floor() -> None:
        for _ in range(inner):
            for _ in range(2 * n):
                f(x)

    candidates: dict[str, Callable[[], Any]] = {
        "central": lambda: numerical_gradient(f, x, method="central"),
        "richardson": lambda: numerical_gradient(f, x, method="richardson"),
        "complex": lambda: numerical_gradient(f, x, method="complex"),
        "check_gradient auto": lambda: check_gradient(f, x, exact),
        "plain loop, h=1e-6 (gradcheck's rule)": lambda: plain_loop(f, x),
    }
    best = {key: np.inf for key in ["floor", *candidates]}
    for _ in range(rounds):  # interleaved, so that a busy moment hits every row alike
        best["floor"] = min(best["floor"], cpu_time(floor) / inner)
        for key, run in candidates.items():
            best[key] = min(best[key], cpu_time(lambda run=run: [run() for _ in range(inner)]) / inner)

    print(f"\n{name}   (x {x.shape}, n = {n}; floor = 2n bare calls = {best['floor'] * 1e3:.3f} ms CPU)")
    print(f"  {'method':44s} {'error':>9s} {'time ms':>9s} {'/floor':>7s} {'calls':>7s}")
    summary: dict[str, tuple[float, float]] = {}

    def row(label: str, numerical: np.ndarray, seconds: float, calls: int, extra: str = "") -> float:
        ratio = seconds / best["floor"]
        error = normwise(numerical, exact)
        print(f"  {label:44s} {error:9.1e} {seconds * 1e3:9.3f} {ratio:6.2f}x {calls:7d}{extra}")
        return error

    for method in ("central", "richardson", "complex"):
        counted = Counter(f)
        numerical = numerical_gradient(counted, x, method=method)
        error = row(method, numerical, best[method], counted.calls)
        summary[method] = (error, best[method] / best["floor"])
    result = check_gradient(f, x, exact)
    row("check_gradient auto", result.numerical, best["check_gradient auto"], result.calls,
        f"  -> {'PASS' if result else 'FAIL'} by {result.method}")
    label = "plain loop, h=1e-6 (gradcheck's rule)"
    row(label, plain_loop(f, x), best[label], 2 * n)
    for label, estimator in others.items():
        if label.startswith("scipy.differentiate") and n > 1000:
            print(f"  {label:44s}   skipped: n > 1000 (f is looped per point; minutes)")
            continue
        counted = Counter(f)
        try:
            seconds = cpu_time(lambda estimator=estimator, counted=counted: estimator(counted, x))  # one run: slow
            calls = counted.calls
            row(label, estimator(f, x), seconds, calls)
        except Exception as exc:  # an optional comparison must not stop the benchmark
            print(f"  {label:44s}   failed: {type(exc).__name__}: {exc}")

    for k in (4, 16):
        counted = Counter(f)
        directional = check_gradient(counted, x, exact, directions=k)
        seconds = min(cpu_time(lambda k=k: check_gradient(f, x, exact, directions=k)) for _ in range(3))
        print(f"  directional mode, {k:2d} directions {'':16s} {directional.max_rel_error:9.1e} "
              f"{seconds * 1e3:9.3f} {seconds / best['floor']:6.2f}x {counted.calls:7d}"
              f"  = {counted.calls / k:g} calls/direction, {'PASS' if directional else 'FAIL'}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timing rounds (best of; fewer for big n)")
    args = parser.parse_args()
    others, notes = optional_estimators()
    print(__doc__.split("\n\n")[0])
    print(f"numpy {np.__version__}; BLAS threads pinned to {os.environ['OPENBLAS_NUM_THREADS']}; "
          f"best of {args.repeats} CPU timings")
    for note in notes:
        print("note:", note)
    table: dict[str, dict[str, tuple[float, float]]] = {}
    sizes: dict[str, int] = {}
    for name, f, x, exact in problems():
        table[name], sizes[name] = measure(name, f, x, exact, args.repeats, others), x.size

    print(f"\nSummary against the targets (worst over the problems; times for n >= {TIMED_FROM}):")
    for method, (error_target, ratio_target) in TARGETS.items():
        errors = [row[method][0] for row in table.values()]
        ratios = {name: row[method][1] for name, row in table.items() if sizes[name] >= TIMED_FROM}
        worst = max(ratios, key=ratios.get)
        verdict_error = "ok" if max(errors) <= error_target else "MISSED"
        line = f"  {method:10s} error {max(errors):.1e} (target {error_target:.0e}: {verdict_error})"
        if ratio_target is not None:
            misses = [name for name, r in ratios.items() if r > ratio_target]
            line += (f"; time {ratios[worst]:.2f}x the floor at worst, on {worst!r} (target {ratio_target}x: "
                     + ("ok" if not misses else "MISSED on " + ", ".join(misses)) + ")")
        print(line)


if __name__ == "__main__":
    main()
