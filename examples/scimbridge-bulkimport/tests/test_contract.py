"""The BulkImport plugin against scimbridge's vendor contract (docs/adding-a-vendor.md).

The contract serves a bridge in front of the plugin's emulator and asserts what the
vendor ends up holding. The vendor's documented rate limit (60 requests a minute)
stays as it is; jobs run 0.05 s after their 202 and the client polls every 0.05 s, so a
delivery costs an import and a poll or two, not the twenty polls of the contract's
default 0.01 s interval.
"""

from __future__ import annotations

from typing import Any

from scimbridge.testing import VendorContract


class TestBulkImport(VendorContract):
    vendor = "bulkimport"
    account_field = "email"
    account_id_field = "id"
    import_path = "users/import"
    expiring_tokens = True
    """OAuth client-credentials tokens of 15 minutes; the emulator takes ``token_ttl_seconds``."""
    emulator_options = {"job_seconds": 0.05}
    target_options = {"poll_interval_seconds": 0.05}

    def is_deprovisioned(self, account: dict[str, Any] | None) -> bool:
        """Deactivated (``active: false``), or deleted by a mapping that removes accounts."""
        return account is None or account["active"] is False


class TestBulkImportCsv(TestBulkImport):
    """The same contract with the client sending CSV files (``options.format: csv``)."""

    target_options = {**TestBulkImport.target_options, "format": "csv"}
