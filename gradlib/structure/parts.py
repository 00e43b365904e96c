"""The parts a spec is made of, and the checks that hold them together.

A :class:`Spec` lists a rule's dimensions (:class:`Dim`), its arrays (:class:`Array`) and, for each
computed array, the terms (:class:`Term`) it is the sum of (:class:`Relation`); :class:`Call` says
which gradlib function computes the same arrays. :func:`validate` checks a spec when it is written,
:func:`check_sizes` and :func:`check_entry` check what a reader asks of it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from gradlib._validate import is_int, rule_error

#: The roles an array plays, in the order the explorer shows them.
ROLES = ("input", "upstream", "output", "gradient")
#: The functions a term can apply to its operands (their values: ``computed.FUNCTIONS``; in the
#: view: ``FUNCTIONS`` of explorer.js).
TERM_FUNCTIONS = ("product", "softmax", "tanh", "relu", "relu_mask", "softmax_rows",
                  "jacobian_linear", "jacobian_tanh", "jacobian_softmax", "max_share")
Index = tuple[int, ...]


@dataclass(frozen=True)
class Dim:
    """A dimension the reader can change with a slider: ``low <= size <= high``."""

    name: str
    meaning: str
    default: int
    low: int = 1
    high: int = 6


@dataclass(frozen=True)
class Array:
    """An array of the rule, named as in the book (``dW``, ``r``, ``theta``), with one dim per axis.

    ``orientation`` says how a vector is written in the notes (``"row"`` or ``"column"``);
    ``onehot`` names the parameter whose value is the hot entry (softmax_xent's y and t). A one-hot
    *matrix* (chapter 9's Y, one row per example) has row i hot at class ``i mod C`` (code index),
    and ``onehot`` names the vector of those classes as gradlib takes it (``t``).
    """

    name: str
    dims: tuple[str, ...]
    role: str
    meaning: str
    label: str = ""
    orientation: str = ""
    onehot: str = ""

    @property
    def text(self) -> str:
        """How the array is printed (``θ`` for ``theta``)."""
        return self.label or self.name


@dataclass(frozen=True)
class Term:
    """``sign * fn(operands)`` read through ``pattern`` (einsum notation, e.g. ``"il,jl->ij"``).

    Output letters are fixed by the target entry, the others (:attr:`summed`) run over their whole
    dimension (the three splits of the pattern are computed once per term). ``constant_if_one`` names
    a letter over which the term is constant when its dimension has one entry (a softmax over one
    class is always 1, so it depends on nothing). ``mean_over`` names a letter whose dimension's size
    divides the term (the 1/N of a mean over the rows).
    ``gate`` names a one-hot matrix operand (row i hot at column ``i mod`` its width): a combination of
    letters where its entry is 0 contributes nothing, so it is not read (gather's dE[v, d] reads only
    the rows n of G with idx[n] = v; the dependence on data is fixed by the one-hot convention).
    """

    pattern: str
    operands: tuple[str, ...]
    fn: str = "product"
    sign: int = 1
    constant_if_one: str = ""
    mean_over: str = ""
    gate: str = ""

    @cached_property
    def inputs(self) -> list[str]:
        """The operands' letters: ``["il", "jl"]`` for ``"il,jl->ij"``."""
        return self.pattern.split("->")[0].split(",")

    @cached_property
    def output(self) -> str:
        """The target's letters, fixed by the entry looked at: ``"ij"``."""
        return self.pattern.split("->")[1]

    @cached_property
    def summed(self) -> str:
        """The letters summed over, sorted: ``"l"`` (the one split of a term's letters)."""
        return "".join(sorted({c for letters in self.inputs for c in letters} - set(self.output)))


@dataclass(frozen=True)
class Relation:
    """``target = sum(terms)``."""

    target: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Param:
    """A non-shape setting, e.g. softmax_xent's true class t, in ``0 .. size of below - 1``."""

    name: str
    meaning: str
    default: int
    below: str


@dataclass(frozen=True)
class Call:
    """How gradlib computes arrays ``returns`` of the spec: ``function(*args)``, ``args`` named as in the spec.

    ``Call(matvec.backward, ("r", "W", "x"), ("dW", "dx"))`` is ``dW, dx = matvec.backward(r, W, x)``.
    """

    function: Callable[..., Any]
    args: tuple[str, ...]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One step of a chained spec's pass (chapter 9): what it computes, with which chapter's rule."""

    title: str
    rule: str
    code: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    """One rule (or, for chapter 1, one map of the jacobian rule) as data.

    ``output`` names the forward output whose gradient is the upstream array (``z`` for ``r``); with
    it, the explorer offers the Jacobian view, and ``jacobian_notes`` says for each input (by name)
    which entries can be nonzero, in one sentence.
    """

    rule: str
    variant: str
    title: str
    dims: tuple[Dim, ...]
    arrays: tuple[Array, ...]
    relations: tuple[Relation, ...]
    library: tuple[Call, ...]
    select: tuple[str, Index]
    params: tuple[Param, ...] = ()
    steps: tuple[Step, ...] = ()
    group_titles: tuple[tuple[str, str], ...] = ()
    output: str = ""
    jacobian_notes: tuple[tuple[str, str], ...] = ()

    def array(self, name: str) -> Array:
        for array in self.arrays:
            if array.name == name:
                return array
        raise rule_error("structure", f"{self.rule} has no array {name!r}; its arrays are "
                                      f"{', '.join(a.name for a in self.arrays)}")

    @property
    def default_shapes(self) -> dict[str, int]:
        return {d.name: d.default for d in self.dims}

    @property
    def max_shapes(self) -> dict[str, int]:
        return {d.name: d.high for d in self.dims}

    def shape(self, name: str, shapes: Mapping[str, int]) -> Index:
        """The shape of array ``name`` at ``shapes`` ({dim name: size})."""
        return tuple(int(shapes[d]) for d in self.array(name).dims)


# --- checks --------------------------------------------------------------------------------------

def letter_dims(spec: Spec, relation: Relation, term: Term) -> dict[str, str]:
    """Each letter of ``term.pattern`` -> the dim it runs over (checked to be consistent)."""
    pairs = [(relation.target, term.output), *zip(term.operands, term.inputs, strict=True)]
    dims: dict[str, str] = {}
    for name, letters in pairs:
        array_dims = spec.array(name).dims
        if len(letters) != len(array_dims):
            raise rule_error("structure", f"{spec.rule}: {name} has {len(array_dims)} axes but {term.pattern!r} "
                                          f"gives it {letters!r}")
        for letter, dim in zip(letters, array_dims, strict=True):
            if dims.setdefault(letter, dim) != dim:
                raise rule_error("structure", f"{spec.rule}: letter {letter!r} of {term.pattern!r} runs over "
                                              f"both {dims[letter]} and {dim}")
    return dims


def hot(shape: Index, index: Index) -> bool:
    """Whether entry ``index`` of a one-hot matrix of ``shape`` is 1: row i is hot at column i mod width."""
    return index[1] == index[0] % shape[1]


def check_sizes(spec: Spec, shapes: Mapping[str, Any], who: str = "structure") -> None:
    """Each of ``spec``'s dimensions in ``shapes`` is an integer in its range ``low..high`` (errors
    start with ``who``)."""
    missing = [dim.name for dim in spec.dims if dim.name not in shapes]
    if missing:
        raise rule_error(who, f"no size for {', '.join(missing)}: rule {spec.rule} needs "
                              f"{', '.join(d.name for d in spec.dims)}, got {dict(shapes)}")
    for dim in spec.dims:
        size = shapes[dim.name]
        if not is_int(size):
            raise rule_error(who, f"{dim.name} must be an integer, got {size!r} for rule {spec.rule}")
        if not dim.low <= size <= dim.high:
            raise rule_error(who, f"{dim.name}={size} is out of range {dim.low}..{dim.high} for rule {spec.rule}")


def check_entry(spec: Spec, shapes: Mapping[str, int], array: str, index: Any, who: str = "structure") -> Index:
    """``index`` as a tuple, checked to be an entry of ``array`` at ``shapes`` (errors start with ``who``)."""
    shape = spec.shape(array, shapes)
    index = tuple(int(i) for i in np.atleast_1d(index))
    if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape, strict=True)):
        raise rule_error(who, f"{array}[{','.join(map(str, index))}] is not an entry of {array} "
                              f"(shape {shape}) for {spec.rule}")
    return index


def validate(spec: Spec) -> None:
    """Raise a GradlibError if the spec is inconsistent (run for every spec at import)."""
    def bad(message: str) -> Exception:
        return rule_error("structure", f"{spec.rule}: {message}")

    names = [a.name for a in spec.arrays]
    if len(set(names)) != len(names):
        raise bad(f"repeated array names {names}")
    for array in spec.arrays:
        if array.role not in ROLES or not set(array.dims) <= {d.name for d in spec.dims}:
            raise bad(f"bad role or dims for {array}")
    for d in spec.dims:
        if d.low < 1 or d.high < 6:
            raise bad(f"dim {d} must allow 1..6")
    check_sizes(spec, spec.default_shapes)
    for relation in spec.relations:
        for term in relation.terms:
            letters = letter_dims(spec, relation, term)
            if term.fn not in TERM_FUNCTIONS:
                raise bad(f"unknown term function {term.fn!r}")
            if term.fn == "softmax" and letters[term.inputs[0]] != letters[term.output]:
                raise bad(f"softmax {term.pattern!r} must keep its dimension")
            if term.mean_over and term.mean_over not in term.inputs[0]:
                raise bad(f"mean_over {term.mean_over!r} is not a letter of {term.pattern!r}'s first operand")
            if term.gate and (term.gate not in term.operands or not spec.array(term.gate).onehot
                              or len(spec.array(term.gate).dims) != 2):
                raise bad(f"gate {term.gate!r} must be a one-hot matrix operand of {term.pattern!r}")
    if [r.target for r in spec.relations] != [name for call in spec.library for name in call.returns]:
        raise bad("its library calls must return the relations' targets, in order")
    for step in spec.steps:
        if not set(step.reads) | set(step.writes) <= set(names):
            raise bad(f"step {step.title!r} names an unknown array")
    check_entry(spec, spec.default_shapes, *spec.select)
    if spec.output and {name for name, _ in spec.jacobian_notes} != {
            a.name for a in spec.arrays if a.role == "input" and f"d{a.name}" in names}:
        raise bad("jacobian_notes must name every differentiated input")
