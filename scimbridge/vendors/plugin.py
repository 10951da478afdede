"""Vendor plugins: how a vendor joins the bridge, built in or installed beside it.

A vendor is a Python distribution that registers one :class:`VendorPlugin`
under the entry-point group ``scimbridge.vendors``, the entry point's name
being the vendor key a target's ``vendor:`` names::

    [project.entry-points."scimbridge.vendors"]
    bulkimport = "scimbridge_bulkimport:PLUGIN"

The five built-in vendors register the same way, in scimbridge's own
``pyproject.toml``, so nothing outside their modules names a vendor. Discovery
reads the installed distributions' metadata only: a vendor's module is imported
the first time a configuration uses it, and its emulator only when one is
started (``scimbridge emulate``, ``scimbridge demo``, the tests).
docs/adding-a-vendor.md walks through writing one; :class:`scimbridge.testing.VendorContract`
is the test it must pass.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, cast

from scimbridge.mapping.shapes import RecordShape
from scimbridge.vendors.base import VendorClient

if TYPE_CHECKING:
    from scimbridge_emulators.base import VendorEmulator

    from scimbridge.config import Target

ENTRY_POINT_GROUP = "scimbridge.vendors"


class UnknownVendor(LookupError):
    """No installed plugin registers this vendor key."""


class PluginError(Exception):
    """An installed plugin is broken: it cannot be imported, or it is not what it claims."""


@dataclass(frozen=True)
class VendorPlugin:
    """Everything the bridge needs to know about one vendor, and nothing it must guess."""

    name: str
    """The vendor key (``vendor:`` in a target and in a mapping file); the entry point's name."""
    title: str
    """The product's name, for people: ``scimbridge vendors``, error messages."""
    client: type[VendorClient]
    """The client the delivery worker drives (:class:`~scimbridge.vendors.base.VendorClient`)."""
    record_schema: Traversable
    """The JSON Schema (draft 2020-12) of one record of the vendor's import API: what a
    mapping file may write, and what a SCIM write is refused for before it reaches the outbox."""
    default_mapping: Traversable
    """The mapping file a target without ``mapping:`` uses."""
    emulator: str | None = None
    """``"module:Class"`` of the vendor's emulator (a
    :class:`~scimbridge_emulators.base.VendorEmulator`), imported only when one is started."""
    documentation: str | None = None
    """Where to read about the vendor's API and the plugin's choices: a URL, or a page of
    scimbridge's documentation for the built-in vendors."""

    @classmethod
    def packaged(
        cls,
        package: str,
        name: str,
        title: str,
        client: type[VendorClient],
        emulator: str | None = None,
        documentation: str | None = None,
    ) -> VendorPlugin:
        """A plugin whose files lie in ``package`` the usual way: ``records/<name>.json``
        (the record schema) and ``mappings/<name>.yaml`` (the default mapping).

        The mappings are found by importing ``<package>.mappings``, not by a path beside
        ``package``, so that a distribution may build that package from another directory
        of its source: scimbridge's own lie in the checkout's top-level ``mappings/``
        (``[tool.setuptools.package-dir]``), which an editable install serves from there and
        a wheel carries as ``scimbridge/vendors/mappings/``.

        :raises ModuleNotFoundError: when ``package`` has no ``mappings`` directory (the
            plugin's module then fails to load, as :class:`PluginError` says).
        """
        return cls(
            name=name,
            title=title,
            client=client,
            record_schema=resources.files(package) / "records" / f"{name}.json",
            default_mapping=resources.files(f"{package}.mappings") / f"{name}.yaml",
            emulator=emulator,
            documentation=documentation,
        )

    @cached_property
    def record_shape(self) -> RecordShape:
        """The record schema, compiled once."""
        schema = json.loads(self.record_schema.read_text("utf-8"))
        return RecordShape(
            self.name, schema, self.client.unique_fields, self.client.renames_accounts
        )

    def load_emulator(self) -> type[VendorEmulator]:
        """The emulator class.

        :raises UnknownVendor: when the plugin ships no emulator.
        :raises PluginError: when the class it names cannot be imported.
        """
        if self.emulator is None:
            raise UnknownVendor(f"the {self.name} plugin ships no emulator")
        found = _load(self.emulator, f"the emulator of the {self.name} plugin")
        return cast("type[VendorEmulator]", found)


def _load(reference: str, what: str) -> Any:
    module, _, attribute = reference.partition(":")
    try:
        found: Any = importlib.import_module(module)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise PluginError(f"{what} ({reference}) cannot be loaded: {error}") from error
    return found


@cache
def _entry_points() -> dict[str, list[metadata.EntryPoint]]:
    found: dict[str, list[metadata.EntryPoint]] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, []).append(entry)
    return found


def vendor_names() -> tuple[str, ...]:
    """The vendor keys installed plugins register, sorted; nothing is imported."""
    return tuple(sorted(_entry_points()))


def distribution_of(name: str) -> str:
    """``"<distribution> <version>"`` of the plugin registering ``name``, for people."""
    entry = _registered(name)
    if entry.dist is None:
        return "unknown distribution"
    return f"{entry.dist.name} {entry.dist.version}"


def _registered(name: str) -> metadata.EntryPoint:
    entries = _entry_points().get(name)
    if not entries:
        installed = ", ".join(vendor_names()) or "none"
        raise UnknownVendor(
            f"no installed vendor plugin is called {name!r}; installed: {installed}"
        )
    if len(entries) > 1:
        sources = ", ".join(sorted(f"{entry.value}" for entry in entries))
        raise PluginError(f"vendor {name!r} is registered by more than one plugin: {sources}")
    return entries[0]


@cache
def vendor_plugin(name: str) -> VendorPlugin:
    """The plugin registering vendor ``name``, imported on first use.

    :raises UnknownVendor: when no installed plugin registers it.
    :raises PluginError: when the plugin cannot be imported, is registered twice, or
        is not a :class:`VendorPlugin` of that name.
    """
    entry = _registered(name)
    try:
        plugin = entry.load()
    except Exception as error:
        raise PluginError(f"the {name} plugin ({entry.value}) cannot be loaded: {error}") from error
    if not isinstance(plugin, VendorPlugin):
        raise PluginError(f"{entry.value} is not a VendorPlugin")
    if plugin.name != name:
        raise PluginError(
            f"{entry.value} is registered as {name!r} but calls itself {plugin.name!r}"
        )
    if not issubclass(plugin.client, VendorClient):
        raise PluginError(f"the client of the {name} plugin is not a VendorClient")
    return plugin


def record_shape(vendor: str) -> RecordShape:
    """The record shape of an installed vendor: the lookup :func:`~scimbridge.mapping.load_mapping` takes.

    :raises UnknownVendor: when no installed plugin registers it.
    """
    return vendor_plugin(vendor).record_shape


def client_for(target: Target) -> VendorClient:
    """A new client of the target's vendor tenant."""
    return vendor_plugin(target.vendor).client(target)


def forget_plugins() -> None:
    """Discover the installed plugins again (after installing one in a running process)."""
    _entry_points.cache_clear()
    vendor_plugin.cache_clear()
