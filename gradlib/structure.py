r"""Each rule's dependency structure, written once as data.

Every rule of the notes is an einsum. Matrix times matrix, for example, is

$$
\frac{\partial A}{\partial X_{ij}} = \sum_l \frac{\partial A}{\partial B_{il}} Y_{jl}
\qquad\text{i.e. the pattern } \texttt{"il,jl->ij"} \text{ over } (dB, Y):
$$

the letters of the output are fixed by the entry we look at, every other letter is summed over.
So the pattern says both how to compute an entry and which entries it is computed from: entry
(1, 2) of dX reads row 1 of dB and row 2 of Y. A :class:`Spec` lists a rule's dimensions, its
arrays and, for each computed array, the terms it is the sum of; :func:`lights` reads the
dependencies off the patterns, :func:`evaluate` computes the values from them, and the explorer's
JavaScript view (``explorer.js``) does both from the same spec (it receives :func:`as_dict`). The
tests hold the spec to the library: :func:`evaluate` must equal ``gradlib.<rule>.backward`` and
:func:`lights` must equal the dependencies found by ``gradlib.numerical_jacobian``.

Not everything is a product. A term names the function that turns its operands into values
(``fn``): ``"product"`` is the einsum; ``"softmax"`` (pattern ``"c->i"``: entry i reads *every*
entry c) and ``"tanh"`` (``"i->i"``) are the maps of chapters 1 and 2; ``"jacobian_*"`` fill the
Jacobian of chapter 1's maps, whose entry (i, j) is *defined* as df_i/dx_j, so its pattern
``"i,j->ij"`` over (f, x) lights f_i and x_j.

The same patterns give the Jacobian the rule never builds (:func:`jacobian`): a gradient entry is a
vector-Jacobian product, ``dW[w] = Σ_u r[u] ∂z[u]/∂W[w]``, so each of its
products names a row ``u`` (the upstream entry) and holds the Jacobian entry (the other factors).

Chapter 8 chains the rules into a network (:data:`MLP`): relations are evaluated in order, so a
later one reads the arrays earlier ones computed, and the lights of an entry are what its own step
reads (one link of the chain, as in every other explorer). Three functions serve it: ``"relu"``,
``"relu_mask"`` (dH ⊙ 1[A > 0], chapter 1's diagonal Jacobian) and ``"softmax_rows"`` (a softmax
per row, ``"nc->ni"``); a term's ``mean_over`` letter divides it by that dimension's size (the 1/N
of a mean). Its ``steps`` walk the backward pass for the explorer's step buttons.
"""
from __future__ import annotations

import dataclasses
import importlib
import itertools
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradlib._validate import rule_error

