"""A tqdm progress bar that works in a terminal and in a notebook.

``tqdm.auto`` picks the notebook widget only when ``ipywidgets`` is installed (it warns otherwise);
here the plain text bar is used unless the widget can really be shown.
"""

from __future__ import annotations

import importlib.util


def progress_bar(**kwargs):
    """``tqdm.auto.tqdm(**kwargs)`` if ipywidgets is importable, else ``tqdm.tqdm(**kwargs)``."""
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(**kwargs)
