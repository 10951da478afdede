"""What a vendor plugin's tests use: a live bridge in front of an emulator, and the contract.

Importing this package needs pytest (the ``test`` extra). A plugin's test module
subclasses :class:`VendorContract` (docs/adding-a-vendor.md); the bridge's own
tests run the same class against the built-in vendors.
"""

from scimbridge.testing.contract import VendorContract
from scimbridge.testing.databases import POSTGRES_URL, postgres_schema
from scimbridge.testing.live import Clock, LiveBridge, live_config, scim_user, start_live

__all__ = [
    "POSTGRES_URL",
    "Clock",
    "LiveBridge",
    "VendorContract",
    "live_config",
    "postgres_schema",
    "scim_user",
    "start_live",
]
