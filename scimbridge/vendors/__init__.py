"""The vendors: the interface a vendor plugin implements, and the five built in.

A plugin (:mod:`scimbridge.vendors.plugin`) gives the bridge a client
(:class:`~scimbridge.vendors.base.VendorClient`; most subclass
:class:`~scimbridge.vendors.http.HttpVendorClient`), a record schema and a
default mapping (the built-in vendors' are the package ``scimbridge.vendors.mappings``,
built from the repository's top-level ``mappings/``). The built-in vendors are one
module each (``confide``, ``acc``, ``aria``, ``rocketchat``, ``cloudshell``),
registered through the same entry points as any other plugin; nothing here imports
them.

This package is a plugin's public interface (docs/adding-a-vendor.md): every name a
client needs is importable from ``scimbridge.vendors`` itself, so a plugin never reaches
into the modules behind it (``scimbridge.config``, ``scimbridge.mapping``), which may
move. An emulator's pieces are in ``scimbridge_emulators``, a test's in
``scimbridge.testing``.
"""

from scimbridge.config import Target
from scimbridge.mapping.context import Action
from scimbridge.vendors.base import (
    AccountPage,
    CredentialsRefused,
    DeliveryItem,
    Interrupted,
    Outcome,
    VendorAccount,
    VendorClient,
    VendorError,
    VendorUnavailable,
    merge_managed,
)
from scimbridge.vendors.http import (
    ERROR_TEXT_KEYS,
    PAYLOAD_REJECTIONS,
    HttpVendorClient,
    Isolated,
    RunDirectory,
    StaticCredentialsClient,
    TokenLoginClient,
    VendorRejected,
    chunked,
    compact,
    error_text,
    failed,
    json_object,
    json_of,
    nothing_to_deprovision,
    polling,
    postponed,
    retry_after_seconds,
    send_isolating,
    succeeded,
)
from scimbridge.vendors.oauth import OAuthClientCredentialsClient
from scimbridge.vendors.pacing import WRITES, RateLimit
from scimbridge.vendors.plugin import (
    PluginError,
    UnknownVendor,
    VendorPlugin,
    client_for,
    record_shape,
    vendor_names,
    vendor_plugin,
)
from scimbridge.vendors.settings import Setting, Settings

__all__ = [
    "ERROR_TEXT_KEYS",
    "PAYLOAD_REJECTIONS",
    "WRITES",
    "AccountPage",
    "Action",
    "CredentialsRefused",
    "DeliveryItem",
    "HttpVendorClient",
    "Interrupted",
    "Isolated",
    "OAuthClientCredentialsClient",
    "Outcome",
    "PluginError",
    "RateLimit",
    "RunDirectory",
    "Setting",
    "Settings",
    "StaticCredentialsClient",
    "Target",
    "TokenLoginClient",
    "UnknownVendor",
    "VendorAccount",
    "VendorClient",
    "VendorError",
    "VendorPlugin",
    "VendorRejected",
    "VendorUnavailable",
    "chunked",
    "client_for",
    "compact",
    "error_text",
    "failed",
    "json_object",
    "json_of",
    "merge_managed",
    "nothing_to_deprovision",
    "polling",
    "postponed",
    "record_shape",
    "retry_after_seconds",
    "send_isolating",
    "succeeded",
    "vendor_names",
    "vendor_plugin",
]