#: The roles an array plays, in the order the explorer shows them.
ROLES = ("input", "upstream", "output", "gradient")
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
    *matrix* (chapter 8's Y, one row per example) has row i hot at class ``i mod C`` (code index),
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

    Output letters are fixed by the target entry, the others run over their whole dimension.
    ``constant_if_one`` names a letter over which the term is constant when its dimension has one
    entry (a softmax over one class is always 1, so it depends on nothing). ``mean_over`` names a
    letter whose dimension's size divides the term (the 1/N of a mean over the rows).
    """

    pattern: str
    operands: tuple[str, ...]
    fn: str = "product"
    sign: int = 1
    constant_if_one: str = ""
    mean_over: str = ""

    @property
    def inputs(self) -> list[str]:
        return self.pattern.split("->")[0].split(",")

    @property
    def output(self) -> str:
        return self.pattern.split("->")[1]


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
    """How gradlib computes ``returns`` from ``args``: ``gradlib.<function>(*args)``.

    With ``factory``, ``function`` builds an object first: ``Call("jacobian.linear", ("x",), ("f",),
    factory=("A",), method="forward")`` is ``gradlib.jacobian.linear(A).forward(x)``. With ``pack``,
    those arrays go first as one dict (``gradlib.mlp.trace(params, X, t)``); a function that returns a
    dict is read by the names in ``returns``.
    """

    function: str
    args: tuple[str, ...]
    returns: tuple[str, ...]
    factory: tuple[str, ...] = ()
    method: str = ""
    pack: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One step of a chained spec's pass (chapter 8): what it computes, with which chapter's rule."""

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

    def dim(self, name: str) -> Dim:
        return next(d for d in self.dims if d.name == name)

    @property
    def default_shapes(self) -> dict[str, int]:
        return {d.name: d.default for d in self.dims}

    @property
    def max_shapes(self) -> dict[str, int]:
        return {d.name: d.high for d in self.dims}

    def shape(self, name: str, shapes: Mapping[str, int]) -> Index:
        """The shape of array ``name`` at ``shapes`` ({dim name: size})."""
        return tuple(int(shapes[d]) for d in self.array(name).dims)


# --- the rules ---------------------------------------------------------------------------------

def _vector(name: str, dim: str, role: str, meaning: str, orientation: str, **kw: Any) -> Array:
    return Array(name, (dim,), role, meaning, orientation=orientation, **kw)


def _matrix(name: str, dims: str, role: str, meaning: str, **kw: Any) -> Array:
    return Array(name, tuple(dims), role, meaning, **kw)


def _product(target: str, pattern: str, *operands: str) -> Relation:
    return Relation(target, (Term(pattern, operands),))


MATVEC = Spec(
    "matvec", "", "z = W x (matrix times column vector)",
    dims=(Dim("n", "entries of z, rows of W", 3), Dim("m", "entries of x, columns of W", 4)),
    arrays=(_matrix("W", "nm", "input", "the matrix W"),
            _vector("x", "m", "input", "the column vector x", "column"),
            _vector("r", "n", "upstream", "r = ∂J/∂z, the upstream gradient", "row"),
            _matrix("dW", "nm", "gradient", "∂J/∂W = rᵀ xᵀ"),
            _vector("dx", "m", "gradient", "∂J/∂x = Wᵀ rᵀ", "column")),
    relations=(_product("dW", "i,j->ij", "r", "x"), _product("dx", "i,ij->j", "r", "W")),
    library=(Call("matvec.backward", ("r", "W", "x"), ("dW", "dx")),),
    select=("dW", (1, 2)),
    output="z",
    jacobian_notes=(("W", "z[k] depends only on row k of W"),
                    ("x", "every z[k] depends on every x[j]; this Jacobian is W itself")),
)

VECMAT = Spec(
    "vecmat", "", "z = x W (row vector times matrix)",
    dims=(Dim("m", "entries of x, rows of W", 4), Dim("n", "entries of z, columns of W", 3)),
    arrays=(_vector("x", "m", "input", "the row vector x", "row"),
            _matrix("W", "mn", "input", "the matrix W"),
            _vector("r", "n", "upstream", "r = ∂J/∂z, the upstream gradient", "row"),
            _vector("dx", "m", "gradient", "∂J/∂x = r Wᵀ", "row"),
            _matrix("dW", "mn", "gradient", "∂J/∂W = xᵀ r")),
    relations=(_product("dx", "j,ij->i", "r", "W"), _product("dW", "i,j->ij", "x", "r")),
    library=(Call("vecmat.backward", ("r", "x", "W"), ("dx", "dW")),),
    select=("dW", (2, 1)),
    output="z",
    jacobian_notes=(("x", "every z[k] depends on every x[j]; this Jacobian is Wᵀ"),
                    ("W", "z[k] depends only on column k of W")),
)

MATMUL = Spec(
    "matmul", "", "B = X Y (matrix times matrix)",
    dims=(Dim("n", "rows of X and of B", 3), Dim("m", "columns of X, rows of Y", 4),
          Dim("p", "columns of Y and of B", 2)),
    arrays=(_matrix("X", "nm", "input", "the left factor X"),
            _matrix("Y", "mp", "input", "the right factor Y"),
            _matrix("dB", "np", "upstream", "∂A/∂B, the upstream gradient"),
            _matrix("dX", "nm", "gradient", "∂A/∂X = (∂A/∂B) Yᵀ"),
            _matrix("dY", "mp", "gradient", "∂A/∂Y = Xᵀ (∂A/∂B)")),
    relations=(_product("dX", "il,jl->ij", "dB", "Y"), _product("dY", "ki,kj->ij", "X", "dB")),
    library=(Call("matmul.backward", ("dB", "X", "Y"), ("dX", "dY")),),
    select=("dX", (1, 2)),
    output="B",
    jacobian_notes=(("X", "B[i,l] depends only on row i of X (through column l of Y)"),
                    ("Y", "B[i,l] depends only on column l of Y (through row i of X)")),
)

BROADCAST_ADD = Spec(
    "broadcast_add", "", "B = X + y (y added to every row of X)",
    dims=(Dim("n", "rows of X and of B", 4), Dim("m", "columns of X, entries of y", 3)),
    arrays=(_matrix("X", "nm", "input", "the matrix X"),
            _vector("y", "m", "input", "the row vector y", "row"),
            _matrix("dB", "nm", "upstream", "∂A/∂B, the upstream gradient"),
            _matrix("dX", "nm", "gradient", "∂A/∂X = ∂A/∂B"),
            _vector("dy", "m", "gradient", "∂A/∂y: the column sums of ∂A/∂B", "row")),
    relations=(_product("dX", "ij->ij", "dB"), _product("dy", "ij->j", "dB")),
    library=(Call("broadcast_add.backward", ("dB", "X", "y"), ("dX", "dy")),),
    select=("dy", (1,)),
    output="B",
    jacobian_notes=(("X", "B[i,j] depends only on X[i,j], with slope 1: this Jacobian is the identity"),
                    ("y", "B[i,j] depends only on y[j], with slope 1, in every row i")),
)

BROADCAST_MUL = Spec(
    "broadcast_mul", "", "B = y ⊙ X (every row of X times y, entry by entry)",
    dims=(Dim("n", "rows of X and of B", 4), Dim("m", "columns of X, entries of y", 3)),
    arrays=(_vector("y", "m", "input", "the row vector y", "row"),
            _matrix("X", "nm", "input", "the matrix X"),
            _matrix("dB", "nm", "upstream", "∂A/∂B, the upstream gradient"),
            _vector("dy", "m", "gradient", "∂A/∂y: the column sums of ∂A/∂B ⊙ X", "row"),
            _matrix("dX", "nm", "gradient", "∂A/∂X = y ⊙ ∂A/∂B")),
    relations=(_product("dy", "ij,ij->j", "dB", "X"), _product("dX", "j,ij->ij", "y", "dB")),
    library=(Call("broadcast_mul.backward", ("dB", "y", "X"), ("dy", "dX")),),
    select=("dy", (1,)),
    output="B",
    jacobian_notes=(("y", "B[i,j] depends only on y[j], with slope X[i,j], in every row i"),
                    ("X", "B[i,j] depends only on X[i,j], with slope y[j]: this Jacobian is diagonal")),
)

SOFTMAX_XENT = Spec(
    "softmax_xent", "", "J = −log softmax(θ)ₜ (softmax cross-entropy)",
    dims=(Dim("C", "classes, entries of θ and y", 5),),
    arrays=(_vector("theta", "C", "input", "the logits θ", "row", label="θ"),
            _vector("y", "C", "input", "the one-hot label y (yₜ = 1)", "row", onehot="t"),
            _vector("dtheta", "C", "gradient", "∂J/∂θ = softmax(θ) − y", "row", label="dθ")),
    relations=(Relation("dtheta", (Term("c->i", ("theta",), fn="softmax", constant_if_one="c"),
                                   Term("i->i", ("y",), sign=-1))),),
    library=(Call("softmax_xent.backward", ("theta", "t"), ("dtheta",)),),
    select=("dtheta", (1,)),
    params=(Param("t", "the true class", 2, below="C"),),
)

_JACOBIAN_ARRAYS = (_vector("x", "n", "input", "the input x", "column"),)
_JACOBIAN_N = Dim("n", "entries of x (inputs)", 4)


def _jacobian(variant: str, title: str, f: Term, J: Term, library: tuple[Call, ...],
              dims: tuple[Dim, ...] = (_JACOBIAN_N,), out: str = "n", extra: tuple[Array, ...] = (),
              select: Index = (1, 2)) -> Spec:
    return Spec(
        "jacobian", variant, title, dims=dims,
        arrays=(*_JACOBIAN_ARRAYS, *extra,
                _vector("f", out, "output", "the output f(x)", "column"),
                Array("J", (out, "n"), "gradient", "the Jacobian, J[i,j] = ∂f[i]/∂x[j]")),
        relations=(Relation("f", (f,)), Relation("J", (J,))),
        library=library, select=("J", select))


JACOBIAN = (
    _jacobian("linear", "f(x) = A x (a linear map)",
              f=Term("ij,j->i", ("A", "x")), J=Term("ij,i,j->ij", ("A", "f", "x"), fn="jacobian_linear"),
              library=(Call("jacobian.linear", ("x",), ("f",), factory=("A",), method="forward"),
                       Call("jacobian.linear", ("x",), ("J",), factory=("A",), method="jacobian")),
              dims=(Dim("m", "entries of f (outputs)", 3), _JACOBIAN_N), out="m",
              extra=(_matrix("A", "mn", "input", "the matrix A"),)),
    _jacobian("tanh", "f(x) = tanh(x) (entry by entry)",
              f=Term("i->i", ("x",), fn="tanh"), J=Term("i,j->ij", ("f", "x"), fn="jacobian_tanh"),
              library=(Call("jacobian.tanh.forward", ("x",), ("f",)),
                       Call("jacobian.tanh.jacobian", ("x",), ("J",))),
              select=(1, 1)),
    _jacobian("softmax", "f(x) = softmax(x)",
              f=Term("c->i", ("x",), fn="softmax", constant_if_one="c"),
              J=Term("i,j->ij", ("f", "x"), fn="jacobian_softmax"),
              library=(Call("jacobian.softmax.forward", ("x",), ("f",)),
                       Call("jacobian.softmax.jacobian", ("x",), ("J",)))),
)

def _sum_of(target: str, *terms: tuple[str, tuple[str, ...]]) -> Relation:
    return Relation(target, tuple(Term(pattern, operands) for pattern, operands in terms))


_MLP_FORWARD = ("A", "H", "L")
MLP = Spec(
    "mlp", "", "A two-layer network: A = X W1 + b1, H = relu(A), L = H W2 + b2, J = mean cross-entropy",
    dims=(Dim("N", "examples, rows of X", 4), Dim("D", "inputs, columns of X", 3),
          Dim("H", "hidden units", 4), Dim("C", "classes", 3)),
    arrays=(_matrix("X", "ND", "input", "the inputs, one example per row"),
            _matrix("W1", "DH", "input", "the first layer's weights"),
            _vector("b1", "H", "input", "the first layer's bias", "row"),
            _matrix("W2", "HC", "input", "the second layer's weights"),
            _vector("b2", "C", "input", "the second layer's bias", "row"),
            _matrix("Y", "NC", "input", "one-hot classes: row i is hot at tᵢ = i mod C (counting from 0)",
                    onehot="t"),
            _matrix("A", "NH", "output", "A = X W1 + b1, the pre-activations"),
            _matrix("H", "NH", "output", "H = relu(A), the hidden layer"),
            _matrix("L", "NC", "output", "L = H W2 + b2, the logits"),
            _matrix("dL", "NC", "gradient", "∂J/∂L = (softmax(L) − Y) / N (chapter 2)"),
            _vector("db2", "C", "gradient", "∂J/∂b2 = Σᵢ (∂J/∂L)ᵢ, the column sums (chapter 6)", "row"),
            _matrix("dW2", "HC", "gradient", "∂J/∂W2 = Hᵀ ∂J/∂L (chapter 5)"),
            _matrix("dH", "NH", "gradient", "∂J/∂H = (∂J/∂L) W2ᵀ (chapter 5)"),
            _matrix("dA", "NH", "gradient", "∂J/∂A = ∂J/∂H ⊙ 1[A > 0] (chapter 1)"),
            _vector("db1", "H", "gradient", "∂J/∂b1 = Σᵢ (∂J/∂A)ᵢ, the column sums (chapter 6)", "row"),
            _matrix("dW1", "DH", "gradient", "∂J/∂W1 = Xᵀ ∂J/∂A (chapter 5)")),
    relations=(_sum_of("A", ("nd,dh->nh", ("X", "W1")), ("h->nh", ("b1",))),
               Relation("H", (Term("nh->nh", ("A",), fn="relu"),)),
               _sum_of("L", ("nh,hc->nc", ("H", "W2")), ("c->nc", ("b2",))),
               Relation("dL", (Term("nc->ni", ("L",), fn="softmax_rows", constant_if_one="c", mean_over="n"),
                               Term("ni->ni", ("Y",), sign=-1, mean_over="n"))),
               _product("db2", "nc->c", "dL"),
               _product("dW2", "nh,nc->hc", "H", "dL"),
               _product("dH", "nc,hc->nh", "dL", "W2"),
               Relation("dA", (Term("nh,nh->nh", ("dH", "A"), fn="relu_mask"),)),
               _product("db1", "nh->h", "dA"),
               _product("dW1", "nd,nh->dh", "X", "dA")),
    library=(Call("mlp.trace", ("X", "t"), (*_MLP_FORWARD, "dL", "db2", "dW2", "dH", "dA", "db1", "dW1"),
                  pack=("W1", "b1", "W2", "b2")),),
    select=("dW1", (1, 2)),
    steps=(Step("forward pass: A = X W1 + b1, H = relu(A), L = H W2 + b2", "chapters 5, 6 and 1",
                "Z1 = matmul.forward(X, W1) ... L = broadcast_add.forward(Z2, b2)", ("X", "W1", "b1", "W2", "b2"),
                _MLP_FORWARD),
           Step("dL = (softmax(L) − Y) / N", "chapter 2, softmax cross-entropy (the 1/N of the mean)",
                "dL = softmax_xent.backward(L, t)", ("L", "Y"), ("dL",)),
           Step("db2 = Σᵢ dL[i,:]", "chapter 6, broadcast add (b2 is added to every row: sum over the batch)",
                "dZ2, db2 = broadcast_add.backward(dL, Z2, b2)", ("dL",), ("db2",)),
           Step("dW2 = Hᵀ dL, dH = dL W2ᵀ", "chapter 5, matrix times matrix",
                "dH, dW2 = matmul.backward(dZ2, H, W2)", ("dL", "H", "W2"), ("dW2", "dH")),
           Step("dA = dH ⊙ 1[A > 0]", "chapter 1, an elementwise map (diagonal Jacobian)",
                "dA = dH * (A.real > 0)", ("dH", "A"), ("dA",)),
           Step("db1 = Σᵢ dA[i,:]", "chapter 6, broadcast add (sum over the batch)",
                "dZ1, db1 = broadcast_add.backward(dA, Z1, b1)", ("dA",), ("db1",)),
           Step("dW1 = Xᵀ dA", "chapter 5, matrix times matrix",
                "dX, dW1 = matmul.backward(dZ1, X, W1)", ("X", "dA"), ("dW1",))),
    group_titles=(("output", "Forward pass"), ("gradient", "Backward pass")),
)

#: rule (the gradlib module name) -> its specs; every rule but jacobian has exactly one.
SPECS: dict[str, tuple[Spec, ...]] = {
    "jacobian": JACOBIAN, "softmax_xent": (SOFTMAX_XENT,), "matvec": (MATVEC,), "vecmat": (VECMAT,),
    "matmul": (MATMUL,), "broadcast_add": (BROADCAST_ADD,), "broadcast_mul": (BROADCAST_MUL,),
    "mlp": (MLP,),
}
RULES = tuple(SPECS)


def spec(rule: str, variant: str = "") -> Spec:
    """The spec of ``rule`` (and, for ``"jacobian"``, of its map ``variant``; default the first)."""
    if rule not in SPECS:
        raise rule_error("structure", f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    variants = SPECS[rule]
    if not variant:
        return variants[0]
    for s in variants:
        if s.variant == variant:
            return s
    names = ", ".join(s.variant for s in variants if s.variant) or "none (it has one form)"
    raise rule_error("structure", f"{rule} has no variant {variant!r}; its variants are {names}")


# --- reading the patterns ----------------------------------------------------------------------

def letter_dims(spec: Spec, relation: Relation, term: Term) -> dict[str, str]:
    """Each letter of ``term.pattern`` -> the dim it runs over (checked to be consistent)."""
    pairs = [(relation.target, term.output), *zip(term.operands, term.inputs)]
    dims: dict[str, str] = {}
    for name, letters in pairs:
        array_dims = spec.array(name).dims
        if len(letters) != len(array_dims):
            raise rule_error("structure", f"{spec.rule}: {name} has {len(array_dims)} axes but {term.pattern!r} "
                                    f"gives it {letters!r}")
        for letter, dim in zip(letters, array_dims):
            if dims.setdefault(letter, dim) != dim:
                raise rule_error("structure", f"{spec.rule}: letter {letter!r} of {term.pattern!r} runs over "
                                        f"both {dims[letter]} and {dim}")
    return dims


def _indices(shape: Index) -> Iterator[Index]:
    return itertools.product(*(range(s) for s in shape))


def sources(spec: Spec, shapes: Mapping[str, int], relation: Relation, term: Term,
            entry: Index) -> Iterator[tuple[str, Index]]:
    """The (operand, index) pairs that entry ``entry`` of the relation's target reads through ``term``."""
    dims = letter_dims(spec, relation, term)
    if term.constant_if_one and shapes[dims[term.constant_if_one]] == 1:
        return
    bound = dict(zip(term.output, entry))
    free = sorted({letter for letters in term.inputs for letter in letters} - set(bound))
    for values in _indices(tuple(int(shapes[dims[letter]]) for letter in free)):
        letters = {**bound, **dict(zip(free, values))}
        for name, subscripts in zip(term.operands, term.inputs):
            yield name, tuple(letters[letter] for letter in subscripts)


def check_entry(spec: Spec, shapes: Mapping[str, int], array: str, index: Any, who: str = "structure") -> Index:
    """``index`` as a tuple, checked to be an entry of ``array`` at ``shapes`` (errors start with ``who``)."""
    shape = spec.shape(array, shapes)
    index = tuple(int(i) for i in np.atleast_1d(index))
    if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape)):
        raise rule_error(who, f"{array}[{','.join(map(str, index))}] is not an entry of {array} "
                        f"(shape {shape}) for {spec.rule}")
    return index


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
            if array in term.operands:
                for entry in _indices(spec.shape(relation.target, shapes)):
                    if (array, index) in sources(spec, shapes, relation, term, entry):
                        lit.setdefault(relation.target, set()).add(entry)
    return lit


