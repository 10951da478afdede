"""The checkout as contributors and the tests install it (``pip install -e .``): the default
mappings are the files of the top-level ``mappings/`` (docs/architecture.md, "Mapping
files"), so that an edit there is what the bridge loads, with no copy inside the package."""

from __future__ import annotations

from pathlib import Path

from scimbridge.config import default_mapping

REPOSITORY = Path(__file__).resolve().parents[2]
BUILT_IN = ("acc", "aria", "cloudshell", "confide", "rocketchat")


def test_the_built_in_vendors_read_their_default_mapping_from_the_top_level_directory():
    found = {vendor: default_mapping(vendor).resolve() for vendor in BUILT_IN}

    assert found == {vendor: REPOSITORY / "mappings" / f"{vendor}.yaml" for vendor in BUILT_IN}
    assert all(path.is_file() for path in found.values())


def test_the_package_holds_no_copy_of_the_mappings():
    assert not (REPOSITORY / "scimbridge" / "vendors" / "mappings").exists()
