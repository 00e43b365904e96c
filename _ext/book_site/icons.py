"""Works around pydata-sphinx-theme shipping all of Font Awesome's web fonts (268 KiB gzip) for a
few dozen icons.

6. Icon fonts cut to the icons the site shows. The theme draws its icons from Font Awesome's web
fonts, 268 KiB (gzip) for the two a page needs, of which the book uses a few dozen glyphs. After the
build, the glyphs the site can show -- every ``fa-<name>`` class in the built pages, and every icon
the stylesheets draw themselves (the admonition icons, ``--pst-icon-*``) -- are cut out of the
theme's fonts with fontTools into ``_static/fonts/<font>.woff`` (a few KiB each), and
``book.css`` declares them, after the theme's declarations, under the theme's own family names, so
the theme's full fonts are never fetched.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

# The theme's Font Awesome fonts (in _static/vendor/fontawesome/webfonts/; the .ttf copies, which
# fontTools reads without brotli) and the subsets written next to book.css, declared there.
ICON_FONTS = ("fa-solid-900", "fa-regular-400", "fa-brands-400")
_CONTENT_RULE = re.compile(r'([^{}]+)\{content:"([^"]+)"\}')  # .fa-x:before,.fa-y:before{content:"\f042"}
_ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
_PRIVATE_USE = re.compile(r'"(\\[ef][0-9a-f]{3}|[\ue000-\uf8ff])"')  # one icon: "\f058", "\e4c1" or the character


def _code_point(content: str) -> int:
    return int(content[1:], 16) if content.startswith("\\") else ord(content)


def icon_code_points(static: Path, pages: list[Path]) -> set[int]:
    """The Font Awesome code points the built site can show (see 6. in the module docstring)."""
    by_name: dict[str, int] = {}
    drawn: set[int] = set()  # icons a stylesheet draws by itself (content: or a --pst-icon variable)
    for css in static.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for selectors, content in _CONTENT_RULE.findall(text):
            names = re.findall(r"\.fa-([a-z0-9-]+):{1,2}before", selectors)
            if names and _PRIVATE_USE.fullmatch(f'"{content}"'):
                by_name.update(dict.fromkeys(names, _code_point(content)))
        text = _CONTENT_RULE.sub("", text)  # what is left: icons not tied to a class name
        drawn.update(_code_point(match) for match in _PRIVATE_USE.findall(text))
    used = {name for page in pages for name in _ICON_CLASS.findall(page.read_text(encoding="utf-8"))}
    return drawn | {by_name[name] for name in used if name in by_name}


def subset_icon_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Write ``_static/fonts/<font>.woff``: the theme's icon fonts with only the site's icons."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset

    static = Path(app.outdir, "_static")
    code_points = icon_code_points(static, sorted(Path(app.outdir).rglob("*.html")))
    options = subset.Options(flavor="woff", layout_features=[], name_IDs=[], notdef_outline=True)
    (static / "fonts").mkdir(exist_ok=True)
    for name in ICON_FONTS:
        font = subset.load_font(str(static / "vendor" / "fontawesome" / "webfonts" / f"{name}.ttf"), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=code_points & set(font.getBestCmap()))
        subsetter.subset(font)
        subset.save_font(font, str(static / "fonts" / f"{name}.woff"), options)
