"""Static figures of a rule's structure, drawn from :mod:`gradlib.structure` (so they cannot drift).

>>> from gradlib.figures import figure
>>> fig = figure("matmul", select=[("dX", (1, 2)), ("dY", (2, 0))])    # one row per selected entry

Each row draws every array of the rule as a grid of cells, labelled with its name and shape; entries
are named by their code indices, counted from 0, and the legend says so (``dW[1,2]`` is row 2,
column 3 in the math, which counts from 1; see :func:`index_note`). The selected entry is
cross-hatched with a dashed edge and the entries it is computed from (or, for an input entry, the
entries it feeds) are hatched with a thick solid edge. Only hatching and line
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
_LINE_GAP = 1.6     # room above a further line of arrays for their labels
#: Widest and narrowest figure, in inches (MAX_WIDTH * DPI pixels: shown unshrunk in a 672 px column,
#: and shrunk at most to 342 / 672 on a 390 px phone, so 8.5 pt text stays >= 7 CSS px:
#: tests/lib/test_figures.py computes every figure's smallest text). Wider rows wrap onto a new line.
MAX_WIDTH, MIN_WIDTH = 5.6, 4.8
VALUE_FONT = 8.5    # the numbers in the cells (show_values), the smallest text of a figure
_STYLE = {
    "plain": dict(facecolor="white", edgecolor="#555555", linewidth=0.8, hatch=None, linestyle="-"),
    "lit": dict(facecolor="#d9d9d9", edgecolor="black", linewidth=2.6, hatch="///", linestyle="-"),
    "selected": dict(facecolor="#a6a6a6", edgecolor="black", linewidth=2.6, hatch="xx", linestyle="--"),
}


#: Resolution of the figures' PNGs: a figure w inches wide is DPI * w pixels wide.
DPI = 120


def grey_png(fig: Figure, dpi: float = DPI) -> bytes:
    """``fig`` as a PNG, in 8-bit grey when every pixel is an opaque grey (these figures draw in
    greys only): the same pixels in about 40 % of matplotlib's RGBA bytes (page weight)."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    image = Image.open(buffer)
    pixels = np.asarray(image)
    if pixels.shape[-1] == 4 and (pixels[..., 3] == 255).all() and \
            (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(pixels[..., 0])).save(buffer, format="PNG", optimize=True, dpi=(dpi, dpi))
    return buffer.getvalue()


class StructureFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        return grey_png(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, bytes]:
        """The same PNG, also where ``%matplotlib inline`` registered its own figure printer (a
        mime bundle is asked for first, and the printer then leaves image/png alone)."""
        return {"image/png": grey_png(self)}


