"""Log lines as the bridge's handler writes them to standard error, read back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any


class CapturedLogs:
    """The lines the bridge's log handler wrote, as it writes them to standard error."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [line for line in self.lines() if predicate(line)]
