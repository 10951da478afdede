"""Users named in several scripts, and the account keys a mapping gives them.

``scimbridge mapping check`` warns when a mapping can give a user an account key (a field
the vendor keeps unique, or identifies an account by) that is empty or punctuation alone:
Rocket.Chat's default once cleaned ``山田太郎@例え.jp`` down to the user name ``-``, and
every CJK, Cyrillic or Arabic user of a tenant to the same few dashes.

The check samples rather than reads the file: whether a chain of transforms (a split,
a regular expression, a table, a plugin's own mapping) leaves any letter of a name in Han,
Arabic or Thai script cannot be told from the transforms' names, while mapping one user
per script says so of any mapping, in the terms the vendor would be sent. Each sample
user is written the way identity providers send such a tenant's users (a userName that
is an email address in the script, with an internationalised domain, and the name's
parts); every candidate of a ``first_available`` key is looked at, not only the first,
since the delivery takes a later one when the vendor holds the earlier. A sample the
mapping refuses is reported too: that user would get no account at all. Names in Latin
script are not sampled: the existing tests of each mapping cover them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scimbridge.mapping.context import MappingContext
from scimbridge.mapping.errors import UnmappableUser
from scimbridge.mapping.mapping import Mapping

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


@dataclass(frozen=True)
class Sample:
    """One person of a script: the userName (an email address) and the name's parts."""

    script: str
    user_name: str
    given_name: str
    family_name: str

    def user(self) -> dict[str, Any]:
        """The SCIM User an identity provider would send for this person."""
        return {
            "schemas": [USER_SCHEMA],
            "userName": self.user_name,
            "externalId": self.user_name,
            "name": {"givenName": self.given_name, "familyName": self.family_name},
            "displayName": f"{self.given_name} {self.family_name}",
            "emails": [{"value": self.user_name, "type": "work", "primary": True}],
            "active": True,
        }

    def context(self) -> MappingContext:
        """A first import, with a stable id of the form the bridge gives (32 hex digits)."""
        return MappingContext(stable_id=hashlib.sha256(self.user_name.encode()).hexdigest()[:32])


SAMPLES = (
    Sample("Japanese", "山田太郎@例え.jp", "太郎", "山田"),
    Sample("Chinese", "李小龙@例子.中国", "小龙", "李"),
    Sample("Korean", "김민준@예시.한국", "민준", "김"),
    Sample("Cyrillic", "иван.петров@пример.рф", "Иван", "Петров"),
    Sample("Greek", "γιώργος@παράδειγμα.ελ", "Γιώργος", "Παπαδόπουλος"),
    Sample("Arabic", "محمد@مثال.مصر", "محمد", "علي"),
    Sample("Hebrew", "דוד@דוגמה.ישראל", "דוד", "כהן"),
    Sample("Devanagari", "अमित@उदाहरण.भारत", "अमित", "शर्मा"),
    Sample("Thai", "สมชาย@ตัวอย่าง.ไทย", "สมชาย", "ใจดี"),
)


@dataclass(frozen=True)
class KeyProblem:
    """A sample user a mapping gives an unusable account key, or no record at all."""

    sample: Sample
    field: str | None
    """The key field at fault; None when the mapping refuses the user."""
    value: str
    """The key's value, or why the user is refused."""

    def __str__(self) -> str:
        who = f"{self.sample.user_name} ({self.sample.script})"
        if self.field is None:
            return f"refuses {who}: {self.value}"
        return f"{self.field} {self.value!r} for {who}"


def unusable_keys(mapping: Mapping, keys: Iterable[str]) -> list[KeyProblem]:
    """Per sample user, each value of a ``keys`` field (every candidate of a
    ``first_available`` one) that holds no letter or digit of any script, and each sample
    the mapping refuses; empty when every sample gets usable keys.

    :param keys: the record fields that identify an account or must be unique at the
        vendor (a vendor client's ``account_keys`` and ``unique_fields``).
    """
    fields = sorted(set(keys))
    problems: list[KeyProblem] = []
    for sample in SAMPLES:
        try:
            mapped = mapping.apply(sample.user(), (), sample.context())
        except UnmappableUser as refused:
            problems.append(KeyProblem(sample, None, refused.detail))
            continue
        for field in fields:
            values = [mapped.record.get(field)]
            if field in mapped.choices:
                values += mapped.choices[field].all()
            problems += [
                KeyProblem(sample, field, value)
                for value in dict.fromkeys(_strings(values))
                if not any(char.isalnum() for char in value)
            ]
    return problems


def _strings(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from _strings(value)
