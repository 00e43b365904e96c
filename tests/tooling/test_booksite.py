"""The test helpers' own pure functions (tests/booksite.py), which the site tests and benchmarks trust.

No book and no browser: WCAG's contrast ratio against its published examples, the explorer pages
found from ``_toc.yml`` for every rule gradlib.structure knows, and the widget state read back from
a page shaped like a built one, and the full-page screenshot taken again when Chromium draws it
in another layout.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from booksite import (
    EXPLORER_PAGES,
    SHOT_TRIES,
    WIDGET_STATE,
    contrast,
    full_page_screenshot,
    toc_pages,
    widget_models,
)
from gradlib import structure


def test_contrast_ratio_matches_wcag_examples():
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21.0)
    assert contrast([118, 118, 118], [255, 255, 255]) == pytest.approx(4.54, abs=0.01)
    assert contrast([10, 10, 10], [10, 10, 10]) == pytest.approx(1.0)


def test_every_rule_has_an_explorer_page_of_the_book():
    assert set(EXPLORER_PAGES) == set(structure.SPECS)
    assert set(EXPLORER_PAGES.values()) <= set(toc_pages())
    assert EXPLORER_PAGES["matvec"] == "chapters/03_matvec.html" and EXPLORER_PAGES["mlp"].startswith("chapters/09_")


def test_widget_models_reads_the_embedded_state_of_one_widget_class():
    state = {"state": {"a": {"state": {"_anywidget_id": "gradlib.explorer.Explorer", "rule": "matvec"}},
                       "b": {"state": {"_anywidget_id": "gradlib.answer.Answer", "question": "dL/dW"}},
                       "c": {"state": {"value": 3}}}}
    html = f'<html><head><script type="{WIDGET_STATE}">{json.dumps(state)}</script></head></html>'
    assert widget_models(html, "gradlib.explorer.Explorer") == [state["state"]["a"]["state"]]
    assert widget_models(html, "gradlib.answer.Answer") == [state["state"]["b"]["state"]]
    assert widget_models("<html></html>", "gradlib.answer.Answer") == []


class _CapturingPage:
    """Stands in for playwright's Page in full_page_screenshot: a 100 x 60 window of a page with a
    20 px sidebar, whose full-page captures are ``captures`` in turn (then the good one)."""

    def __init__(self, captures: list[np.ndarray]):
        self.good = np.full((150, 100), 255, np.uint8)
        self.good[10:50:4, 30:90] = 0  # lines of text in the article (columns 20-100)
        self.captures, self.full_shots = list(captures), 0

    def evaluate(self, script: str):
        return 1 if "devicePixelRatio" in script else [20, 100]

    def screenshot(self, full_page: bool = False) -> bytes:
        image = self.good[:60]
        if full_page:
            self.full_shots += 1
            image = self.captures.pop(0) if self.captures else self.good
        out = io.BytesIO()
        Image.fromarray(image).save(out, format="PNG")
        return out.getvalue()


def test_a_full_page_capture_unlike_the_window_is_taken_again(tmp_path):
    shifted = np.roll(_CapturingPage([]).good, -25, axis=1)  # Chromium's odd capture: the article moved left
    page = _CapturingPage([shifted, shifted])
    full_page_screenshot(page, tmp_path / "shot.png")
    assert page.full_shots == 3
    assert np.array_equal(np.asarray(Image.open(tmp_path / "shot.png")), page.good)


def test_a_capture_that_stays_unlike_the_window_is_kept_after_the_last_try(tmp_path):
    shifted = np.roll(_CapturingPage([]).good, -25, axis=1)
    page = _CapturingPage([shifted] * SHOT_TRIES)
    full_page_screenshot(page, tmp_path / "shot.png")
    assert page.full_shots == SHOT_TRIES
    assert np.array_equal(np.asarray(Image.open(tmp_path / "shot.png")), shifted)
