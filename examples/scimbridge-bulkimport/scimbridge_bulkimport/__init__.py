"""scimbridge-bulkimport: a vendor plugin for products that import a file of users over HTTP.

The package gives scimbridge one :class:`~scimbridge.vendors.VendorPlugin`,
:data:`PLUGIN`, registered in this package's ``pyproject.toml`` under the entry-point
group ``scimbridge.vendors`` as ``bulkimport``. The bridge imports this module the
first time a target names ``vendor: bulkimport``; the emulator is imported only when
one is started (``scimbridge emulate bulkimport``, the tests). README.md holds the
vendor's API document the client and the emulator follow.
"""

from __future__ import annotations

from scimbridge.vendors import VendorPlugin
from scimbridge_bulkimport.client import BulkImportClient

__version__ = "0.1.0"

PLUGIN = VendorPlugin.packaged(
    __name__,
    "bulkimport",
    "BulkImport JSON/CSV over HTTP",
    BulkImportClient,
    emulator="scimbridge_bulkimport.emulator:BulkImportEmulator",
    documentation="examples/scimbridge-bulkimport/README.md",
)
"""What the bridge loads through the ``bulkimport`` entry point."""

__all__ = ["PLUGIN", "BulkImportClient"]
