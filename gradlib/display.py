"""Small display helpers for the chapters."""
from __future__ import annotations

import inspect
from typing import Any

from IPython.display import Markdown


def show_source(obj: Any) -> Markdown:
    """The real source of ``obj`` as a highlighted Python block (never a copy that can drift).

    Returned as Markdown so the book renders it with the theme's own highlighting (light and dark).
    """
    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")
