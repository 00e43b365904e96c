r"""Each rule's dependency structure, written once as data.

Every rule of the notes is an einsum. Matrix times matrix, for example, is

$$
\frac{\partial L}{\partial X_{ij}} = \sum_l \frac{\partial L}{\partial B_{il}} Y_{jl}
\qquad\text{i.e. the pattern } \texttt{"il,jl->ij"} \text{ over } (dB, Y):
$$

the letters of the output are fixed by the entry we look at, every other letter is summed over.
So the pattern says both how to compute an entry and which entries it is computed from: entry
(1, 2) of dX reads row 1 of dB and row 2 of Y. A :class:`Spec` lists a rule's dimensions, its
arrays and, for each computed array, the terms it is the sum of; :func:`lights` reads the
dependencies off the patterns, :func:`formula` writes an entry's index formula, :func:`evaluate`
computes the values from them, and the explorer's JavaScript view (``explorer.js``) does the same
from the same spec (it receives :func:`as_dict`, formulas included). The tests hold the spec to the
library: :func:`evaluate` must equal the gradlib function the spec names (``library``, e.g.
``matvec.backward``) and :func:`lights` must equal the dependencies found by
``gradlib.numerical_jacobian``.

Three modules: :mod:`.parts` (the types and their checks), :mod:`.rules` (the spec of each rule) and
:mod:`.computed` (lights, formulas and values computed from a spec); all is importable from here.

Not everything is a product. A term names the function that turns its operands into values
(``fn``): ``"product"`` is the einsum; ``"softmax"`` (pattern ``"c->i"``: entry i reads *every*
entry c) and ``"tanh"`` (``"i->i"``) are the maps of chapters 1 and 2; ``"jacobian_*"`` fill the
Jacobian of chapter 1's maps, whose entry (i, j) is *defined* as df_i/dx_j, so its pattern
``"i,j->ij"`` over (f, x) lights f_i and x_j.

The same patterns give the Jacobian the rule never builds (:func:`jacobian`): a gradient entry is a
vector-Jacobian product, ``dW[w] = Σ_u r[u] ∂z[u]/∂W[w]``, so each of its
products names a row ``u`` (the upstream entry) and holds the Jacobian entry (the other factors).

Chapter 9 chains the rules into a network (:data:`MLP`): relations are evaluated in order, so a
later one reads the arrays earlier ones computed, and the lights of an entry are what its own step
reads (one link of the chain, as in every other explorer). Three functions serve it: ``"relu"``,
``"relu_mask"`` (dH ⊙ 1[Z1 > 0], chapter 1's diagonal Jacobian) and ``"softmax_rows"`` (a softmax
per row, ``"nc->ni"``); a term's ``mean_over`` letter divides it by that dimension's size (the 1/N
of a mean). Its ``steps`` walk the backward pass for the explorer's step buttons.

Chapter 8's two rules need one more of each: gather's dependence on the indices is written with a
one-hot matrix ``S`` (row n hot at idx[n] = n mod V) as a term's ``gate``, so dE[v, d] reads only
the rows of G picked from row v; reduce_max's ``"max_share"`` (``"i,ik->ij"`` over (g, X)) gives g[i]
to the row's maximum, reading the whole row.
"""
from __future__ import annotations

from gradlib.structure.computed import (
                                        FUNCTIONS,
                                        as_dict,
                                        evaluate,
                                        formula,
                                        formulas,
                                        inputs,
                                        jacobian,
                                        library,
                                        lights,
                                        params_at,
                                        random_values,
                                        sources,
)
from gradlib.structure.parts import (
                                        ROLES,
                                        TERM_FUNCTIONS,
                                        Array,
                                        Call,
                                        Dim,
                                        Index,
                                        Param,
                                        Relation,
                                        Spec,
                                        Step,
                                        Term,
                                        check_entry,
                                        check_sizes,
                                        hot,
                                        letter_dims,
                                        validate,
)
from gradlib.structure.rules import (
                                        BROADCAST_ADD,
                                        BROADCAST_MUL,
                                        GATHER,
                                        JACOBIAN,
                                        MATMUL,
                                        MATVEC,
                                        MLP,
                                        REDUCE_MAX,
                                        RULES,
                                        SOFTMAX_XENT,
                                        SPECS,
                                        VECMAT,
                                        spec,
)

__all__ = [
    "BROADCAST_ADD", "BROADCAST_MUL", "FUNCTIONS", "GATHER", "JACOBIAN", "MATMUL", "MATVEC", "MLP",
    "REDUCE_MAX", "ROLES", "RULES", "SOFTMAX_XENT", "SPECS", "TERM_FUNCTIONS", "VECMAT",
    "Array", "Call", "Dim", "Index", "Param", "Relation", "Spec", "Step", "Term",
    "as_dict", "check_entry", "check_sizes", "evaluate", "hot", "formula", "formulas", "inputs", "jacobian",
    "letter_dims", "library", "lights", "params_at", "random_values", "sources", "spec", "validate",
]
