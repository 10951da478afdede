"""The two ways a mapping fails: a broken file (at start) and a user it cannot map (at write time)."""

from __future__ import annotations


class MappingFileError(Exception):
    """A mapping file that cannot be used; the message names the file, the line and the key.

    Start-up stops on it, so that a typo in a mapping never surfaces as a
    failed delivery hours later. The file is named by its ``label`` (see
    :func:`scimbridge.mapping.load_mapping`), never by a server path.
    """

    def __init__(self, label: str, line: int | None, key: str, message: str):
        self.label = label
        self.line = line
        self.key = key
        self.message = message
        where = f"{label}, line {line}" if line is not None else label
        super().__init__(f"{where}, key {key}: {message}")


class UnmappableUser(Exception):
    """A valid SCIM user that this vendor's mapping cannot turn into a valid record.

    The SCIM layer answers it with 400 ``invalidValue`` (RFC 7644 §3.12), so
    the identity provider shows the admin ``detail``, which names the SCIM
    attribute to fix. ``detail`` never quotes attribute values: a value may be
    a password.
    """

    def __init__(self, attribute: str, detail: str):
        self.attribute = attribute
        self.detail = detail
        super().__init__(detail)
