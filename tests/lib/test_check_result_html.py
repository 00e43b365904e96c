"""What a check result's HTML says (gradlib/check_view.py, through ``CheckResult._repr_html_``), read
with BeautifulSoup: the verdict and its numbers, the worst entry, the diagnosis and the note, the
entries shown and which are marked, escaping. Compared with the result's own numbers, never with how
the HTML is written. How it looks (light and dark, a book column, a phone): tests/site/test_check_view.py
measures it in Chromium.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from bs4 import BeautifulSoup, Tag
from checker_cases import smooth, smooth_grad

from gradlib.checker import CheckResult, check_gradient

pytestmark = pytest.mark.filterwarnings("error")

Cells = dict[tuple[int, int], Tag]


def soup(result: CheckResult) -> BeautifulSoup:
    return BeautifulSoup(result._repr_html_(), "html.parser")


def text(page: BeautifulSoup, part: str) -> str | None:
    """The text of the check's ``gradlib-<part>`` block (summary, diagnosis, note, window, legend), or None."""
    block = page.select_one(f".gradlib-check > .gradlib-{part}")
    return None if block is None else block.get_text()


def tables(page: BeautifulSoup) -> dict[str, Cells]:
    """Each table (by kind: numerical, analytic, difference) as {(row, column): <td>}, the row and
    column read from the table's own header cells (a vector has no header row: its column is 0)."""
    found = {}
    for table in page.find_all("table"):
        kind = next(c.removeprefix("gradlib-") for c in table["class"] if c != "gradlib-table")
        rows = table.find_all("tr")
        headed = rows[0].find("td") is None
        head = [int(th.get_text()) for th in rows[0].find_all("th")[1:]] if headed else [0]
        cells = {}
        for tr in rows[1:] if headed else rows:
            label = tr.find("th").get_text()
            for column, td in zip(head, tr.find_all("td"), strict=True):
                cells[(int(label) if label else 0, column)] = td
        found[kind] = cells
    return found


def captions(page: BeautifulSoup) -> list[str]:
    return [caption.get_text() for caption in page.find_all("caption")]


