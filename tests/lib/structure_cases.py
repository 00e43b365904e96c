"""What the tests of gradlib.structure run over: every spec, the shapes each is tried at, generic
inputs (no zeros, no coincidences, so every true dependency shows in the derivatives), and the
dependencies measured by finite differences of gradlib itself."""
from __future__ import annotations

import itertools

import numpy as np

import gradlib
from gradlib import numerical_jacobian, structure

ALL_SPECS = [s for specs in structure.SPECS.values() for s in specs]
SPEC_IDS = [f"{s.rule}-{s.variant}" if s.variant else s.rule for s in ALL_SPECS]
THRESHOLD = 1e-6  # central differences of these O(1) functions are accurate to ~1e-9


#: Shapes per rule: defaults, all 1, all 6, and lopsided ones (1 x 6, 6 x 1, ...).
def shape_cases(spec: structure.Spec) -> list[dict[str, int]]:
    names = [d.name for d in spec.dims]
    cases = [spec.default_shapes, dict.fromkeys(names, 1), dict.fromkeys(names, 6)]
    for sizes in [(1, 6, 2, 5), (6, 1, 3, 2), (2, 5, 1, 6), (3, 2, 6, 1)]:
        cases.append(dict(zip(names, sizes[:len(names)], strict=True)))
    unique = {tuple(sorted(c.items())): c for c in cases}
    return list(unique.values())


CASES = [(s, shapes) for s in ALL_SPECS for shapes in shape_cases(s)]
CASE_IDS = [f"{s.rule}{'-' + s.variant if s.variant else ''}-{'x'.join(map(str, sh.values()))}" for s, sh in CASES]


def generic(spec: structure.Spec, shapes: dict[str, int], seed: int = 0, params: dict | None = None
            ) -> dict[str, np.ndarray]:
    """Given arrays with no zeros and no coincidences: every true dependency shows in the derivatives."""
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(0.3, 1.7, size=v.shape) * rng.choice([-1.0, 1.0], size=v.shape)
              for name, v in structure.random_values(spec.rule).items()}
    return structure.inputs(spec, shapes, values, params)


def measured(spec: structure.Spec, shapes: dict[str, int], given: dict[str, np.ndarray], target: str, source: str
             ) -> np.ndarray:
    """d target.ravel() / d source.ravel() by finite differences of gradlib itself, as a 0/1 matrix."""
    def of(v: np.ndarray) -> np.ndarray:
        return structure.library(spec, {**given, source: v})[target]
    return np.abs(numerical_jacobian(of, given[source])) > THRESHOLD


def entries(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(*map(range, shape)))


def forward_jacobian(spec: structure.Spec, given: dict[str, np.ndarray], wrt: str) -> np.ndarray:
    """gradlib.numerical_jacobian of gradlib.<rule>.forward w.r.t. ``wrt``, the others held fixed."""
    args = spec.library[0].args[1:]  # backward(upstream, *inputs) -> forward(*inputs)
    def forward(value: np.ndarray) -> np.ndarray:
        return getattr(gradlib, spec.rule).forward(*(value if a == wrt else given[a] for a in args))
    return numerical_jacobian(forward, given[wrt])
