"""The test helpers' own pure functions (tests/booksite.py), which the site tests and benchmarks trust.

No book and no browser: WCAG's contrast ratio against its published examples, the explorer pages
found from ``_toc.yml`` for every rule gradlib.structure knows, and the widget state read back from
a page shaped like a built one.
"""
from __future__ import annotations

import json

import pytest

from booksite import EXPLORER_PAGES, WIDGET_STATE, contrast, toc_pages, widget_models
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
