r"""Picking rows by index, $B = E[\mathrm{idx}]$ (an embedding lookup; chapter 8, the patterns).

Shapes: a table $E \in \mathbb{R}^{V \times D}$ and integer indices $\mathrm{idx} \in \{0, \dots, V-1\}^N$;
row $n$ of $B \in \mathbb{R}^{N \times D}$ is row $\mathrm{idx}_n$ of $E$, and the upstream
$G = \partial L / \partial B$ is (N, D).

$B_{nd} = E_{\mathrm{idx}_n, d}$, so $\partial B_{nd} / \partial E_{vd'} = \mathbf 1[\mathrm{idx}_n = v]\,
\mathbf 1[d = d']$ and the chain rule sums over every row of B:

$$
\frac{\partial L}{\partial E_{vd}} = \sum_{n:\ \mathrm{idx}_n = v} G_{nd},
$$

the rows of G added into the rows of E they came from (a scatter-add). A row picked twice gets
both rows of G; a row never picked gets 0. It is the matrix product $B = S E$ with the one-hot
rows $S_{n,:} = e_{\mathrm{idx}_n}$, whose rule gives the same: $\partial L/\partial E = S^T G$.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_indices, as_matrix, as_upstream, validated

RULE = "gather"


def _table_and_indices(E: ArrayLike, idx: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    E = as_matrix(RULE, "E", E)
    return E, as_indices(RULE, "idx", idx, E.shape[0], of=f"E of shape {E.shape} ({E.shape[0]} rows)")


def _forward_inputs(E: ArrayLike, idx: ArrayLike) -> Checked:
    return _table_and_indices(E, idx), None


def _backward_inputs(G: ArrayLike, E: ArrayLike, idx: ArrayLike) -> Checked:
    E, idx = _table_and_indices(E, idx)
    return (as_upstream(RULE, "G", G, (idx.size, E.shape[1]), of="B = E[idx]"), E, idx), None


@validated(_forward_inputs)
def forward(E: ArrayLike, idx: ArrayLike) -> np.ndarray:
    """B = E[idx]: row n is row idx[n] of E, shape (N, D)."""
    return E[idx]


@validated(_backward_inputs)
def backward(G: ArrayLike, E: ArrayLike, idx: ArrayLike) -> np.ndarray:
    """Given G = dL/dB (N, D), return dL/dE (V, D): row n of G added into row idx[n] (repeats add up)."""
    dE = np.zeros(E.shape, dtype=np.result_type(G, np.float64))
    np.add.at(dE, idx, G)  # not dE[idx] += G: with a repeated index that keeps only one of the rows
    return dE
