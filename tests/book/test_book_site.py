"""_ext/book_site/'s own pieces, without a build (the built site is tests/site/'s)."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_ext"))
import book_site  # noqa: E402  _ext/ is put on sys.path first (it is no package)


def test_every_file_of_the_gradlib_package_is_a_dependency_of_a_notebook_page(repo_root):
    """An edit under gradlib/structure/ (not only gradlib/*.py) re-reads the chapters."""
    noted: list[str] = []
    env = SimpleNamespace(doc2path=lambda doc: f"{doc}.ipynb", note_dependency=noted.append)
    book_site.depend_on_gradlib(SimpleNamespace(env=env, srcdir=str(repo_root)), "chapters/03_matvec", [])
    relative = {str(Path(p).relative_to(repo_root)) for p in noted}
    assert {"gradlib/structure/rules.py", "gradlib/structure/parts.py", "gradlib/figures.py",
            "gradlib/explorer.py"} <= relative
    assert not [p for p in relative if "__pycache__" in p]
    env.doc2path = lambda doc: f"{doc}.md"
    noted.clear()
    book_site.depend_on_gradlib(SimpleNamespace(env=env, srcdir=str(repo_root)), "intro", [])
    assert noted == []


def test_punctuation_after_a_formula_is_kept_with_it():
    paragraph = nodes.paragraph()
    paragraph += [nodes.Text("a "), nodes.math(text="x"), nodes.Text(", then "), nodes.math(text="y"),
                  nodes.Text("."), nodes.math(text="z"), nodes.Text(" alone")]
    book_site.keep_punctuation_with_math(None, paragraph, "page")
    glued = [node.astext() for node in paragraph.children
             if isinstance(node, nodes.inline) and "book-nowrap" in node["classes"]]
    assert glued == ["x,", "y."]
    assert paragraph.astext() == "a x, then y.z alone"


def test_theme_stylesheet_keeps_only_what_can_match():
    css = (".used{a:1}.unused{b:2}.used,.unused{c:3}@media print{.unused{d:4}.used .x:not(.unused){e:5}}"
           ":is(.unused) p{f:6}@font-face{font-family:x}")
    trimmed = book_site.trim_stylesheet(css, {"used", "x"})
    assert ".unused{b:2}" not in trimmed and "d:4" not in trimmed
    for kept in (".used{a:1}", ".used{c:3}", ".used .x:not(.unused){e:5}", ":is(.unused) p{f:6}", "@font-face"):
        assert kept in trimmed.replace("\n", ""), kept


def test_unused_extension_assets_are_left_out_of_a_page():
    def asset(name):
        return SimpleNamespace(filename=name, attributes={})

    inline = SimpleNamespace(filename=None, attributes={"body": 'const THEBE_JS_URL = "x"'})
    context = {"body": "<p>text</p>", "css_files": [asset("book.css"), asset("sphinx-design.min.css")],
               "script_files": [asset("design-tabs.js"), asset("sphinx-thebe.js"), inline, asset("doctools.js")]}
    book_site.drop_unused_assets(None, "page", "page.html", context, None)
    assert [a.filename for a in context["css_files"]] == ["book.css"]
    assert [a.filename for a in context["script_files"]] == ["doctools.js"]
    context = {"body": '<div class="sd-card">', "css_files": [asset("sphinx-design.min.css")], "script_files": []}
    book_site.drop_unused_assets(None, "page", "page.html", context, None)
    assert len(context["css_files"]) == 1
