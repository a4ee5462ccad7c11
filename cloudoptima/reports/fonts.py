"""The Unicode TrueType font the PDF and its charts use, and which characters it can draw.

fpdf2's core fonts are Latin-1 only, so reports embed DejaVu Sans: the system's copy when one is installed
(``/usr/share/fonts/truetype/dejavu``), else the copy matplotlib bundles (always present: matplotlib is a runtime
dependency). :meth:`ReportFont.drawable` replaces a character the font has no glyph for with ``?`` so neither
fpdf2 nor matplotlib warns or draws a tofu box silently; DejaVu covers Latin, Greek, Cyrillic and many symbols,
not CJK.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.ft2font import FT2Font

_SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@dataclass(frozen=True)
class ReportFont:
    """A regular and a bold TTF of one family, with the code points the regular face covers."""

    regular: Path
    bold: Path
    codepoints: frozenset[int]

    def covers(self, text: str) -> bool:
        return all(ord(ch) in self.codepoints or ch in "\n\t" for ch in text)

    def drawable(self, text: str) -> str:
        """``text`` with every character the font cannot draw replaced by ``?``."""
        if self.covers(text):
            return text
        return "".join(ch if ord(ch) in self.codepoints else "?" for ch in text)


def _pair(directory: Path) -> tuple[Path, Path] | None:
    regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
    return (regular, bold) if regular.is_file() and bold.is_file() else None


@functools.cache
def report_font() -> ReportFont:
    """The font reports use (looked up once per process)."""
    found = None
    for directory in _SYSTEM_DIRS:
        found = _pair(directory)
        if found:
            break
    if found is None:
        found = _pair(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    if found is None:  # pragma: no cover - matplotlib always bundles DejaVu Sans
        raise RuntimeError("no DejaVu Sans TTF found (system fonts or matplotlib's bundled copy)")
    regular, bold = found
    codepoints = frozenset(FT2Font(str(regular)).get_charmap())
    return ReportFont(regular=regular, bold=bold, codepoints=codepoints)
