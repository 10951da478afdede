"""What a vendor plugin's tests use: a live bridge in front of an emulator, and the contract.

Importing this package needs pytest (the ``test`` extra). A plugin's test module
subclasses :class:`VendorContract` (docs/adding-a-vendor.md); the bridge's own
tests run the same class against the built-in vendors. Its own tests write through SCIM
with the same helpers (``create_user``, ``set_active``...), all importable from here.
"""

from scimbridge.testing.contract import Teardowns, VendorContract
from scimbridge.testing.databases import POSTGRES_URL, postgres_schema
from scimbridge.testing.live import Clock, LiveBridge, live_config, scim_user, start_live
from scimbridge.testing.vendor_facts import (
    create_user,
    delivery_state,
    join_group,
    patch,
    set_active,
    statuses,
)

__all__ = [
    "POSTGRES_URL",
    "Clock",
    "LiveBridge",
    "Teardowns",
    "VendorContract",
    "create_user",
    "delivery_state",
    "join_group",
    "live_config",
    "patch",
    "postgres_schema",
    "scim_user",
    "set_active",
    "start_live",
    "statuses",
]
