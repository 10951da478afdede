"""One rate for bench_mapping.py: users mapped per second by the ``scimbridge`` that
``PYTHONPATH`` names (this checkout, or an earlier revision's files).

Reads its job as JSON on standard input, prints the rate. Written for every revision since
issue 13: ``load_mapping`` took the record-shape lookup from then on, and a context the
fields its ``MappingContext`` knows.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any

from scimbridge.config import default_mapping
from scimbridge.mapping import MappingContext, load_mapping


def loaded(vendor: str) -> Any:
    path = str(default_mapping(vendor))
    try:
        from scimbridge.vendors import record_shape
    except ImportError:  # before vendor plugins: the mapping knew its vendors
        return load_mapping(path)
    return load_mapping(path, record_shape)


def main() -> None:
    job = json.load(sys.stdin)
    mapping = loaded(job["vendor"])
    known = {field.name for field in dataclasses.fields(MappingContext)}
    context = MappingContext(**{k: v for k, v in job["context"].items() if k in known})
    user, groups, candidate = job["user"], job["groups"], job["candidate"]
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < job["seconds"]:
        for _ in range(100):
            mapped = mapping.apply(user, groups, context)
            if candidate:
                mapped.choices["username"].at(candidate)
        count += 100
    print(count / elapsed)


if __name__ == "__main__":
    main()
