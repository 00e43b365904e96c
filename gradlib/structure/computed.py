"""What a spec computes: the lights of an entry, its index formula, and every array's values.

:func:`lights` reads the dependencies off the patterns, :func:`formulas` writes each computed entry's
index formula (once: explorer.js receives the text in :func:`as_dict`), :func:`evaluate` computes the
values from the spec alone and :func:`library` with gradlib itself; :func:`jacobian` builds the
Jacobian the rule never builds.
"""
from __future__ import annotations

import dataclasses
import itertools
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from gradlib._validate import rule_error
from gradlib.structure.parts import TERM_FUNCTIONS, Index, Relation, Spec, Term, check_entry, hot, letter_dims
from gradlib.structure.rules import SPECS

# --- lights --------------------------------------------------------------------------------------

def _indices(shape: Index) -> Iterator[Index]:
    return itertools.product(*(range(s) for s in shape))


def sources(spec: Spec, shapes: Mapping[str, int], relation: Relation, term: Term,
            entry: Index) -> Iterator[tuple[str, Index]]:
    """The (operand, index) pairs that entry ``entry`` of the relation's target reads through ``term``."""
    dims = letter_dims(spec, relation, term)
    if term.constant_if_one and shapes[dims[term.constant_if_one]] == 1:
        return
    fixed = dict(zip(term.output, entry, strict=True))
    for values in _indices(tuple(int(shapes[dims[letter]]) for letter in term.summed)):
        letters = {**fixed, **dict(zip(term.summed, values, strict=True))}
        if term.gate and not _open(spec, shapes, term, letters):
            continue
        for name, subscripts in zip(term.operands, term.inputs, strict=True):
            yield name, tuple(letters[letter] for letter in subscripts)


def _open(spec: Spec, shapes: Mapping[str, int], term: Term, letters: Mapping[str, int]) -> bool:
    """Whether the term's ``gate`` (a one-hot matrix operand) is 1 at these letters' entry."""
    subscripts = term.inputs[term.operands.index(term.gate)]
    return hot(spec.shape(term.gate, shapes), tuple(letters[c] for c in subscripts))


def lights(spec: Spec, shapes: Mapping[str, int], array: str, index: Any) -> dict[str, set[Index]]:
    """The entries that light up when the reader points at ``array[index]``: {array name: indices}.

    For a computed entry, the entries it is computed from; for an entry that feeds others, every
    entry it feeds (an array can be both: chapter 1's f is computed from x and feeds J).
    """
    index = check_entry(spec, shapes, array, index)
    lit: dict[str, set[Index]] = {}
    for relation in spec.relations:
        for term in relation.terms:
            if relation.target == array:
                for name, source in sources(spec, shapes, relation, term, index):
                    lit.setdefault(name, set()).add(source)
            for entry in fed(spec, shapes, relation, term, array, index):
                lit.setdefault(relation.target, set()).add(entry)
    return lit


def fed(spec: Spec, shapes: Mapping[str, int], relation: Relation, term: Term, array: str,
        index: Index) -> Iterator[Index]:
    """The entries of the relation's target that read ``array[index]`` through ``term`` (the inverse of
    :func:`sources`): the letters of ``array``'s place are fixed by ``index``, the target's other letters are free."""
    dims = letter_dims(spec, relation, term)
    if term.constant_if_one and shapes[dims[term.constant_if_one]] == 1:
        return
    for name, letters in zip(term.operands, term.inputs, strict=True):
        fixed: dict[str, int] = {}
        if name != array or any(fixed.setdefault(c, i) != i for c, i in zip(letters, index, strict=True)):
            continue  # another operand, or a repeated letter ("ii") that index does not repeat
        entries = itertools.product(*((fixed[c],) if c in fixed else range(int(shapes[dims[c]]))
                                      for c in term.output))
        # through a gate, only the entries that really read array[index] (gather: one row of dE)
        yield from (e for e in entries
                    if not term.gate or (array, index) in set(sources(spec, shapes, relation, term, e)))


# --- formulas ------------------------------------------------------------------------------------

