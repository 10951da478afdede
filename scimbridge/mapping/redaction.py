"""Values the vendor must get but nobody else may read: the ``redact`` transform's marker.

``transform: redact`` wraps each string of a value in :class:`Redacted`, a ``str``
whose text is intact (``json.dumps`` and ``requests`` send it to the vendor as it
is, and ``str()`` gives it back as a plain string) but whose ``repr`` is
``<redacted>``, so that a record logged with ``%r``/``%s`` (a dict shows its items
by ``repr``) never shows it. Whatever shows a record to a person goes through
:func:`redacted_view` (``scimbridge mapping preview`` does).

The marker is a property of the Python value: a string built from it (``+``,
slicing, ``.lower()``) is a plain ``str`` again, which is why ``redact`` must be the
last transform of a field, and a record read back from the database has no marker.
"""

from __future__ import annotations

from typing import Any

REDACTED = "<redacted>"
"""What a redacted value shows instead of itself."""


class Redacted(str):
    """A string that goes to the vendor as it is but never shows itself in a ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return REDACTED

    def __reduce__(self) -> tuple[Any, ...]:
        return (Redacted, (str(self),))


def redacted_view(value: Any) -> Any:
    """A copy of ``value`` (a record, a list, any JSON value) fit to show: each Redacted is ``<redacted>``."""
    if isinstance(value, Redacted):
        return REDACTED
    if isinstance(value, dict):
        return {key: redacted_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted_view(item) for item in value]
    return value
