"""Reading ``/metrics`` the way Prometheus does: parsed, never matched as text."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


class Scrape:
    """One scrape's families and samples."""

    def __init__(self, text: str):
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples: list[Sample] = [
            sample for family in self.families.values() for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; AssertionError when there is none."""
        for sample in self.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
        raise AssertionError(f"no sample {name}{labels}")

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples ``name`` whose labels include ``labels``."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    def kind(self, family: str) -> str:
        return self.families[family].type


def scrape(live: Any) -> Scrape:
    response = live.http.get(f"{live.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return Scrape(response.text)
