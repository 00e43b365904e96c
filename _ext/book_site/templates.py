"""Works around pydata-sphinx-theme 0.17's templates (accessible names, fontawesome.js, the search
index on every page): templates/ goes first on templates_path.

3. Theme templates. ``templates/`` (put first on ``templates_path``) overrides four files of
pydata-sphinx-theme 0.17: the search button and the colour-mode switch, whose accessible names
left out their visible content (axe-core ``label-content-name-mismatch``, serious), and
``static/webpack-macros.html``, to leave out ``fontawesome.js`` (0.54 MB gzipped on every page,
for icons the theme's stylesheet already draws), and ``layout.html``, to load the search index
and Sphinx's search tools on search.html only (see 8.). Each file says what it changes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def use_template_overrides(app: Sphinx, config: Any) -> None:
    """Put ``templates/`` first on ``templates_path`` (before the theme's own components)."""
    config.templates_path.insert(0, str(Path(__file__).with_name("templates")))
