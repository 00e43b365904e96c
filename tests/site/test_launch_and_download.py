"""The launch and download buttons of every built page: one Colab and one Binder button on each
notebook page opening that very notebook in the ``repository`` of _config.yml, and the .ipynb / .md
downloads (what Binder installs: tests/tooling/test_toolchain.py), read from the built HTML with
BeautifulSoup; the download menu's files served, in Chromium.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import jupytext
import nbformat
import pytest

from booksite import toc_pages

pytestmark = pytest.mark.book


def _colab_opens(href: str) -> tuple[str, str, str, str] | None:
    """(owner, name, branch, path) of the GitHub notebook a Colab link opens: Colab reads
    ``/github/<owner>/<name>/blob/<branch>/<path>``."""
    found = re.fullmatch(r"/github/([^/]+)/([^/]+)/blob/([^/]+)/(.+)", unquote(urlsplit(href).path))
    return found.groups() if found else None


def _binder_opens(href: str) -> tuple[str, str, str, str] | None:
    """(owner, name, ref, path) of what a Binder link opens: BinderHub builds ``/v2/gh/<owner>/<name>/<ref>``
    and opens ``labpath``, or ``urlpath`` (a Jupyter server path: tree/, notebooks/, lab/tree/, doc/tree/)."""
    parts = urlsplit(href)
    found = re.fullmatch(r"/v2/gh/([^/]+)/([^/]+)/([^/]+)/?", unquote(parts.path))
    query = parse_qs(parts.query)
    server_path = query.get("urlpath", [""])[0]
    opened = query.get("labpath") or re.findall(r"^/?(?:lab/tree|doc/tree|tree|notebooks)/(.+)", server_path)
    return (*found.groups(), opened[0]) if found and opened else None


LAUNCH_SERVICES = {"Colab": ("colab_url", _colab_opens), "Binder": ("binderhub_url", _binder_opens)}


def test_launch_buttons_open_this_notebook_in_colab_and_binder(built_page, book_config, book_root, book_page):
    """A page built from a notebook has one Colab and one Binder button in the theme's launch menu
    (titled "Launch on ..."), each on the host _config.yml names, opening the page's own notebook in
    the ``repository`` (url and branch) of _config.yml: its path, taken from the repository's root,
    is that .ipynb file. Binder builds from binder/requirements.txt (what it installs:
    tests/tooling/test_toolchain.py). A page built from Markdown has no launch button."""
    links = built_page(book_page).select("div.dropdown-launch-buttons a")
    notebook = (book_root / book_page).with_suffix(".ipynb")
    if not notebook.is_file():
        assert links == [], f"{book_page} is not a notebook but has launch buttons"
        return
    services = [re.sub(r"^Launch on ", "", link.get("title", "")) for link in links]
    assert sorted(services) == sorted(LAUNCH_SERVICES), f"{book_page}: launch buttons {services}"
    repository = book_config["repository"]
    owner, name = urlsplit(repository["url"]).path.strip("/").removesuffix(".git").split("/")
    root = book_root.joinpath(*[".."] * len(Path(repository.get("path_to_book", "")).parts))
    for service, link in zip(services, links, strict=True):
        setting, opens = LAUNCH_SERVICES[service]
        href, host = urlsplit(link["href"]), urlsplit(book_config["launch_buttons"][setting])
        assert (href.scheme, href.netloc) == (host.scheme, host.netloc), f"{service} button: {link['href']}"
        opened = opens(link["href"])
        assert opened, f"the {service} button opens no notebook: {link['href']}"
        assert opened[:3] == (owner, name, repository["branch"]), f"{service} button: {link['href']}"
        assert (root / opened[3]).resolve() == notebook.resolve(), f"{service} button opens {opened[3]}"
    assert (root / "binder" / "requirements.txt").is_file(), "Binder would find no environment file"


def _download_links(built_page, book_html: Path, book_page: str) -> dict[str, Path]:
    """{'.ipynb': file, '.md': file, ...} offered by the theme's download button of a page."""
    offered = {}
    for link in built_page(book_page).find_all("a"):
        classes = link.get("class", "")
        if "dropdown-item" in classes and "download" in classes and "_sources/" in link.get("href", ""):
            target = (book_html / book_page).parent / link["href"]
            offered[Path(link["href"]).suffix] = target.resolve()
    return offered


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_each_page_downloads_as_ipynb_and_md(built_page, book_html, book_page, book_root):
    offered = _download_links(built_page, book_html, book_page)
    source = book_root / book_page.removesuffix(".html")
    if source.with_suffix(".ipynb").is_file():
        assert set(offered) >= {".ipynb", ".md"}, f"download button offers {sorted(offered)}"
        original = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
        downloaded = nbformat.read(offered[".ipynb"], as_version=4)
        nbformat.validate(downloaded)
        assert _cells(downloaded) == _cells(original)
        as_markdown = jupytext.read(offered[".md"], fmt="md:myst")
        assert _cells(as_markdown) == _cells(original)
        assert as_markdown.metadata["kernelspec"]["name"] == original.metadata["kernelspec"]["name"]
    else:
        assert set(offered) >= {".md"}, f"download button offers {sorted(offered)}"
        assert offered[".md"].read_text(encoding="utf-8") == source.with_suffix(".md").read_text(encoding="utf-8")


@pytest.mark.browser
def test_download_button_links_are_served(open_page, book_html):
    """In the browser, the download menu of a chapter lists .ipynb and .md and both are served."""
    chapter = next(p for p in toc_pages() if p.startswith("chapters/"))
    page = open_page(chapter, wait=False).page
    page.locator(".dropdown-download-buttons button").first.click()
    menu = page.locator(".dropdown-download-buttons .dropdown-menu")
    menu.wait_for(state="visible")
    items = {text.strip(): href for text, href in menu.locator("a").evaluate_all(
        "(links) => links.map((a) => [a.textContent, a.getAttribute('href')])")}
    assert {".ipynb", ".md"} <= set(items), items
    for suffix in (".ipynb", ".md"):
        response = page.request.get(urljoin(page.url, items[suffix]))
        assert response.ok, f"{suffix}: HTTP {response.status}"
        if suffix == ".ipynb":
            nbformat.validate(nbformat.reads(response.text(), as_version=4))
        else:
            assert "kernelspec" in response.text() and "```{code-cell}" in response.text()