def _term_text(spec: Spec, relation: Relation, term: Term) -> tuple[str, str]:
    """``term`` as text with ``{0}``, ``{1}``, ... for the target entry's indices: (any entry, an entry
    on the diagonal), which differ only for the Jacobians of chapter 1's maps."""
    at = {letter: f"{{{k}}}" for k, letter in enumerate(term.output)}
    names = [spec.array(o).text for o in term.operands]

    def entry(name: str, letters: str) -> str:
        return f"{name}[{','.join(at.get(c, c) for c in letters)}]"

    if term.mean_over:
        size = letter_dims(spec, relation, term)[term.mean_over]
        return tuple(f"{text} / {size}"  # type: ignore[return-value]
                     for text in _term_text(spec, relation, dataclasses.replace(term, mean_over="")))
    if term.fn == "product":
        factors = " × ".join(entry(n, s) for n, s in zip(names, term.inputs, strict=True))
        text = f"Σ_{term.summed} {factors}" if term.summed else factors
        return text, text
    target = entry(names[0], term.output)
    if term.fn == "relu":
        return (f"max(0, {target})",) * 2
    if term.fn == "tanh":
        return (f"tanh({target})",) * 2
    if term.fn == "relu_mask":
        return (f"{target} × 1[{entry(names[1], term.output)} > 0]",) * 2
    if term.fn == "softmax_rows":
        return (f"softmax({names[0]}[{{0}},:])[{{1}}]",) * 2
    if term.fn == "softmax":
        return (f"softmax({names[0]})[{{0}}]",) * 2
    if term.fn == "max_share":
        row = f"{names[1]}[{{0}},:]"
        return (f"{names[0]}[{{0}}] × 1[{names[1]}[{{0}},{{1}}] = max {row}] / #ties",) * 2
    f_i, f_j, x_j = f"{names[-2]}[{{0}}]", f"{names[-2]}[{{1}}]", f"{names[-1]}[{{1}}]"
    derivative = f"∂{f_i}/∂{x_j} = "
    any_entry, diagonal = {
        "jacobian_linear": (target, target),
        "jacobian_tanh": ("0", f"1 − {f_i}²"),
        "jacobian_softmax": (f"−{f_i} × {f_j}", f"{f_i} × (1 − {f_i})"),
    }[term.fn]
    return derivative + any_entry, derivative + diagonal


def formulas(spec: Spec, relation: Relation) -> tuple[str, str]:
    """The index formula of ``relation``'s entries with ``{0}``, ``{1}`` for the entry's indices: for any
    entry and for an entry on the diagonal, e.g. ``dX[{0},{1}] = Σ_l dB[{0},l] × Y[{1},l]`` (twice)."""
    texts = []
    for diagonal in (False, True):
        parts = []
        for n, term in enumerate(relation.terms):
            text = _term_text(spec, relation, term)[diagonal]
            parts.append(("" if term.sign > 0 else "−") + text if n == 0 else f"{'+' if term.sign > 0 else '−'} {text}")
        rank = len(spec.array(relation.target).dims)
        target = f"{spec.array(relation.target).text}[{','.join(f'{{{k}}}' for k in range(rank))}]"
        texts.append(f"{target} = {' '.join(parts)}")
    return texts[0], texts[1]


def formula(spec: Spec, array: str, index: Any) -> str:
    """The index formula of a computed entry, e.g. ``dX[1,2] = Σ_l dB[1,l] × Y[2,l]``.

    The explorer's caption starts with the same text (explorer.js fills the same :func:`formulas`).
    """
    index = tuple(int(i) for i in np.atleast_1d(index))
    relation = next((r for r in spec.relations if r.target == array), None)
    if relation is None:
        raise rule_error("structure", f"{array} is not computed in {spec.rule}; it is an {spec.array(array).role}")
    any_entry, diagonal = formulas(spec, relation)
    on_diagonal = len(index) == 2 and index[0] == index[1]
    return (diagonal if on_diagonal else any_entry).format(*index)


# --- values --------------------------------------------------------------------------------------