def failing(shape: tuple[int, ...], wrong: list[tuple[int, ...]], seed: int = 20, **options) -> CheckResult:
    """A check of :func:`smooth` whose analytic gradient is wrong by 1, 2, ... at ``wrong`` (the last worst)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    analytic = smooth_grad(x)
    for k, index in enumerate(wrong):
        analytic[index] += 1.0 + k
    return check_gradient(smooth, x, analytic, **options)


# -- the numbers --------------------------------------------------------------------------------

def test_the_summary_states_the_verdict_method_errors_and_worst_entry():
    result = failing((3, 4), [(1, 2)], seed=19)
    summary = text(soup(result), "summary")
    worst = result.worst_index
    assert worst == (1, 2) and summary.startswith(f"FAIL \u2014 method {result.method}, {result.calls} calls of f;")
    said = dict(re.findall(r"(max abs error|tolerance|max rel error) ([-+.\de]+)", summary))
    assert math.isclose(float(said["max abs error"]), result.max_abs_error, rel_tol=1e-2)
    assert math.isclose(float(said["tolerance"]), result.tolerance, rel_tol=1e-2)
    assert math.isclose(float(said["max rel error"]), result.max_rel_error, rel_tol=1e-2)
    entry = re.search(r"worst entry \((\d+), (\d+)\): numerical (\S+), analytic (\S+)$", summary)
    assert tuple(map(int, entry.group(1, 2))) == worst
    assert float(entry[3]) == result.numerical[worst] and float(entry[4]) == result.analytic[worst]  # every digit
    ok = check_gradient(smooth, np.full((3, 4), 0.5), smooth_grad(np.full((3, 4), 0.5)))
    assert ok and text(soup(ok), "summary").startswith("PASS \u2014 method complex")


def test_a_directional_check_names_directions_not_entries():
    rng = np.random.default_rng(16)
    W, x = rng.standard_normal((6, 5)), rng.standard_normal(5)
    result = check_gradient(lambda W: np.sum(np.tanh(W @ x)), W, -np.outer(1 - np.tanh(W @ x) ** 2, x), directions=3)
    page = soup(result)
    assert not result and f"3 random directions, {result.calls} calls of f" in text(page, "summary")
    assert f"worst direction ({result.worst_index[0]},)" in text(page, "summary")
    assert captions(page) == ["numerical J w", "analytic \u00b7 w", "numerical \u2212 analytic"]
    cells = tables(page)["numerical"]
    assert set(cells) == {(k, 0) for k in range(3)}
    assert [float(cells[(k, 0)]["title"]) for k in range(3)] == list(result.numerical)
    assert "the worst direction" in text(page, "legend") and text(page, "diagnosis") is None


@pytest.mark.parametrize("shape, wrong, shown", [
    ((6, 6), [(2, 3), (4, 0), (0, 5)], None),
    ((40, 30), [(30, 6), (35, 12), (33, 2)], (range(27, 39), range(0, 8))),
    ((20,), [(9,), (2,), (15,)], (range(8, 20), range(1))),
], ids=["6x6", "40x30 window", "vector"])
def test_html_marks_exactly_the_wrong_entries_at_their_indices(shape, wrong, shown):
    """Entries made wrong by +1 (the numbers' own truth, not the HTML's) are the cells marked as
    mismatched in each of the three tables, found by the tables' row and column headers; the worst
    is marked with a diamond; every cell's title is its table's value at that index."""
    result = failing(shape, wrong)
    assert not result and result.worst_index == wrong[-1]
    page = soup(result)
    values = {"numerical": result.numerical, "analytic": result.analytic,
              "difference": result.numerical - result.analytic}
    grid = (lambda a: a.reshape(-1, 1)) if len(shape) == 1 else (lambda a: a)
    rows, columns = shown or (range(shape[0]), range(shape[1]))
    as_cell = (lambda i: (i[0], 0)) if len(shape) == 1 else (lambda i: tuple(i))
    found = tables(page)
    assert list(found) == ["numerical", "analytic", "difference"]
    for kind, cells in found.items():
        assert set(cells) == {(r, c) for r in rows for c in columns}, kind
        marked = {index for index, td in cells.items() if "gradlib-mismatch" in td["class"]}
        assert marked == {as_cell(i) for i in wrong if i[0] in rows and (len(i) == 1 or i[1] in columns)}, kind
        worst = [index for index, td in cells.items() if "gradlib-worst" in td["class"]]
        assert worst == [as_cell(wrong[-1])] and cells[worst[0]].get_text().startswith("\u25c6"), kind
        for (r, c), td in cells.items():
            assert float(td["title"]) == grid(values[kind])[r, c], (kind, r, c)
    assert text(page, "legend").startswith("Legend: bold, solid outline = outside the tolerance")
    assert "the worst entry" in text(page, "legend")
    ok = check_gradient(smooth, np.full(shape, 0.25), smooth_grad(np.full(shape, 0.25)))
    assert ok and not any("gradlib-mismatch" in td["class"] for cells in tables(soup(ok)).values()
                          for td in cells.values())


# -- what is shown of a big array -----------------------------------------------------------------

def test_a_big_matrix_shows_12_rows_and_8_columns_around_the_worst_entry():
    result = failing((40, 30), [(33, 2)], seed=21, method="richardson")
    page = soup(result)
    for kind, cells in tables(page).items():
        assert set(cells) == {(r, c) for r in range(27, 39) for c in range(8)}, kind  # what fits a 700 px page
    assert text(page, "window") == "Showing rows 27-38 of 40, columns 0-7 of 30, around the worst entry."


def test_a_3d_array_shows_the_slice_of_the_worst_entry():
    result = failing((2, 3, 4), [(1, 0, 2)], seed=22)
    page = soup(result)
    assert text(page, "window") == "Showing the slice [1, :, :] of the 2x3x4 array, around the worst entry."
    cells = tables(page)["analytic"]
    assert set(cells) == {(r, c) for r in range(3) for c in range(4)}
    assert all(float(td["title"]) == result.analytic[1, r, c] for (r, c), td in cells.items())
    assert [index for index, td in cells.items() if "gradlib-worst" in td["class"]] == [(0, 2)]


def test_a_scalar_is_one_cell_and_a_small_array_needs_no_window_note():
    scalar = soup(check_gradient(lambda v: v ** 3, np.array(2.0), np.array(12.0)))
    assert [set(cells) for cells in tables(scalar).values()] == [{(0, 0)}] * 3
    assert text(scalar, "window") is None and text(soup(failing((6, 6), [(2, 3)])), "window") is None


def test_html_shows_a_vector_as_a_column():
    """A 1-D x is shown as a column, its entries as rows, so three 12-entry tables fit side by side."""
    page = soup(failing((20,), [(15,)], seed=25))
    assert text(page, "window") == "Showing entries 8-19 of 20, around the worst entry."
    for table in page.find_all("table"):
        rows = table.find_all("tr")
        assert [tr.find("th").get_text() for tr in rows] == [str(i) for i in range(8, 20)]  # no header row
        assert all(len(tr.find_all("td")) == 1 for tr in rows)


def test_html_numbers_are_short_and_hover_shows_every_digit():
    """A 6 x 6 result stays narrow: at most 12 characters a cell even with the worst-entry mark,
    exponents without padding zeros, and each cell's title is its value with every digit."""
    x = np.random.default_rng(24).standard_normal((6, 6)) * np.array([1e-3, 1, 10, 100, 1e4, 1e-6])
    analytic = smooth_grad(x)
    analytic[3, 1] += 1.0
    result = check_gradient(smooth, x, analytic)
    found = tables(soup(result))
    for kind, values in [("numerical", result.numerical), ("analytic", result.analytic),
                         ("difference", result.numerical - result.analytic)]:
        cells = found[kind]
        assert len(cells) == 36
        for (r, c), td in cells.items():
            shown = td.get_text().removeprefix("\u25c6\u00a0")
            assert len(td.get_text()) <= 12 and not re.search(r"e[+-]0\d", shown), shown
            assert float(td["title"]) == values[r, c]
            assert math.isclose(float(shown), values[r, c], rel_tol=0.05 if kind == "difference" else 1e-5), shown


