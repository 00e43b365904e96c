"""Figure text a reader can read (issue 16, item 3): computed from each figure's font sizes, its dpi
and the width the page shows it at, never guessed from a screenshot.

A PNG figure is shown at its pixel width, shrunk to the text column when wider: the column is
672 CSS px on a 1280 px window and 342 on a 390 px phone (measured in Chromium on the built book:
a figure's <img> at each width). Its text of ``s`` points is then ``s * dpi / 72 * shown / png``
CSS px: at least 9 at 1280 px and at least 7 at 390 px.
"""
from __future__ import annotations

import io

import pytest
from matplotlib.text import Text
from PIL import Image

from gradlib import figures, structure

COLUMN_PX = {1280: 672, 390: 342}
SMALLEST_PX = {1280: 9, 390: 7}


def smallest_text_px(fig) -> dict[int, float]:
    """{window width: CSS px of the figure's smallest text} (text with something to show)."""
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    width = Image.open(io.BytesIO(figures.grey_png(fig))).width
    return {window: min(sizes) * figures.DPI / 72 * min(1.0, column / width) for window, column in COLUMN_PX.items()}


FIGURES = {
    **{f"{rule}{'-values' if values else ''}": (rule, values) for rule in structure.SPECS
       if rule != "mlp" for values in (False, True)},
}


@pytest.mark.parametrize("name", [*FIGURES, "graph"])
def test_every_figure_text_is_readable_at_1280_and_390_px(name):
    if name == "graph":
        fig = figures.graph()
    else:
        rule, values = FIGURES[name]
        variants = [s.variant for s in structure.SPECS[rule]]
        fig = figures.figure(rule, variant=variants[-1], show_values=values)
    px = smallest_text_px(fig)
    for window, least in SMALLEST_PX.items():
        assert px[window] >= least, f"{name}: smallest text {px[window]:.1f} CSS px at {window} px (at least {least})"


def test_text_size_is_computed_from_font_dpi_and_width():
    """A 12 pt text at 120 dpi is 20 px in the PNG; a 1344 px wide PNG is shown at half size at 1280."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1344 / figures.DPI, 2))
    fig.text(0.5, 0.5, "x", fontsize=12)
    assert smallest_text_px(fig)[1280] == pytest.approx(10.0)
    assert smallest_text_px(fig)[390] == pytest.approx(20 * 342 / 1344)


def test_graph_follows_the_mlp_spec():
    """The graph's chain and shapes come from gradlib.structure's mlp spec (issue 22)."""
    spec = structure.spec("mlp")
    chain, shapes, loss = figures.network_chain()
    made = [step[3] for step in chain]
    assert made[:-1] == [a.text for a in spec.arrays if a.role == "output"]
    assert made[-1] == loss and shapes[loss] == "scalar"
    params = [p for step in chain for p in step[2]]
    assert params[:-1] == [a.text for a in spec.arrays if a.role == "input" and not a.onehot][1:]
    for array in spec.arrays:
        assert shapes[array.text] == "×".join(array.dims)
