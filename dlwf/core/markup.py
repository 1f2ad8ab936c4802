"""Text from the config or the data on its way to an HTML page.

Two rules keep such text (descriptions, class names, file names, messages) inert wherever it is
shown:

- :func:`escape` turns it into HTML text: every page builds its markup from escaped strings
  only, never from Markdown or HTML written in the config.
- Rule params are shown by Snakemake's own report (``snakemake --report``) inside a ``<script>``
  block, where an unescaped ``</script>`` would end the block. Params that carry such text are
  therefore passed through :func:`for_params` by the plan and restored with :func:`from_params`
  by the step that uses them: the round trip is exact, and a changed text is still a changed
  param (so a reworded description reruns what shows it).
"""

from __future__ import annotations

import html


def escape(value) -> str:
    """``str(value)`` as HTML text (also safe inside a quoted attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


def _map_strings(value, function):
    if isinstance(value, str):
        return function(value)
    if isinstance(value, dict):
        return {key: _map_strings(item, function) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(item, function) for item in value]
    return value


def for_params(value):
    """``value`` with ``&``, ``<`` and ``>`` of every string (nested) written as HTML entities."""
    return _map_strings(value, lambda text: html.escape(text, quote=False))


def from_params(value):
    """The exact inverse of :func:`for_params`."""
    return _map_strings(value, html.unescape)