def formula(spec: Spec, array: str, index: Any) -> str:
    """The index formula of a computed entry, e.g. ``dX[1,2] = Σ_l dB[1,l] × Y[2,l]``.

    The explorer's caption starts with the same text (``explorer.js`` builds it the same way)
    and goes on with the numbers.
    """
    index = tuple(int(i) for i in np.atleast_1d(index))
    relation = next((r for r in spec.relations if r.target == array), None)
    if relation is None:
        raise rule_error("structure", f"{array} is not computed in {spec.rule}; it is an {spec.array(array).role}")
    parts = []
    for n, term in enumerate(relation.terms):
        text = _term_text(spec, term, index)
        if n == 0:
            parts.append(text if term.sign > 0 else f"−{text}")
        else:
            parts.append(f"{'+' if term.sign > 0 else '−'} {text}")
    return f"{_entry(spec.array(array).text, index)} = {' '.join(parts)}"


def _relation_of(spec: Spec, term: Term) -> Relation:
    return next(r for r in spec.relations if term in r.terms)


def _entry(name: str, index: tuple) -> str:
    return f"{name}[{','.join(map(str, index))}]"


def _term_text(spec: Spec, term: Term, index: Index) -> str:
    bound = dict(zip(term.output, index))
    names = [spec.array(o).text for o in term.operands]
    if term.mean_over:
        size = spec.dim(letter_dims(spec, _relation_of(spec, term), term)[term.mean_over]).name
        return f"{_term_text(spec, dataclasses.replace(term, mean_over=''), index)} / {size}"
    if term.fn == "product":
        summed = "".join(sorted({c for s in term.inputs for c in s} - set(bound)))
        factors = " × ".join(_entry(n, tuple(bound.get(c, c) for c in s)) for n, s in zip(names, term.inputs))
        return f"Σ_{summed} {factors}" if summed else factors
    if term.fn == "relu":
        return f"max(0, {_entry(names[0], index)})"
    if term.fn == "relu_mask":
        return f"{_entry(names[0], index)} × 1[{_entry(names[1], index)} > 0]"
    if term.fn == "softmax_rows":
        return f"softmax({names[0]}[{index[0]},:])[{index[1]}]"
    if term.fn == "softmax":
        return f"softmax({names[0]})[{index[0]}]"
    if term.fn == "tanh":
        return f"tanh({_entry(names[0], index)})"
    i, j = index
    f, x = _entry(names[-2], (i,)), _entry(names[-1], (j,))
    derivative = f"∂{f}/∂{x}"
    if term.fn == "jacobian_linear":
        return f"{derivative} = {_entry(names[0], index)}"
    if term.fn == "jacobian_tanh":
        return f"{derivative} = 1 − {f}²" if i == j else f"{derivative} = 0"
    if term.fn == "jacobian_softmax":
        return f"{derivative} = {f} × (1 − {f})" if i == j else f"{derivative} = −{f} × {_entry(names[-2], (j,))}"
    raise rule_error("structure", f"{spec.rule}: unknown term function {term.fn!r}")


