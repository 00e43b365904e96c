"""The appendix beyond the cheat sheet (test_cheatsheet.py): its place in the table of contents, the
errata page (each entry says what the notes say, what is right, why and where; the chapters link to
their entries and back), and the credit to the notes on both pages. (Printing: tests/site.)"""
from __future__ import annotations

import re

import yaml

from booksite import ROOT

SHEET = ROOT / "appendix" / "cheatsheet.md"
ERRATA = ROOT / "appendix" / "errata.md"


def test_appendix_is_the_last_part_of_the_toc_and_unnumbered():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    last = toc["parts"][-1]
    assert last["caption"] == "Appendix" and not last.get("numbered", False)
    assert [c["file"] for c in last["chapters"]] == ["appendix/errata", "appendix/cheatsheet",
                                                     "appendix/how_auto_decides"]
    for entry in last["chapters"]:
        assert (ROOT / f"{entry['file']}.md").is_file()


def _errata_entries() -> list[str]:
    text = ERRATA.read_text(encoding="utf-8")
    return re.split(r"\n\(e-[\w-]+\)=\n", text)[1:]


def test_every_erratum_says_what_the_notes_say_what_is_right_why_and_where():
    entries = _errata_entries()
    assert len(entries) >= 10
    for entry in entries:
        title = entry.splitlines()[0]
        assert re.search(r"\*\*The notes (write|give|assume)", entry), title
        assert re.search(r"\*\*The book (writes|adds|keeps)", entry), title
        assert "**Why.**" in entry and "**Where.**" in entry, title
        where = entry.split("**Where.**")[1].split("\n\n")[0]
        for doc in re.findall(r"\{doc\}`(?:[^`<]*<)?/?([\w/]+)>?`", where):
            assert (ROOT / f"{doc}.ipynb").is_file(), f"{title}: no chapter {doc}"
        assert re.search(r"\{doc\}`[^`]*chapters/0\d_\w+", where), title


def test_the_errata_table_lists_every_entry_once():
    text = ERRATA.read_text(encoding="utf-8")
    labels = re.findall(r"\n\((e-[\w-]+)\)=\n", text)
    table = re.findall(r"\{ref\}`\d+ <(e-[\w-]+)>`", text)
    assert table == labels and len(set(labels)) == len(labels)


def test_the_notes_on_the_notes_live_in_the_errata_and_each_chapter_links_to_its_entries():
    """No chapter keeps a "note on the notes" box; every rule chapter links to its errata entries,
    every link names an entry that exists, and that entry's "Where" names the chapter back."""
    import nbformat
    text = ERRATA.read_text(encoding="utf-8")
    labels = set(re.findall(r"\n\((e-[\w-]+)\)=\n", text))
    wheres = dict(zip(re.findall(r"\n\((e-[\w-]+)\)=\n", text),
                      (e.split("**Where.**")[1].split("\n\n")[0] for e in _errata_entries()), strict=True))
    for path in sorted((ROOT / "chapters").glob("0[1-7]_*.ipynb")):
        markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert "note on the notes" not in markdown.lower(), f"{path.stem}: a note box; it belongs on the errata page"
        linked = re.findall(r"\{ref\}`[^`<]*<(e-[\w-]+)>`", markdown)
        assert linked, f"{path.stem}: no link to its errata entries"
        for label in linked:
            assert label in labels, f"{path.stem}: no erratum {label}"
        assert any(f"chapters/{path.stem}" in wheres[label] for label in linked), \
            f"{path.stem}: none of the entries it links to names it under Where"


def test_appendix_pages_credit_the_notes():
    for page in (SHEET, ERRATA):
        assert re.search(r"Christopher Yeh.{0,10}\s*\*?Gradient Notes", page.read_text(encoding="utf-8"))
