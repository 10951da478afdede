"""What a plugin author writes against: three public packages, and the hooks a vendor's
quirks need.

``scimbridge.vendors`` (clients and the plugin), ``scimbridge_emulators`` (the emulator)
and ``scimbridge.testing`` (the tests) export every name a plugin uses, so a plugin never
imports the modules behind them, which may move: the worked example
(``examples/scimbridge-bulkimport``) and the guide's code (docs/adding-a-vendor.md) show
it.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from scimbridge.vendors import (
    DeliveryItem,
    HttpVendorClient,
    Outcome,
    Target,
    VendorRejected,
)

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE = REPOSITORY / "examples" / "scimbridge-bulkimport"
GUIDE = REPOSITORY / "docs" / "adding-a-vendor.md"
PUBLIC = ("scimbridge.vendors", "scimbridge_emulators", "scimbridge.testing")


def scimbridge_imports(source: str) -> list[tuple[str, list[str]]]:
    """Each import of scimbridge's or the emulators' modules: (module, names imported)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return [
        (module, names)
        for module, names in found
        if module.split(".")[0] in ("scimbridge", "scimbridge_emulators")
    ]


def test_the_example_plugin_imports_only_the_public_packages() -> None:
    private = [
        f"{path.relative_to(EXAMPLE)}: {module}"
        for path in sorted(EXAMPLE.glob("[!.]*/**/*.py"))
        if ".egg-info" not in str(path)
        for module, _ in scimbridge_imports(path.read_text("utf-8"))
        if module not in PUBLIC
    ]

    assert private == []


def test_the_guides_code_imports_public_names_that_exist() -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text("utf-8"), re.DOTALL)
    imports = [found for block in blocks for found in scimbridge_imports(block)]

    assert imports, "the guide's code imports nothing of scimbridge's"
    for module, names in imports:
        assert module in PUBLIC, module
        exported = importlib.import_module(module).__all__
        assert [name for name in names if name not in exported] == [], module


class Answering(requests.Session):
    """A vendor answering every request with one status and JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__()
        self.status = status
        self.body = body

    def request(self, method: str | bytes, url: str | bytes, *_: Any, **__: Any) -> Any:
        answer = requests.Response()
        answer.status_code = self.status
        answer._content = json.dumps(self.body).encode()
        return answer


class MsgVendorClient(HttpVendorClient):
    """A vendor whose errors say ``{"code": ..., "msg": ...}``."""

    vendor = "msgvendor"
    error_text_keys = ("msg",)

    def is_authenticated(self) -> bool:
        return True

    def authenticate(self) -> None:
        pass

    def deliver_batch(self, items: list[DeliveryItem]) -> list[Outcome]:
        return []


def test_a_client_names_the_field_its_vendor_puts_its_error_in() -> None:
    target = Target.model_validate(
        {
            "name": "directory",
            "vendor": "rocketchat",
            "base_url": "http://127.0.0.1:9",
            "credentials": {"user_id": "u", "auth_token": "t"},
            "inbound": {"bearer_tokens": ["inbound-token-0123456789"]},
        }
    )
    client = MsgVendorClient(target, Answering(400, {"code": 7, "msg": "email taken"}))

    with pytest.raises(VendorRejected) as refused:
        client.call("POST", "/users", json={})

    assert str(refused.value) == "msgvendor: POST /users answered HTTP 400: email taken"