def _grid_shape(array: structure.Array, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape
    return (shape[0], 1) if array.orientation == "column" else (1, shape[0])


def _default_entry(spec: structure.Spec, name: str, shapes: Mapping[str, int]) -> tuple[int, ...]:
    if name == spec.select[0]:
        wanted = spec.select[1]
    else:
        wanted = (1,) * len(spec.array(name).dims)
    return tuple(min(i, s - 1) for i, s in zip(wanted, spec.shape(name, shapes), strict=True))


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
    scale = 0.36 if show_values else 0.34  # inches per cell height
    # The arrays left to right, in lines no wider than MAX_WIDTH inches (a new line when the next
    # array would not fit): (array, left, offset of its line below the row's top, rows, cols).
    layout, x, offset, line_rows = [], 0.0, _TITLE, 0
    for array in spec.arrays:
        rows, cols = _grid_shape(array, spec.shape(array.name, shapes))
        if x > 0 and (x + cols * w) * scale > (width or MAX_WIDTH):
            x, offset, line_rows = 0.0, offset + line_rows + _LINE_GAP, 0
        layout.append((array, x, offset, rows, cols))
        x += cols * w + _GAP
        line_rows = max(line_rows, rows)
    total_width = max(left + cols * w for _, left, _, _, cols in layout)
    row_height = offset + line_rows + 0.8

    fig = StructureFigure(figsize=(width or max(MIN_WIDTH, total_width * scale), row_height * len(picks) * scale + 0.5),
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
        for array, left, down, rows, cols in layout:
            shape = spec.shape(array.name, shapes)
            ax.text(left + cols * w / 2, top - down + 0.15, f"{array.text}  ({'×'.join(map(str, shape))})",
                    ha="center", va="bottom", fontsize=9, fontweight="bold")
            for entry in np.ndindex(*shape):
                r, c = (entry if len(shape) == 2 else (entry[0], 0) if rows > 1 else (0, entry[0]))
                state = "selected" if (array.name == name and entry == index) else \
                    "lit" if entry in lit.get(array.name, ()) else "plain"
                ax.add_artist(Rectangle((left + c * w, top - down - r - 1), w, 1, **_STYLE[state]))
                if numbers is not None:
                    value = float(np.asarray(numbers[array.name])[entry])
                    ax.text(left + (c + 0.5) * w, top - down - r - 0.5, f"{value:.2f}".replace("-", "−"),
                            ha="center", va="center", fontsize=VALUE_FONT,
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

#: The chapter of each kind of step of the network (see :func:`network_chain`).
_CHAPTER = {"matmul": 5, "broadcast_add": 6, "relu": 1, "softmax_xent": 2}
#: The graph's width in inches: GRAPH_WIDTH * DPI pixels, shown at most that wide, so its smallest
#: text (GRAPH_MIN_FONT pt) is >= 7 CSS px on a 390 px phone and >= 9 at 1280 px (tests/lib/test_figures.py).
GRAPH_WIDTH, GRAPH_MIN_FONT = 5.6, 8.5


def _kind(term: structure.Term) -> str:
    if term.fn == "relu":
        return "relu"
    return "matmul" if len(term.operands) == 2 else "broadcast_add"


def network_chain(
    spec: structure.Spec | None = None,
) -> tuple[list[tuple[str, str, tuple[str, ...], str]], dict[str, str], str]:
    """The forward chain of ``gradlib.structure``'s mlp spec: ``[(operation, chapters, parameters it
    brings in, array it makes)]``, the shape of every array (``{"W1": "D×H"}``) and the loss's name.

    The chain is the spec's output relations in order (``A = X W1 + b1`` is one step: a product, ch.
    5, and a broadcast add, ch. 6), then the mean cross-entropy of the last output against the one-hot
    classes (ch. 2), which makes the scalar loss (named as in the spec's title, ``<name> = mean
    cross-entropy``). So a renamed array or a changed shape in the spec changes the figure too."""
    import re

    spec = spec or structure.spec("mlp")
    outputs = [a.name for a in spec.arrays if a.role == "output"]
    shapes = {a.text: "×".join(a.dims) for a in spec.arrays}
    chain, made = [], set()
    for relation in spec.relations:
        if relation.target not in outputs:
            continue
        words, chapters, params = [], [], []
        for term in relation.terms:
            kind = _kind(term)
            names = [spec.array(n).text for n in term.operands]
            brought = [n for n in term.operands if spec.array(n).role == "input" and n != spec.arrays[0].name]
            params += [spec.array(n).text for n in brought]
            words.append({"relu": f"relu({names[0]})", "matmul": " ".join(names)}.get(kind, f"+ {names[0]}"))
            chapters.append(_CHAPTER[kind])
        made.add(relation.target)
        chain.append((" ".join(words), "ch. " + ", ".join(map(str, sorted(set(chapters)))), tuple(params),
                      spec.array(relation.target).text))
    onehot = next(a for a in spec.arrays if a.onehot)
    found = re.search(r"(\w+)\s*=\s*mean cross-entropy", spec.title)
    loss = found.group(1) if found else "L"
    shapes[onehot.onehot] = f"{onehot.dims[0]} (classes)"
    shapes[loss] = "scalar"
    chain.append(("mean xent", f"ch. {_CHAPTER['softmax_xent']}", (onehot.onehot,), loss))
    return chain, shapes, loss


def graph() -> Figure:
    """gradlib.mlp as a computational graph (:func:`network_chain`), two steps to a row: the forward
    chain left to right (solid arrows, each operation labelled with its chapters; a row starts with
    the array the row above ended with), parameters coming in from above (each with its shape, which
    is its gradient's), every array with its shape, and the backward pass right to left underneath
    (dashed arrows, each carrying the gradient of the loss with respect to the array it leaves).
    GRAPH_WIDTH inches wide, so it is readable on a phone as on a laptop (see GRAPH_MIN_FONT)."""
    chain, shapes, loss = network_chain()
    per_row, step, row_height = 2, 3.0, 4.6
    rows = [chain[i:i + per_row] for i in range(0, len(chain), per_row)]
    fig = StructureFigure(figsize=(GRAPH_WIDTH, 1.95 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(-0.8, step * per_row + 0.8)
    ax.set_ylim(-row_height * (len(rows) - 1) - 1.9, 2.5)
    ax.axis("off")
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="black", linewidth=1.1)
    op_box = dict(boxstyle="round4,pad=0.25", facecolor="#e6e6e6", edgecolor="black", linewidth=0.9)
    arrow = dict(arrowstyle="-|>", color="black", linewidth=1.2, shrinkA=5, shrinkB=5)
    back = dict(arrow, linestyle="--", color="#333333", shrinkA=3, shrinkB=3)
    font = GRAPH_MIN_FONT

    def node(x: float, y: float, name: str) -> Any:
        return ax.text(x, y, f"{name}\n{shapes[name]}", ha="center", va="center", fontsize=font + 0.5, bbox=box)

    def link(start: Any, end: Any, start_at: tuple[float, float], end_at: tuple[float, float]) -> None:
        """An arrow from a point of one box to a point of another (fractions of each text's extent)."""
        ax.annotate("", xy=end_at, xycoords=end, xytext=start_at, textcoords=start, arrowprops=arrow)

    made = structure.spec("mlp").arrays[0].text
    for r, row in enumerate(rows):
        y, x = -r * row_height, 0.0
        before = node(x, y, made)
        for op, chapters, params, made in row:
            ox, nx = x + step / 2, x + step
            step_box = ax.text(ox, y, f"{op}\n{chapters}", ha="center", va="center", fontsize=font, bbox=op_box)
            for k, param in enumerate(params):
                offset = k - (len(params) - 1) / 2
                link(node(ox + offset * 1.2, y + 1.75, param), step_box, (0.5, 0), (0.5 + offset * 0.35, 1))
            after = node(nx, y, made)
            link(before, step_box, (1, 0.5), (0, 0.5))
            link(step_box, after, (1, 0.5), (0, 0.5))
            before = after
            if made != loss:  # the gradient of the loss with respect to this array goes back to the step that made it
                ax.annotate("", (ox, y - 1.05), (nx, y - 1.05), arrowprops=back)
                ax.text((ox + nx) / 2 + 0.2, y - 1.2, f"∂{loss}/∂{made}  {shapes[made]}", ha="center", va="top",
                        fontsize=font)
            x = nx
    ax.text(0, 1.0, "forward →", ha="center", va="center", fontsize=font)
    ax.text(0, -1.05, "← backward", ha="center", va="center", fontsize=font)
    return fig
