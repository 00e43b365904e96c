"""Static figures of a rule's structure, drawn from :mod:`gradlib.structure` (so they cannot drift).

>>> from gradlib.figures import figure
>>> fig = figure("matmul", select=[("dX", (1, 2)), ("dY", (2, 0))])    # one row per selected entry

Each row draws every array of the rule as a grid of cells, labelled with its name and shape; entries
are named by their code indices, counted from 0, and the legend says so (``dW[1,2]`` is row 2,
column 3 in the math, which counts from 1; see :func:`index_note`). The selected entry is cross-hatched with a dashed edge and the entries it is computed from (or, for
an input entry, the entries it feeds) are hatched with a thick solid edge. Only hatching and line
style carry meaning, so the figure reads the same in print, in greyscale and for colour-blind readers.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gradlib import structure

RULE = "figures"
_GAP = 1.4          # between arrays, in cells
_TITLE = 2.2        # room above each row for its formula and the array labels
_STYLE = {
    "plain": dict(facecolor="white", edgecolor="#555555", linewidth=0.8, hatch=None, linestyle="-"),
    "lit": dict(facecolor="#d9d9d9", edgecolor="black", linewidth=2.6, hatch="///", linestyle="-"),
    "selected": dict(facecolor="#a6a6a6", edgecolor="black", linewidth=2.6, hatch="xx", linestyle="--"),
}


class StructureFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=120)
        return buffer.getvalue()


def _grid_shape(array: structure.Array, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape
    return (shape[0], 1) if array.orientation == "column" else (1, shape[0])


def _default_entry(spec: structure.Spec, name: str, shapes: Mapping[str, int]) -> tuple[int, ...]:
    if name == spec.select[0]:
        wanted = spec.select[1]
    else:
        wanted = (1,) * len(spec.array(name).dims)
    return tuple(min(i, s - 1) for i, s in zip(wanted, spec.shape(name, shapes)))


def index_note(name: str, index: tuple[int, ...]) -> str:
    """The legend's reminder that labels are code indices: ``dX[1,2] is row 2, column 3 in the math``."""
    place = f"row {index[0] + 1}, column {index[1] + 1}" if len(index) == 2 else f"entry {index[0] + 1}"
    return f"Indices count from 0, as in code: {name}[{','.join(map(str, index))}] is {place} in the math"


def figure(rule: str, shapes: Mapping[str, int] | None = None,
           select: tuple[str, Any] | Sequence[tuple[str, Any]] | None = None, *,
           variant: str = "", show_values: bool = False, formula: bool = True, width: float | None = None) -> Figure:
    """A matplotlib Figure of ``rule``'s arrays with one row per selected entry.

    ``shapes``: {dim: size}, default the spec's; ``select``: an entry ``("dW", (1, 2))`` or a list of
    them, default one entry of each computed array; ``variant``: chapter 1's map; ``show_values``:
    print the explorer's numbers (gradlib's results) in the cells; ``formula``: title each row with
    the entry's index formula; ``width``: figure width in inches (default from the content).
    """
    spec = structure.spec(rule, variant)
    shapes = {**spec.default_shapes, **dict(shapes or {})}
    structure.check_sizes(spec, shapes, RULE)
    if select is None:
        picks = [(r.target, _default_entry(spec, r.target, shapes)) for r in spec.relations]
    elif isinstance(select, tuple) and len(select) == 2 and isinstance(select[0], str):
        picks = [select]
    else:
        picks = list(select)
    picks = [(name, structure.check_entry(spec, shapes, name, index, RULE)) for name, index in picks]

    numbers = None
    if show_values:
        given = structure.inputs(spec, shapes, structure.random_values(rule))
        numbers = structure.library(spec, given)

    w = 1.6 if show_values else 1.0  # cell width (height 1): room for "−1.23"
    layout, x = [], 0.0
    for array in spec.arrays:
        rows, cols = _grid_shape(array, spec.shape(array.name, shapes))
        layout.append((array, x, rows, cols))
        x += cols * w + _GAP
    total_width = x - _GAP
    row_height = max(rows for _, _, rows, _ in layout) + _TITLE + 0.8

    scale = 0.36 if show_values else 0.34
    fig = StructureFigure(figsize=(width or max(4.0, total_width * scale), row_height * len(picks) * scale + 0.5),
                 layout="constrained")
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.axis("off")
    for row, (name, index) in enumerate(picks):
        top = -row * row_height
        lit = structure.lights(spec, shapes, name, index)
        if formula:
            is_computed = any(r.target == name for r in spec.relations)
            text = structure.formula(spec, name, index) if is_computed else \
                f"{spec.array(name).text}[{','.join(map(str, index))}] feeds the outlined entries"
            ax.text(total_width / 2, top - 0.3, text, ha="center", va="top", fontsize=10)
        for array, left, rows, cols in layout:
            shape = spec.shape(array.name, shapes)
            ax.text(left + cols * w / 2, top - _TITLE + 0.15, f"{array.text}  ({'×'.join(map(str, shape))})",
                    ha="center", va="bottom", fontsize=9, fontweight="bold")
            for entry in np.ndindex(*shape):
                r, c = (entry if len(shape) == 2 else (entry[0], 0) if rows > 1 else (0, entry[0]))
                state = "selected" if (array.name == name and entry == index) else \
                    "lit" if entry in lit.get(array.name, ()) else "plain"
                ax.add_artist(Rectangle((left + c * w, top - _TITLE - r - 1), w, 1, **_STYLE[state]))
                if numbers is not None:
                    value = float(np.asarray(numbers[array.name])[entry])
                    ax.text(left + (c + 0.5) * w, top - _TITLE - r - 0.5, f"{value:.2f}".replace("-", "−"),
                            ha="center", va="center", fontsize=7.5,
                            fontweight="bold" if state != "plain" else "normal",
                            bbox=dict(facecolor="white", edgecolor="none", pad=0.6) if state != "plain" else None)
    bottom = -row_height * len(picks)
    ax.set_xlim(-0.2, total_width + 0.2)
    ax.set_ylim(bottom - 0.2, 0.2)
    handles = [Rectangle((0, 0), 1, 1, **_STYLE["selected"]), Rectangle((0, 0), 1, 1, **_STYLE["lit"])]
    fig.legend(handles, ["the entry picked", "the entries it is computed from (or feeds)"],
               loc="outside lower center", ncols=2, frameon=False, fontsize=9, handleheight=1.4, handlelength=1.8,
               title=index_note(spec.array(picks[0][0]).text, picks[0][1]), title_fontsize=9)
    return fig