# -- the words ------------------------------------------------------------------------------------

def test_the_diagnosis_and_the_note_are_shown_when_there_is_one():
    W = np.random.default_rng(8).standard_normal((4, 4))
    x = np.random.default_rng(7).standard_normal(4)
    f = lambda W: np.sum(np.tanh(W @ x))  # noqa: E731
    good = np.outer(1 - np.tanh(W @ x) ** 2, x)
    transposed = check_gradient(f, W, good.T, method="richardson")
    assert transposed.diagnosis.startswith("transposed")
    assert text(soup(transposed), "diagnosis") == "Diagnosis: " + transposed.diagnosis
    ok = check_gradient(f, W, good, method="richardson")
    assert ok.diagnosis is None and ok.note == ""
    assert text(soup(ok), "diagnosis") is None and text(soup(ok), "note") is None
    fallback = check_gradient(lambda v: np.sum(np.abs(v) * v), x, 2 * np.abs(x))  # not holomorphic: richardson
    assert "complex step is unusable" in fallback.note and text(soup(fallback), "note") == "Note: " + fallback.note


def test_html_escapes_text_that_comes_from_f():
    def sneaky(v):
        if np.iscomplexobj(v):
            raise TypeError("<script>alert(1)</script>")
        return np.sum(v ** 2)

    result = check_gradient(sneaky, np.ones(2), 2 * np.ones(2))
    assert result and "<script>alert(1)</script>" in result.note
    page = soup(result)
    assert page.find("script") is None and "<script>alert(1)</script>" in text(page, "note")
    odd = result.replace(passed=False, diagnosis='a < b & "c" <b>d</b>', method="<i>m</i>")
    page = soup(odd)
    assert page.find("b") is None and page.find("i") is None
    assert text(page, "diagnosis") == 'Diagnosis: a < b & "c" <b>d</b>'
    assert page.select_one(".gradlib-summary code").get_text() == "<i>m</i>"
