"""The checker chapter is a practitioner's chapter: at most 2,200 words of prose, and its
title still names the checker. Words are whitespace-separated tokens of the markdown cells, math
included; the chapter is found by its name, whatever its number."""
from __future__ import annotations

import nbformat

from booksite import ROOT

BUDGET = 2200


def _chapter():
    found = sorted((ROOT / "chapters").glob("*_checker.ipynb"))
    assert len(found) == 1, found
    return nbformat.read(found[0], as_version=4)


def words(notebook) -> int:
    return sum(len(cell.source.split()) for cell in notebook.cells if cell.cell_type == "markdown")


def test_the_checker_chapter_is_within_its_word_budget():
    assert words(_chapter()) <= BUDGET


def test_the_checker_chapter_title_names_the_checker():
    titles = [line for cell in _chapter().cells if cell.cell_type == "markdown"
              for line in cell.source.splitlines() if line.startswith("# ")]
    assert titles and "checker" in titles[0].lower(), titles


def test_the_word_count_counts_math_and_every_markdown_cell():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A checker\n\n$x + y$ is two"),
                                               nbformat.v4.new_code_cell("not counted at all")])
    assert words(notebook) == 3 + 5