def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def _softmax_rows(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _max_share(g: np.ndarray, X: np.ndarray) -> np.ndarray:
    """g[i] shared equally by the entries of row i of X that equal the row's maximum (reduce_max's rule)."""
    winners = (X == X.max(axis=1, keepdims=True)).astype(np.float64)
    return g[:, None] * winners / winners.sum(axis=1, keepdims=True)


def _einsum(term: Term, ops: list[np.ndarray], shape: Index) -> np.ndarray:
    """np.einsum, plus broadcasting: an output letter no operand has (b1 in "h->nh") repeats the value."""
    kept = "".join(c for c in term.output if any(c in letters for letters in term.inputs))
    value = np.einsum(f"{','.join(term.inputs)}->{kept}", *ops)
    if kept == term.output:
        return value
    value = value.reshape([value.shape[kept.index(c)] if c in kept else 1 for c in term.output])
    return np.broadcast_to(value, shape).copy()


#: fn name -> how a term's value (of the target's ``shape``) is computed from its operands (the
#: view's twin: ``FUNCTIONS`` in explorer.js).
FUNCTIONS: dict[str, Callable[[Term, list[np.ndarray], Index], np.ndarray]] = {
    "product": _einsum,
    "softmax": lambda term, ops, shape: _softmax(ops[0]),
    "tanh": lambda term, ops, shape: np.tanh(ops[0]),
    "relu": lambda term, ops, shape: np.maximum(ops[0], 0.0),
    "relu_mask": lambda term, ops, shape: ops[0] * (ops[1] > 0),
    "softmax_rows": lambda term, ops, shape: _softmax_rows(ops[0]),
    "jacobian_linear": lambda term, ops, shape: ops[0].copy(),
    "jacobian_tanh": lambda term, ops, shape: np.diag(1.0 - ops[0] ** 2),
    "jacobian_softmax": lambda term, ops, shape: np.diag(ops[0]) - np.outer(ops[0], ops[0]),
    "max_share": lambda term, ops, shape: _max_share(ops[0], ops[1]),
}

if tuple(FUNCTIONS) != TERM_FUNCTIONS:
    raise rule_error("structure", f"FUNCTIONS {tuple(FUNCTIONS)} must be TERM_FUNCTIONS {TERM_FUNCTIONS}")


def _shapes_of(spec: Spec, given: Mapping[str, np.ndarray]) -> dict[str, int]:
    """{dim: size} read off the given arrays."""
    return {d: size for a in spec.arrays if a.name in given
            for d, size in zip(a.dims, np.shape(given[a.name]), strict=True)}


def params_at(spec: Spec, shapes: Mapping[str, int], params: Mapping[str, int] | None = None) -> dict[str, int]:
    """``params`` (defaults for the missing ones), each kept below its dimension (t <= C - 1)."""
    given = dict(params or {})
    return {p.name: min(int(given.get(p.name, p.default)), int(shapes[p.below]) - 1) for p in spec.params}


def inputs(spec: Spec, shapes: Mapping[str, int], values: Mapping[str, Any],
           params: Mapping[str, int] | None = None) -> dict[str, np.ndarray]:
    """The given arrays (inputs and upstream) at ``shapes``: the leading block of each array in ``values``.

    ``values`` holds each array at (at least) its largest shape; a one-hot array is built from its param.
    """
    params = params_at(spec, shapes, params)
    out = {}
    for array in spec.arrays:
        if array.role not in ("input", "upstream"):
            continue
        shape = spec.shape(array.name, shapes)
        if array.onehot and len(shape) == 2:  # row i hot at class i mod C
            out[array.name] = (np.arange(shape[1]) == np.arange(shape[0])[:, None] % shape[1]).astype(np.float64)
        elif array.onehot:
            out[array.name] = (np.arange(shape[0]) == params[array.onehot]).astype(np.float64)
        else:
            out[array.name] = np.asarray(values[array.name], dtype=np.float64)[tuple(slice(s) for s in shape)]
    return out


def evaluate(spec: Spec, given: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every array of the rule computed from the spec alone: ``given`` plus each relation's target."""
    arrays = dict(given)
    shapes = _shapes_of(spec, given)
    for relation in spec.relations:
        total = 0.0
        for term in relation.terms:
            ops = [arrays[o] for o in term.operands]
            value = term.sign * FUNCTIONS[term.fn](term, ops, spec.shape(relation.target, shapes))
            if term.mean_over:
                value = value / ops[0].shape[term.inputs[0].index(term.mean_over)]
            total = total + value
        arrays[relation.target] = total
    return arrays


def jacobian(spec: Spec, given: Mapping[str, np.ndarray], wrt: str) -> tuple[np.ndarray, np.ndarray]:
    r"""The Jacobian of ``spec.output`` w.r.t. input ``wrt``, flattened row-major: ``(pattern, values)``.

    Rows are the output's entries, columns ``wrt``'s. It is read off the gradient's pattern, which is a
    vector-Jacobian product: $dW_w = \sum_u r_u \, \partial z_u / \partial W_w$, so in each term of
    ``d<wrt>`` the upstream entry ``r[u]`` names the row and the other factors multiply to the entry.
    ``pattern`` marks the entries that can be nonzero (the others are structural zeros).
    """
    upstream = next((a.name for a in spec.arrays if a.role == "upstream"), None)
    relation = next((r for r in spec.relations if r.target == f"d{wrt}"), None)
    if not spec.output or upstream is None or relation is None:
        raise rule_error("structure", f"{spec.rule} has no Jacobian view of {wrt!r}; it has one for "
                                      f"{', '.join(name for name, _ in spec.jacobian_notes) or 'no input'}")
    shapes = _shapes_of(spec, given)
    rows, cols = spec.shape(upstream, shapes), spec.shape(wrt, shapes)
    pattern = np.zeros((int(np.prod(rows)), int(np.prod(cols))), dtype=bool)
    values = np.zeros(pattern.shape)
    for term in relation.terms:
        for w in _indices(cols):
            pairs = list(sources(spec, shapes, relation, term, w))
            for k in range(0, len(pairs), len(term.operands)):  # one product per combination of summed letters
                combo = pairs[k:k + len(term.operands)]
                u = next(index for name, index in combo if name == upstream)
                factors = [given[name][index] for name, index in combo if name != upstream]
                at = np.ravel_multi_index(u, rows), np.ravel_multi_index(w, cols)
                pattern[at] = True
                values[at] += term.sign * float(np.prod(factors))
    return pattern, values


def library(spec: Spec, given: Mapping[str, np.ndarray], params: Mapping[str, int] | None = None
            ) -> dict[str, np.ndarray]:
    """The same arrays as :func:`evaluate`, computed by gradlib itself (``spec.library``)."""
    shapes = _shapes_of(spec, given)
    arrays: dict[str, Any] = params_at(spec, shapes, params) | dict(given)
    for array in spec.arrays:  # a one-hot matrix gives gradlib its vector of classes
        if array.onehot and len(array.dims) == 2 and array.name in given:
            arrays[array.onehot] = np.argmax(given[array.name], axis=1)
    for call in spec.library:
        result = call.function(*(arrays[a] for a in call.args))
        results = result if len(call.returns) > 1 else (result,)
        arrays.update({name: np.asarray(r, dtype=np.float64) for name, r in zip(call.returns, results, strict=True)})
    return {name: arrays[name] for name in [*given, *(r for c in spec.library for r in c.returns)]}


def random_values(rule: str, seed: int | None = None) -> dict[str, np.ndarray]:
    """Random given arrays at the largest shapes of every variant, rounded to 2 decimals for readable captions.

    Magnitudes lie in [0.2, 1.9] with random signs, so no entry is (or rounds to) 0 and every
    dependency shows in the numbers. The default seed depends on the rule only: same page, same numbers.
    """
    rng = np.random.default_rng(zlib.crc32(rule.encode()) if seed is None else seed)
    values: dict[str, np.ndarray] = {}
    for s in SPECS[rule]:
        for array in s.arrays:
            if array.role in ("input", "upstream") and not array.onehot and array.name not in values:
                shape = s.shape(array.name, s.max_shapes)
                magnitude = rng.uniform(0.2, 1.9, size=shape)
                values[array.name] = np.round(magnitude * rng.choice([-1.0, 1.0], size=shape), 2)
    return values


def as_dict(spec: Spec) -> dict[str, Any]:
    """The spec as plain JSON data, what explorer.js receives: its library calls left out, and added to each
    term its letters (``inputs``, ``output``, ``summed``, and ``letters``: letter -> dim), to each
    relation its index formulas (``formula``, ``formula_diagonal``: see :func:`formulas`)."""
    data = dataclasses.asdict(dataclasses.replace(spec, library=()))
    del data["library"]
    for relation, rel_data in zip(spec.relations, data["relations"], strict=True):
        rel_data["formula"], rel_data["formula_diagonal"] = formulas(spec, relation)
        for term, term_data in zip(relation.terms, rel_data["terms"], strict=True):
            term_data.update(inputs=term.inputs, output=term.output, summed=term.summed,
                             letters=letter_dims(spec, relation, term))
    data["select"] = {"array": spec.select[0], "index": list(spec.select[1])}
    return data
