"""scim2-server's own contract for storages, run against SqlStorage (on every backend of conftest)."""

from scim2_server.testing import ScimStorageContract


class TestSqlStorageFollowsTheContract(ScimStorageContract):
    """The ``storage`` and ``provider`` fixtures come from conftest.py."""
