"""Text from outside (an identity provider's userName, a vendor's error) made safe to print.

A userName is whatever the identity provider sent, and a terminal or a log viewer obeys
the control characters in it: a U+202E RIGHT-TO-LEFT OVERRIDE shows the rest of the line
reversed (``#12 … ada`` reading as another user's row), an ESC starts a terminal command,
a newline forges a second log line. :func:`printable` shows each such character as its
escape (``\\u202e``) instead; everything else, any script's letters included, is left as
it is. ``outbox list`` prints its cells through it and the log formatters their lines
(:mod:`scimbridge.observability.logs`), so both say the same of the same name.
"""

from __future__ import annotations

import re

ESCAPED = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # the C0 and C1 controls, DEL (Unicode category Cc)
    "\u061c\u200e\u200f"  # ARABIC LETTER MARK, LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK
    "\u202a-\u202e"  # the bidirectional embeddings and overrides, and their POP
    "\u2066-\u2069"  # the bidirectional isolates, and their POP (Unicode 6.3)
    "\u2028\u2029"  # LINE SEPARATOR and PARAGRAPH SEPARATOR: line breaks to some viewers
    "]"
)
"""The characters :func:`printable` escapes: those that move, reverse or break the text
around them (UAX #9, "Explicit Directional Formatting Characters"), and no others: a
zero-width joiner is part of an emoji or of a Malayalam name, and stays."""


def printable(text: str) -> str:
    """``text`` with each control, bidirectional formatting and line-breaking character shown
    as ``\\uXXXX``, the form JSON writes it in: a JSON text stays valid JSON, and decodes
    to the same value."""
    return ESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