# --- values ------------------------------------------------------------------------------------

def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max())
    return e / e.sum()


def _softmax_rows(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _einsum(pattern: str, ops: list[np.ndarray], shape: Index) -> np.ndarray:
    """np.einsum, plus broadcasting: an output letter no operand has (b1 in "h->nh") repeats the value."""
    inputs, output = pattern.split("->")
    kept = "".join(c for c in output if c in inputs)
    value = np.einsum(f"{inputs}->{kept}", *ops)
    if kept == output:
        return value
    value = value.reshape([value.shape[kept.index(c)] if c in kept else 1 for c in output])
    return np.broadcast_to(value, shape).copy()


#: fn name -> how a term's value (of the target's ``shape``) is computed from its operands (the
#: same list is in explorer.js).
FUNCTIONS: dict[str, Callable[[str, list[np.ndarray], Index], np.ndarray]] = {
    "product": _einsum,
    "softmax": lambda pattern, ops, shape: _softmax(ops[0]),
    "tanh": lambda pattern, ops, shape: np.tanh(ops[0]),
    "relu": lambda pattern, ops, shape: np.maximum(ops[0], 0.0),
    "relu_mask": lambda pattern, ops, shape: ops[0] * (ops[1] > 0),
    "softmax_rows": lambda pattern, ops, shape: _softmax_rows(ops[0]),
    "jacobian_linear": lambda pattern, ops, shape: ops[0].copy(),
    "jacobian_tanh": lambda pattern, ops, shape: np.diag(1.0 - ops[0] ** 2),
    "jacobian_softmax": lambda pattern, ops, shape: np.diag(ops[0]) - np.outer(ops[0], ops[0]),
}


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
    shapes = {d: size for a in spec.arrays if a.name in given for d, size in zip(a.dims, np.shape(given[a.name]))}
    for relation in spec.relations:
        total = 0.0
        for term in relation.terms:
            ops = [arrays[o] for o in term.operands]
            value = term.sign * FUNCTIONS[term.fn](term.pattern, ops, spec.shape(relation.target, shapes))
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
    shapes = {d: size for a in spec.arrays if a.name in given for d, size in zip(a.dims, np.shape(given[a.name]))}
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
    shapes = {d: size for a in spec.arrays if a.name in given for d, size in zip(a.dims, np.shape(given[a.name]))}
    arrays: dict[str, Any] = params_at(spec, shapes, params) | dict(given)
    for array in spec.arrays:  # a one-hot matrix gives gradlib its vector of classes
        if array.onehot and len(array.dims) == 2 and array.name in given:
            arrays[array.onehot] = np.argmax(given[array.name], axis=1)
    for call in spec.library:
        module, _, path = call.function.partition(".")
        function: Any = importlib.import_module(f"gradlib.{module}")
        for name in path.split("."):
            function = getattr(function, name)
        if call.factory:
            function = getattr(function(*(arrays[a] for a in call.factory)), call.method)
        packed = [{name: arrays[name] for name in call.pack}] if call.pack else []
        result = function(*packed, *(arrays[a] for a in call.args))
        if isinstance(result, Mapping):
            result = tuple(result[name] for name in call.returns)
        results = result if len(call.returns) > 1 else (result,)
        arrays.update({name: np.asarray(r, dtype=np.float64) for name, r in zip(call.returns, results)})
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


# --- for the JavaScript view -------------------------------------------------------------------

def as_dict(spec: Spec) -> dict[str, Any]:
    """The spec as plain JSON data (what explorer.js receives), with each term's letter -> dim map added."""
    data = dataclasses.asdict(spec)
    for relation, rel_data in zip(spec.relations, data["relations"]):
        for term, term_data in zip(relation.terms, rel_data["terms"]):
            term_data["letters"] = letter_dims(spec, relation, term)
    data["select"] = {"array": spec.select[0], "index": list(spec.select[1])}
    return data


def validate(spec: Spec) -> None:
    """Raise a GradlibError if the spec is inconsistent (run for every spec at import)."""
    names = [a.name for a in spec.arrays]
    dim_names = {d.name for d in spec.dims}
    if len(set(names)) != len(names):
        raise rule_error("structure", f"{spec.rule}: repeated array names {names}")
    for array in spec.arrays:
        if array.role not in ROLES or not set(array.dims) <= dim_names:
            raise rule_error("structure", f"{spec.rule}: bad role or dims for {array}")
    for relation in spec.relations:
        for term in relation.terms:
            letters = letter_dims(spec, relation, term)
            if term.fn not in FUNCTIONS:
                raise rule_error("structure", f"{spec.rule}: unknown term function {term.fn!r}")
            if term.fn == "softmax" and letters[term.inputs[0]] != letters[term.output]:
                raise rule_error("structure", f"{spec.rule}: softmax {term.pattern!r} must keep its dimension")
            if term.mean_over and term.mean_over not in term.inputs[0]:
                raise rule_error("structure", f"{spec.rule}: mean_over {term.mean_over!r} is not a letter of "
                                        f"{term.pattern!r}'s first operand")
    for step in spec.steps:
        if not set(step.reads) | set(step.writes) <= set(names):
            raise rule_error("structure", f"{spec.rule}: step {step.title!r} names an unknown array")
    for d in spec.dims:
        if not d.low <= d.default <= d.high or d.low < 1 or d.high < 6:
            raise rule_error("structure", f"{spec.rule}: dim {d} must allow 1..6 and default inside")
    check_entry(spec, spec.default_shapes, *spec.select)
    if spec.output and {name for name, _ in spec.jacobian_notes} != {
            a.name for a in spec.arrays if a.role == "input" and f"d{a.name}" in names}:
        raise rule_error("structure", f"{spec.rule}: jacobian_notes must name every differentiated input")


for _specs in SPECS.values():
    for _spec in _specs:
        validate(_spec)
