"""Aligned columns for a terminal, fitted to its width (``outbox list``'s table).

Cells are measured in terminal columns, not characters: a CJK character takes two, a
combining mark none (Unicode's East Asian Width, UAX #11), so that a table lines up
whatever the script of a name. A table wider than the terminal is fitted to it by cutting
the columns it may cut (free text: names, ids, errors), the widest first and all to the
same width, each cut cell ending in an ellipsis; the other columns (numbers, states,
times) stay whole, and a table they alone make too wide runs past the edge.
"""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata

ELLIPSIS = "…"
GAP = "  "
NARROWEST = 8
"""A column is never cut narrower than this, nor than its heading."""


def terminal_width() -> int | None:
    """The width to fit to: ``$COLUMNS``, else the terminal's; None when the output is not a
    terminal (a pipe, a file), whose reader wants every value whole."""
    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def width_of(text: str) -> int:
    """How many terminal columns ``text`` takes."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cut(text: str, width: int) -> str:
    """``text`` whole if it fits in ``width`` columns, else its start and an ellipsis."""
    if width_of(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + ELLIPSIS


def fitted(widths: list[int], floors: list[int | None], room: int) -> list[int]:
    """The columns' widths within ``room`` terminal columns, gaps included: each column
    with a floor (None: one never cut) capped at the widest width that fits, never below
    its floor."""
    gaps = len(GAP) * (len(widths) - 1)

    def capped(cap: int) -> list[int]:
        return [
            width if floor is None else max(min(width, cap), floor)
            for width, floor in zip(widths, floors, strict=True)
        ]

    cap = max(widths, default=0)
    while cap > 0 and sum(capped(cap)) + gaps > room:
        cap -= 1
    return capped(cap)


def aligned(rows: list[list[str]], cuttable: list[bool], room: int | None) -> list[str]:
    """``rows`` (the headings first) in columns two spaces apart, the last unpadded; fitted
    in ``room`` terminal columns by cutting the ``cuttable`` ones, never narrower than
    their heading nor :data:`NARROWEST` (:func:`fitted`); every cell whole when None."""
    widths = [max(width_of(row[column]) for row in rows) for column in range(len(cuttable))]
    if room is not None:
        floors = [
            min(width, max(NARROWEST, width_of(heading))) if may else None
            for width, heading, may in zip(widths, rows[0], cuttable, strict=True)
        ]
        widths = fitted(widths, floors, room)
    lines = []
    for row in rows:
        cells = [cut(text, width) for text, width in zip(row, widths, strict=True)]
        padded = [
            text + " " * (width - width_of(text)) for text, width in zip(cells, widths, strict=True)
        ]
        lines.append(GAP.join([*padded[:-1], cells[-1]]).rstrip())
    return lines
