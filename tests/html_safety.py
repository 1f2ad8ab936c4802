"""Payloads that must never become live HTML, and a parser that finds the ones that did."""

from __future__ import annotations

from html.parser import HTMLParser

# Each payload carries a marker ("xss-...") so a live copy is recognised wherever it lands.
PAYLOADS = {
    "script": '<script>alert("xss-script")</script>',
    "img": "<img src=x onerror=\"alert('xss-img')\">",
    "markdown-link": "[click me](javascript:alert('xss-link'))",
    "attribute": '" onmouseover="alert(\'xss-attr\')" x="',
    "svg": "<svg onload=alert('xss-svg')>",
    "script-breakout": "</script><img src=x onerror=alert('xss-breakout')><!--",
    "python": "\"; import os; os.system('touch PWNED_papermill') # \\\" ''' \\n",
}
DESCRIPTION = " ".join(PAYLOADS.values())
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.script_starts = self.script_ends = 0
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and ("xss" in value or "alert" in value):
                self.live.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self.script_starts += 1
            self._script = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "script":
            self.script_ends += 1
            if self._script is not None:
                body = "".join(self._script).strip()
                if body.startswith("alert(") or body.startswith("alert ("):
                    self.live.append(f"<script>{body[:60]}")
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)


def live_payloads(html: str) -> list[str]:
    """What of :data:`PAYLOADS` the browser would run in ``html``: event handlers or javascript:
    URLs carrying a payload, scripts made of one, and script blocks ended early (a ``</script>``
    inside data)."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    live = list(finder.live)
    if finder.script_starts != finder.script_ends:
        live.append(f"{finder.script_starts} <script> but {finder.script_ends} </script> tags: a block ended early")
    return live