# --- chapter 9: the network as a computational graph ------------------------------------------------

#: The forward chain of gradlib.mlp: (operation, chapter, parameter it brings in, array it makes).
_CHAIN = (("X W1", "ch. 5", "W1", "XW1"), ("+ b1", "ch. 6", "b1", "Z1"), ("relu", "ch. 1", "", "H"),
          ("H W2", "ch. 5", "W2", "HW2"), ("+ b2", "ch. 6", "b2", "Θ"), ("mean xent", "ch. 2", "t", "L"))
_SHAPES = {"X": "N×D", "W1": "D×H", "XW1": "N×H", "b1": "H", "Z1": "N×H", "H": "N×H", "W2": "H×C",
           "HW2": "N×C", "b2": "C", "Θ": "N×C", "t": "N (classes)", "L": "scalar"}


def graph() -> Figure:
    """gradlib.mlp as a computational graph: the forward chain left to right (solid arrows, each
    operation labelled with its chapter), parameters coming in from above (each with the shape of its
    gradient, which is its own), every array with its shape, and the backward pass right to left
    underneath (dashed arrows, each carrying the gradient of L with respect to the array it leaves)."""
    fig = StructureFigure(figsize=(11.5, 3.9), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, 13.8)
    ax.set_ylim(-2.45, 2.45)
    ax.axis("off")
    box = dict(boxstyle="round,pad=0.35", facecolor="white", edgecolor="black", linewidth=1.2)
    op_box = dict(boxstyle="round4,pad=0.3", facecolor="#e6e6e6", edgecolor="black", linewidth=0.9)
    arrow = dict(arrowstyle="-|>", color="black", linewidth=1.3, shrinkA=16, shrinkB=16)
    back = dict(arrow, linestyle="--", color="#333333", shrinkA=4, shrinkB=4)

    def node(x: float, y: float, name: str) -> None:
        ax.text(x, y, f"{name}\n{_SHAPES[name]}", ha="center", va="center", fontsize=9.5, bbox=box)

    node(0, 0, "X")
    x = 0.0
    for op, chapter, param, made in _CHAIN:
        ox, nx = x + 1.1, x + 2.2
        ax.text(ox, 0, f"{op}\n{chapter}", ha="center", va="center", fontsize=8, bbox=op_box)
        ax.annotate("", (ox - 0.42, 0), (x, 0), arrowprops=dict(arrow, shrinkB=0))
        ax.annotate("", (nx, 0), (ox + 0.42, 0), arrowprops=dict(arrow, shrinkA=0))
        if param:
            node(ox, 1.75, param)
            ax.annotate("", (ox, 0.32), (ox, 1.75), arrowprops=dict(arrow, shrinkB=0, shrinkA=18))
        node(nx, 0, made)
        if made != "L":  # the gradient of L with respect to this array goes back to the operation that made it
            ax.annotate("", (ox, -1.15), (nx, -1.15), arrowprops=back)
            ax.text((ox + nx) / 2, -1.3, f"∂L/∂{made}\n{_SHAPES[made]}", ha="center", va="top", fontsize=8)
        x = nx
    ax.text(0, 1.0, "forward →", ha="center", va="center", fontsize=8.5)
    ax.text(0, -1.15, "← backward", ha="center", va="center", fontsize=8.5)
    return fig
