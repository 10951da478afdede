"""The vendors: the interface a vendor plugin implements, and the five built in.

A plugin (:mod:`scimbridge.vendors.plugin`) gives the bridge a client
(:class:`~scimbridge.vendors.base.VendorClient`; most subclass
:class:`~scimbridge.vendors.http.HttpVendorClient`), a record schema and a
default mapping. The built-in vendors are one module each (``confide``, ``acc``,
``aria``, ``rocketchat``, ``cloudshell``), registered through the same entry
points as any other plugin; nothing here imports them.
"""

from scimbridge.vendors.plugin import (
    UnknownVendor,
    VendorPlugin,
    client_for,
    record_shape,
    vendor_names,
    vendor_plugin,
)

__all__ = [
    "UnknownVendor",
    "VendorPlugin",
    "client_for",
    "record_shape",
    "vendor_names",
    "vendor_plugin",
]
