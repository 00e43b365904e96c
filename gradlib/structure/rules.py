"""The specs of the rules: each chapter's rule written once, as data (the types: :mod:`.parts`).

Every spec names the gradlib function that computes the same arrays (``library``), so the tests
can hold the spec to the library.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlib import (
    broadcast_add,
    broadcast_mul,
    gather,
    jacobian,
    matmul,
    matvec,
    mlp,
    reduce_max,
    softmax_xent,
    vecmat,
)
from gradlib._validate import rule_error
from gradlib.structure.parts import Array, Call, Dim, Index, Param, Relation, Spec, Step, Term, validate


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
            _vector("r", "n", "upstream", "r = ∂L/∂z, the upstream gradient", "row"),
            _matrix("dW", "nm", "gradient", "∂L/∂W = rᵀ xᵀ"),
            _vector("dx", "m", "gradient", "∂L/∂x = Wᵀ rᵀ", "column")),
    relations=(_product("dW", "i,j->ij", "r", "x"), _product("dx", "i,ij->j", "r", "W")),
    library=(Call(matvec.backward, ("r", "W", "x"), ("dW", "dx")),),
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
            _vector("r", "n", "upstream", "r = ∂L/∂z, the upstream gradient", "row"),
            _vector("dx", "m", "gradient", "∂L/∂x = r Wᵀ", "row"),
            _matrix("dW", "mn", "gradient", "∂L/∂W = xᵀ r")),
    relations=(_product("dx", "j,ij->i", "r", "W"), _product("dW", "i,j->ij", "x", "r")),
    library=(Call(vecmat.backward, ("r", "x", "W"), ("dx", "dW")),),
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
            _matrix("dB", "np", "upstream", "∂L/∂B, the upstream gradient"),
            _matrix("dX", "nm", "gradient", "∂L/∂X = (∂L/∂B) Yᵀ"),
            _matrix("dY", "mp", "gradient", "∂L/∂Y = Xᵀ (∂L/∂B)")),
    relations=(_product("dX", "il,jl->ij", "dB", "Y"), _product("dY", "ki,kj->ij", "X", "dB")),
    library=(Call(matmul.backward, ("dB", "X", "Y"), ("dX", "dY")),),
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
            _matrix("dB", "nm", "upstream", "∂L/∂B, the upstream gradient"),
            _matrix("dX", "nm", "gradient", "∂L/∂X = ∂L/∂B"),
            _vector("dy", "m", "gradient", "∂L/∂y: the column sums of ∂L/∂B", "row")),
    relations=(_product("dX", "ij->ij", "dB"), _product("dy", "ij->j", "dB")),
    library=(Call(broadcast_add.backward, ("dB", "X", "y"), ("dX", "dy")),),
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
            _matrix("dB", "nm", "upstream", "∂L/∂B, the upstream gradient"),
            _vector("dy", "m", "gradient", "∂L/∂y: the column sums of ∂L/∂B ⊙ X", "row"),
            _matrix("dX", "nm", "gradient", "∂L/∂X = y ⊙ ∂L/∂B")),
    relations=(_product("dy", "ij,ij->j", "dB", "X"), _product("dX", "j,ij->ij", "y", "dB")),
    library=(Call(broadcast_mul.backward, ("dB", "y", "X"), ("dy", "dX")),),
    select=("dy", (1,)),
    output="B",
    jacobian_notes=(("y", "B[i,j] depends only on y[j], with slope X[i,j], in every row i"),
                    ("X", "B[i,j] depends only on X[i,j], with slope y[j]: this Jacobian is diagonal")),
)

SOFTMAX_XENT = Spec(
    "softmax_xent", "", "L = −log softmax(θ)ₜ (softmax cross-entropy)",
    dims=(Dim("C", "classes, entries of θ and eₜ", 5),),
    arrays=(_vector("theta", "C", "input", "the logits θ", "row", label="θ"),
            _vector("y", "C", "input", "the one-hot target eₜ (entry t is 1)", "row", label="eₜ", onehot="t"),
            _vector("dtheta", "C", "gradient", "∂L/∂θ = softmax(θ) − eₜ", "row", label="dθ")),
    relations=(Relation("dtheta", (Term("c->i", ("theta",), fn="softmax", constant_if_one="c"),
                                   Term("i->i", ("y",), sign=-1))),),
    library=(Call(softmax_xent.backward, ("theta", "t"), ("dtheta",)),),
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
    _jacobian("linear", "f(x) = M x (a linear map)",
              f=Term("ij,j->i", ("A", "x")), J=Term("ij,i,j->ij", ("A", "f", "x"), fn="jacobian_linear"),
              library=(Call(lambda A, x: jacobian.linear(A).forward(x), ("A", "x"), ("f",)),
                       Call(lambda A, x: jacobian.linear(A).jacobian(x), ("A", "x"), ("J",))),
              dims=(Dim("m", "entries of f (outputs)", 3), _JACOBIAN_N), out="m",
              extra=(_matrix("A", "mn", "input", "the matrix M", label="M"),)),
    _jacobian("tanh", "f(x) = tanh(x) (entry by entry)",
              f=Term("i->i", ("x",), fn="tanh"), J=Term("i,j->ij", ("f", "x"), fn="jacobian_tanh"),
              library=(Call(jacobian.tanh.forward, ("x",), ("f",)),
                       Call(jacobian.tanh.jacobian, ("x",), ("J",))),
              select=(1, 1)),
    _jacobian("softmax", "f(x) = softmax(x)",
              f=Term("c->i", ("x",), fn="softmax", constant_if_one="c"),
              J=Term("i,j->ij", ("f", "x"), fn="jacobian_softmax"),
              library=(Call(jacobian.softmax.forward, ("x",), ("f",)),
                       Call(jacobian.softmax.jacobian, ("x",), ("J",)))),
)

def _sum_of(target: str, *terms: tuple[str, tuple[str, ...]]) -> Relation:
    return Relation(target, tuple(Term(pattern, operands) for pattern, operands in terms))


_MLP_FORWARD = ("Z1", "H", "Theta")
_MLP_COMPUTED = (*_MLP_FORWARD, "dTheta", "db2", "dW2", "dH", "dZ1", "db1", "dW1")


def _mlp_trace(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray,
               t: np.ndarray) -> tuple[np.ndarray, ...]:
    """``gradlib.mlp.trace``'s arrays, in the order of MLP's relations."""
    trace = mlp.trace({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, t)
    return tuple(trace[name] for name in _MLP_COMPUTED)


MLP = Spec(
    "mlp", "", "A two-layer network: Z1 = X W1 + b1, H = relu(Z1), Θ = H W2 + b2, L = mean cross-entropy",
    dims=(Dim("N", "examples, rows of X", 4), Dim("D", "inputs, columns of X", 3),
          Dim("H", "hidden units", 4), Dim("C", "classes", 3)),
    arrays=(_matrix("X", "ND", "input", "the inputs, one example per row"),
            _matrix("W1", "DH", "input", "the first layer's weights"),
            _vector("b1", "H", "input", "the first layer's bias", "row"),
            _matrix("W2", "HC", "input", "the second layer's weights"),
            _vector("b2", "C", "input", "the second layer's bias", "row"),
            _matrix("T", "NC", "input", "one-hot classes: row i is hot at class t[i] = i mod C (code indices)",
                    onehot="t"),
            _matrix("Z1", "NH", "output", "Z1 = X W1 + b1, the pre-activations"),
            _matrix("H", "NH", "output", "H = relu(Z1), the hidden layer"),
            _matrix("Theta", "NC", "output", "Θ = H W2 + b2, the logits", label="Θ"),
            _matrix("dTheta", "NC", "gradient", "∂L/∂Θ = (softmax(Θ) − T) / N (chapter 2)", label="dΘ"),
            _vector("db2", "C", "gradient", "∂L/∂b2 = Σᵢ (∂L/∂Θ)ᵢ, the column sums (chapter 6)", "row"),
            _matrix("dW2", "HC", "gradient", "∂L/∂W2 = Hᵀ ∂L/∂Θ (chapter 5)"),
            _matrix("dH", "NH", "gradient", "∂L/∂H = (∂L/∂Θ) W2ᵀ (chapter 5)"),
            _matrix("dZ1", "NH", "gradient", "∂L/∂Z1 = ∂L/∂H ⊙ 1[Z1 > 0] (chapter 1)"),
            _vector("db1", "H", "gradient", "∂L/∂b1 = Σᵢ (∂L/∂Z1)ᵢ, the column sums (chapter 6)", "row"),
            _matrix("dW1", "DH", "gradient", "∂L/∂W1 = Xᵀ ∂L/∂Z1 (chapter 5)")),
    relations=(_sum_of("Z1", ("nd,dh->nh", ("X", "W1")), ("h->nh", ("b1",))),
               Relation("H", (Term("nh->nh", ("Z1",), fn="relu"),)),
               _sum_of("Theta", ("nh,hc->nc", ("H", "W2")), ("c->nc", ("b2",))),
               Relation("dTheta", (Term("nc->ni", ("Theta",), fn="softmax_rows", constant_if_one="c", mean_over="n"),
                                   Term("ni->ni", ("T",), sign=-1, mean_over="n"))),
               _product("db2", "nc->c", "dTheta"),
               _product("dW2", "nh,nc->hc", "H", "dTheta"),
               _product("dH", "nc,hc->nh", "dTheta", "W2"),
               Relation("dZ1", (Term("nh,nh->nh", ("dH", "Z1"), fn="relu_mask"),)),
               _product("db1", "nh->h", "dZ1"),
               _product("dW1", "nd,nh->dh", "X", "dZ1")),
    library=(Call(_mlp_trace, ("X", "W1", "b1", "W2", "b2", "t"), _MLP_COMPUTED),),
    select=("dW1", (1, 2)),
    steps=(Step("forward pass: Z1 = X W1 + b1, H = relu(Z1), Θ = H W2 + b2", "chapters 5, 6 and 1",
                "XW1 = matmul.forward(X, W1) ... Theta = broadcast_add.forward(HW2, b2)", ("X", "W1", "b1", "W2", "b2"),
                _MLP_FORWARD),
           Step("dΘ = (softmax(Θ) − T) / N", "chapter 2, softmax cross-entropy (the 1/N of the mean)",
                "dTheta = softmax_xent.backward(Theta, t)", ("Theta", "T"), ("dTheta",)),
           Step("db2 = Σᵢ dΘ[i,:]", "chapter 6, broadcast add (b2 is added to every row: sum over the batch)",
                "dHW2, db2 = broadcast_add.backward(dTheta, HW2, b2)", ("dTheta",), ("db2",)),
           Step("dW2 = Hᵀ dΘ, dH = dΘ W2ᵀ", "chapter 5, matrix times matrix",
                "dH, dW2 = matmul.backward(dHW2, H, W2)", ("dTheta", "H", "W2"), ("dW2", "dH")),
           Step("dZ1 = dH ⊙ 1[Z1 > 0]", "chapter 1, an elementwise map (diagonal Jacobian)",
                "dZ1 = dH * (Z1.real > 0)", ("dH", "Z1"), ("dZ1",)),
           Step("db1 = Σᵢ dZ1[i,:]", "chapter 6, broadcast add (sum over the batch)",
                "dXW1, db1 = broadcast_add.backward(dZ1, XW1, b1)", ("dZ1",), ("db1",)),
           Step("dW1 = Xᵀ dZ1", "chapter 5, matrix times matrix",
                "dX, dW1 = matmul.backward(dXW1, X, W1)", ("X", "dZ1"), ("dW1",))),
    group_titles=(("output", "Forward pass"), ("gradient", "Backward pass")),
)

GATHER = Spec(
    "gather", "", "B = E[idx] (rows of a table picked by index)",
    dims=(Dim("V", "rows of the table E", 3), Dim("D", "columns of E and of B", 3),
          Dim("N", "indices, rows of B", 5)),
    arrays=(_matrix("E", "VD", "input", "the table E"),
            _matrix("S", "NV", "input", "the indices as one-hot rows: row n is hot at idx[n] = n mod V (code indices)",
                    onehot="idx"),
            _matrix("G", "ND", "upstream", "G = ∂L/∂B, the upstream gradient"),
            _matrix("dE", "VD", "gradient", "∂L/∂E = Sᵀ G: each row of G added into the row it was picked from")),
    relations=(Relation("dE", (Term("nv,nd->vd", ("S", "G"), gate="S"),)),),
    library=(Call(gather.backward, ("G", "E", "idx"), ("dE",)),),
    select=("dE", (0, 1)),
)

REDUCE_MAX = Spec(
    "reduce_max", "", "m = max of each row of X",
    dims=(Dim("n", "rows of X, entries of m", 3), Dim("m", "columns of X", 4)),
    arrays=(_matrix("X", "nm", "input", "the matrix X"),
            _vector("g", "n", "upstream", "g = ∂L/∂m, the upstream gradient (one per row)", "column"),
            _matrix("dX", "nm", "gradient", "∂L/∂X: g[i] where row i has its maximum (shared by ties)")),
    relations=(Relation("dX", (Term("i,ik->ij", ("g", "X"), fn="max_share"),)),),
    library=(Call(reduce_max.backward, ("g", "X"), ("dX",)),),
    select=("dX", (1, 2)),
)

#: rule (the gradlib module name) -> its specs; every rule but jacobian has exactly one.
SPECS: dict[str, tuple[Spec, ...]] = {
    "jacobian": JACOBIAN, "softmax_xent": (SOFTMAX_XENT,), "matvec": (MATVEC,), "vecmat": (VECMAT,),
    "matmul": (MATMUL,), "broadcast_add": (BROADCAST_ADD,), "broadcast_mul": (BROADCAST_MUL,),
    "gather": (GATHER,), "reduce_max": (REDUCE_MAX,), "mlp": (MLP,),
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



for _specs in SPECS.values():
    for _spec in _specs:
        validate(_spec)
