"""The layers import what CONTRIBUTING.md says they may, and the serving path no emulator.

Checked on the source (every ``import`` statement of a package, top-level or
not), so a shortcut through a new import fails here rather than in a review.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import scimbridge

PACKAGE = Path(scimbridge.__file__).parent
BUILT_IN_VENDORS = ("confide", "acc", "aria", "rocketchat", "cloudshell")


def imports_of(package: str) -> dict[str, set[str]]:
    """Per module of ``package`` (a path under scimbridge/), every module it imports."""
    found: dict[str, set[str]] = {}
    root = PACKAGE / package
    for source in sorted(root.rglob("*.py") if root.is_dir() else [root.with_suffix(".py")]):
        names: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(source.relative_to(PACKAGE.parent))] = names
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports_of(package).items()
        for name in names
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("mapping", ("scimbridge.vendors", "scimbridge_emulators", "scimbridge.delivery",
                     "scimbridge.scim", "scimbridge.store", "scimbridge.app")),
        ("delivery", ("scimbridge.scim", "scimbridge_emulators", "scimbridge.commands")),
        ("store", ("scimbridge.scim", "scimbridge.delivery", "scimbridge.mapping",
                   "scimbridge.vendors", "scimbridge_emulators")),
        ("scim", ("scimbridge.vendors", "scimbridge_emulators", "scimbridge.commands")),
        ("reconcile", ("scimbridge.scim", "scimbridge_emulators", "scimbridge.commands",
                       "scimbridge.app")),
        ("comparison", ("scimbridge",)),
    ],
)  # fmt: skip
def test_a_layer_imports_only_the_layers_below_it(package, forbidden):
    assert offending(package, forbidden) == []


def test_no_module_outside_a_vendors_own_names_a_built_in_vendor_module():
    """The core reaches a vendor through its plugin (entry points) only; the emulators are
    another distribution, which nothing in scimbridge/ imports but the emulator commands."""
    vendor_modules = tuple(
        f"{package}.{vendor}"
        for package in ("scimbridge.vendors", "scimbridge_emulators")
        for vendor in BUILT_IN_VENDORS
    )
    own = {f"scimbridge/vendors/{vendor}.py" for vendor in BUILT_IN_VENDORS}
    users = [
        f"{module} imports {name}"
        for module, names in imports_of("").items()
        if module not in own
        for name in names
        if name.startswith(vendor_modules)
    ]
    assert users == []


def test_serving_a_bridge_never_imports_an_emulator(tmp_path):
    config = tmp_path / "bridge.yaml"
    config.write_text(
        "database: sqlite:///" + str(tmp_path / "bridge.db") + "\n"
        "targets:\n"
        "  - name: chat\n"
        "    vendor: rocketchat\n"
        "    base_url: http://127.0.0.1:9\n"
        "    credentials: {user_id: u, auth_token: t}\n"
        "    inbound: {bearer_tokens: [a-token-of-sixteen-chars]}\n"
    )
    script = (
        "import sys\n"
        "import scimbridge.cli\n"
        "from scimbridge.app import create_app\n"
        f"create_app({str(config)!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith('scimbridge_emulators')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
