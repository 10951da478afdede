"""The vendor API clients, one module per vendor; :func:`client_for` picks a target's."""

from __future__ import annotations

from scimbridge.config import Target
from scimbridge.vendors.acc import AccClient
from scimbridge.vendors.aria import AriaClient
from scimbridge.vendors.base import VendorClient
from scimbridge.vendors.cloudshell import CloudShellClient
from scimbridge.vendors.confide import ConfideClient
from scimbridge.vendors.rocketchat import RocketChatClient

CLIENTS: dict[str, type[VendorClient]] = {
    client.vendor: client
    for client in (ConfideClient, AccClient, AriaClient, RocketChatClient, CloudShellClient)
}
"""The client class of each vendor key a target may name (``config.VENDORS``)."""


def client_for(target: Target) -> VendorClient:
    """A new client of the target's vendor tenant."""
    return CLIENTS[target.vendor](target)


__all__ = ["CLIENTS", "client_for"]
