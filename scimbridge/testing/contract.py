"""The vendor contract: what every vendor plugin must do, checked against its emulator.

One base class of test methods, after scim2-server's ``ScimStorageContract``. A
plugin's test module subclasses it once, states a few facts about the vendor as
class attributes and overrides the hooks that differ::

    from scimbridge.testing import VendorContract


    class TestBulkImport(VendorContract):
        vendor = "bulkimport"
        account_field = "login"  # where emulator.users() shows the account's name
        account_id_field = "id"  # where it shows the vendor's own id
        import_path = "/v2/import"  # the call that creates users (faults are queued on it)
        import_method = "PUT"  # its method, where it is not POST

        def is_deprovisioned(self, account):
            return account is not None and account["status"] == "suspended"

Every test serves a bridge on loopback in front of the plugin's emulator
(:func:`~scimbridge.testing.live.start_live`), writes through SCIM as an IdP does,
and asserts what the vendor ends up holding, read from the emulator: the bridge's
bookkeeping alone proves nothing about the vendor. The cases where the store
decides who is "the same person" run on SQLite and on PostgreSQL
(``SCIMBRIDGE_TEST_POSTGRES_URL``, :mod:`.databases`); the others on SQLite.

The class has no ``Test`` prefix, so pytest collects only its subclasses. The
PostgreSQL cases carry the ``postgres`` marker; a project running pytest with
``--strict-markers`` registers it by loading this module as a plugin, in its
``conftest.py``: ``pytest_plugins = ["scimbridge.testing.contract"]``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from scimbridge.delivery.state import DELIVERY_STATE
from scimbridge.testing.databases import BACKENDS, POSTGRES_URL, postgres_schema
from scimbridge.testing.live import TOKEN, LiveBridge, scim_user, start_live
from scimbridge.testing.reconcile_contract import ReconcileCases
from scimbridge.testing.vendor_facts import (
    create_user,
    delivery_state,
    join_group,
    patch,
    set_active,
    statuses,
)
from scimbridge.vendors.plugin import vendor_plugin

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"

TOKEN_TTL_SECONDS = 0.5
"""The token lifetime the expiry test gives the emulator, short enough to wait out (a token
dying in the middle of a delivery is renewed like any other)."""
MOST_USERS = 1000
"""The most users the batch-splitting test creates (``max_batch + 1``), one Bulk request's
worth at the bridge's default ``max_bulk_operations``; for a vendor taking more in one call
the test lowers ``delivery.batch_size`` to :data:`SMALL_BATCH` instead, so the users take
several batches rather than make the contract slow."""
SMALL_BATCH = 25


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``postgres`` marker, for a plugin's tests loading this module as a pytest
    plugin: under ``--strict-markers`` an unregistered marker fails the collection."""
    config.addinivalue_line(
        "markers", "postgres: needs a PostgreSQL server (SCIMBRIDGE_TEST_POSTGRES_URL)"
    )


# -- Stopping a live bridge without waiting for it --------------------------------------------


class Teardowns:
    """Stops live bridges in the background, joined once the test class is done.

    Stopping a bridge waits out each server's poll interval (half a second, twice) for
    nothing a test looks at; a test's bridge and emulator serve ports of their own, so
    the next test need not wait. A failed stop is raised when the class ends.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._errors: list[Exception] = []

    def later(self, *steps: Callable[[], object]) -> None:
        """Run ``steps`` in order on a thread of their own, each even if one before failed."""

        def run() -> None:
            for step in steps:
                try:
                    step()
                except Exception as error:  # raised again by finish()
                    self._errors.append(error)

        thread = threading.Thread(target=run, name="vendor-contract-teardown", daemon=True)
        thread.start()
        self._threads.append(thread)

    def finish(self) -> None:
        for thread in self._threads:
            thread.join()
        if self._errors:
            raise self._errors[0]


# -- The contract -----------------------------------------------------------------------------


class VendorContract(ReconcileCases):
    """Subclass once per vendor plugin; set the class attributes, override the hooks that differ."""

    # -- fixtures ----------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def teardowns(cls) -> Iterator[Teardowns]:
        """The class's live bridges, stopped in the background and joined at its end."""
        teardowns = Teardowns()
        yield teardowns
        teardowns.finish()

    @pytest.fixture
    def serve(self, tmp_path: Any, teardowns: Teardowns) -> Iterator[Callable[..., LiveBridge]]:
        """``serve(database_url=None, delivery=None, **emulator_options)``: a bridge served in
        front of a new emulator of :attr:`vendor`, built with :attr:`emulator_options` and
        these, its target's ``delivery`` settings overridden by ``delivery``;
        stopped once the test is done. Each call is a bridge of its own (its own SQLite
        file when no ``database_url`` is given)."""
        self.check_facts()
        stops: list[Callable[[], None]] = []

        def serve(
            database_url: str | None = None,
            delivery: dict[str, Any] | None = None,
            **emulator_options: Any,
        ) -> LiveBridge:
            directory = tmp_path / f"bridge-{len(stops)}"
            directory.mkdir()
            live, stop = start_live(
                directory,
                self.vendor,
                database_url,
                delivery=delivery,
                options=self.target_options,
                **{**self.emulator_options, **emulator_options},
            )
            stops.append(stop)
            return live

        yield serve
        teardowns.later(*stops)

    @pytest.fixture
    def live(self, serve: Callable[..., LiveBridge]) -> LiveBridge:
        """A bridge on SQLite in front of the vendor's emulator."""
        return serve()

    @pytest.fixture(params=BACKENDS)
    def live_on(
        self, request: pytest.FixtureRequest, tmp_path: Any, teardowns: Teardowns
    ) -> Iterator[LiveBridge]:
        """The same, on each database the store runs on: who is "the same person" is the
        store's decision, and each database has its own ways of getting it wrong."""
        if request.param == "sqlite":
            yield request.getfixturevalue("serve")()
            return
        assert POSTGRES_URL is not None
        self.check_facts()
        with ExitStack() as stack:
            url = stack.enter_context(postgres_schema(POSTGRES_URL))
            live, stop = start_live(
                tmp_path,
                self.vendor,
                url,
                options=self.target_options,
                **self.emulator_options,
            )
            cleanup = stack.pop_all()
        yield live
        teardowns.later(stop, cleanup.close)  # the schema is dropped once the bridge let go

    # -- provisioning ------------------------------------------------------------------------

    def test_a_created_user_reaches_the_vendor_as_one_active_account(
        self, live: LiveBridge
    ) -> None:
        """The first thing an IdP does; the bridge learns the vendor's id of the account,
        which every later write of the user goes by."""
        ada = self.provision(live, "ada")
        live.drain()
        self.active_account_of(live, "ada")
        state = delivery_state(live, ada["id"])
        assert state["status"] == "delivered", state
        account = self.active_account_of(live, "ada")
        assert str(state["vendorId"]).lower() == str(account[self.account_id_field]).lower(), (
            "the vendor id is the vendor's own id of the account"
        )

    def test_deactivating_deprovisions_the_account_and_reactivating_makes_it_active_again(
        self, live: LiveBridge
    ) -> None:
        """``active`` false, then true again, as Okta and Entra ID send it (PATCH): one round
        trip, the account the same one where the vendor keeps a deprovisioned account."""
        ada = self.provision(live, "ada")
        live.drain()
        before = self.active_account_of(live, "ada")
        set_active(live, ada["id"], False)
        live.drain()
        assert self.is_deprovisioned(self.account_of(live, "ada"))
        assert delivery_state(live, ada["id"])["status"] == "delivered"
        set_active(live, ada["id"], True)
        live.drain()
        after = self.active_account_of(live, "ada")
        assert delivery_state(live, ada["id"])["status"] == "delivered"
        if self.recreated_keeps_account_id:
            assert after[self.account_id_field] == before[self.account_id_field]

    def test_deleting_the_user_deprovisions_the_account(self, live: LiveBridge) -> None:
        """A vendor that keeps the account shows it deprovisioned; one that deletes shows
        none (:meth:`is_deprovisioned` of None)."""
        ada = self.provision(live, "ada")
        live.drain()
        assert live.scim("DELETE", f"/Users/{ada['id']}").status_code == 204
        live.drain()
        assert self.is_deprovisioned(self.account_of(live, "ada"))

    # -- the same person, and never another -------------------------------------------------

    def test_a_recreated_user_with_the_same_external_id_is_the_same_vendor_account(
        self, live_on: LiveBridge
    ) -> None:
        """An IdP that unassigns and reassigns a person deletes the SCIM user and creates a
        new one with the same ``externalId``: the vendor must see the same person again,
        active, not a second account (where it keeps accounts, the same one)."""
        live = live_on
        john = self.provision(live, "john", externalId="okta-JOHN")
        live.drain()
        before = self.active_account_of(live, "john")
        assert live.scim("DELETE", f"/Users/{john['id']}").status_code == 204
        live.drain()
        again = self.provision(live, "john", externalId="okta-JOHN")
        live.drain()
        after = self.active_account_of(live, "john")
        assert delivery_state(live, again["id"])["status"] == "delivered"
        if self.recreated_keeps_account_id:
            assert after[self.account_id_field] == before[self.account_id_field]

    def test_a_new_person_with_a_reused_user_name_never_gets_the_former_account(
        self, live_on: LiveBridge
    ) -> None:
        """john (okta-OLD) is provisioned and deleted, then another john (okta-NEW-PERSON)
        comes. Where the vendor keeps names unique the former account must stay as it was
        and the new user fail, naming its holder; elsewhere the new person gets an account
        of their own."""
        live = live_on
        old = self.provision(live, "john", externalId="okta-OLD")
        live.drain()
        old_id = self.active_account_of(live, "john")[self.account_id_field]
        assert live.scim("DELETE", f"/Users/{old['id']}").status_code == 204
        live.drain()
        former = self.account_of(live, "john")
        assert self.is_deprovisioned(former)
        new = self.provision(live, "john", externalId="okta-NEW-PERSON")
        live.drain()
        state = delivery_state(live, new["id"])
        if self.reused_name_conflicts:
            assert self.account_of(live, "john") == former, "the former account was changed"
            assert state["status"] == "failed", state
            assert "okta-OLD" in (state.get("lastError") or ""), state
        else:
            account = self.active_account_of(live, "john")
            assert account[self.account_id_field] != old_id
            assert state["status"] == "delivered", state

    def test_two_people_with_one_account_key_in_one_batch_get_one_account_and_a_conflict(
        self, live_on: LiveBridge
    ) -> None:
        """Two people the mapping gives one account key (an email, a user name) are written
        together: one holds the account, the other fails naming the holder, and never
        reaches the account; deprovisioning the other leaves the holder's account alone."""
        if self.sharing_attributes is None:
            pytest.skip(f"no two SCIM users can share {self.vendor}'s account key")
        live = live_on
        first, second = (
            self.provision(live, "shared", **attributes) for attributes in self.sharing_attributes
        )
        live.drain()
        holder = self.active_account_of(live, "shared")
        state = delivery_state(live, second["id"])
        assert state["status"] == "failed", state
        assert self.sharing_attributes[0]["externalId"] in (state.get("lastError") or ""), state
        set_active(live, second["id"], False)
        live.drain()
        assert self.active_account_of(live, "shared") == holder
        assert delivery_state(live, first["id"])["status"] == "delivered"

    def test_an_identity_change_leaves_no_old_account_active(self, live_on: LiveBridge) -> None:
        """The IdP renames a person (userName and email): afterwards the vendor holds one
        active account of theirs, under the new name, whatever the vendor can rename; and
        none once the user is deleted."""
        live = live_on
        ada = self.provision(live, "ada")
        live.drain()
        renamed = scim_user("ada.new")
        patch(
            live,
            f"/Users/{ada['id']}",
            {"op": "replace", "path": "userName", "value": renamed["userName"]},
            {"op": "replace", "path": "emails", "value": renamed["emails"]},
        )
        live.drain()
        active = [user for user in live.emulator.users() if not self.is_deprovisioned(user)]
        account = self.active_account_of(live, self.renamed("ada", "ada.new"))
        assert active == [account], f"{self.vendor} holds other active accounts: {active}"
        assert delivery_state(live, ada["id"])["status"] == "delivered"
        assert live.scim("DELETE", f"/Users/{ada['id']}").status_code == 204
        live.drain()
        assert [user for user in live.emulator.users() if not self.is_deprovisioned(user)] == []

    # -- a write the vendor applied although the bridge never heard back ---------------------

    def test_a_timed_out_first_import_then_a_deactivation_leaves_the_account_deprovisioned(
        self, live: LiveBridge
    ) -> None:
        """The vendor creates the account but its answer comes after the client gave up;
        the deactivation that follows must reach that account, not be lost or duplicated."""
        live.emulator.fault(
            after="timeout", delay=1.5, method=self.import_method, path=self.import_path
        )
        ada = self.provision(live, "ada")
        live.worker.run_once()
        set_active(live, ada["id"], False)
        live.drain()
        assert self.is_deprovisioned(self.account_of(live, "ada"))
        assert delivery_state(live, ada["id"])["status"] == "delivered"

    def test_a_first_import_delivered_twice_leaves_one_account(self, live: LiveBridge) -> None:
        """The vendor applies the import and the connection drops before the answer: the
        client sends it again, and the vendor must still hold one account."""
        live.emulator.fault(after="disconnect", method=self.import_method, path=self.import_path)
        ada = self.provision(live, "ada")
        live.drain()
        self.active_account_of(live, "ada")  # asserts one account, never two
        state = delivery_state(live, ada["id"])
        assert state["status"] == "delivered", state
        assert state["vendorId"], state

    # -- nothing is lost ---------------------------------------------------------------------

    def test_writes_arrive_through_429_500_and_timeouts(self, live: LiveBridge) -> None:
        """Trouble at the vendor delays writes, never loses or duplicates one: creations
        through a 429, a 500, a 503 and a timeout on the import call, then a deactivation
        through two more errors on whatever it calls."""
        names = ("ada", "bob", "cy")
        users = {name: self.provision(live, name) for name in names}
        live.emulator.fault(status=429, retry_after=1, path=self.import_path)
        live.emulator.fault(status=500, path=self.import_path)
        live.emulator.fault(status=503, path=self.import_path)
        live.emulator.fault(delay=1.5, path=self.import_path)  # served after the client gave up
        live.drain()
        set_active(live, users["bob"]["id"], False)
        live.emulator.fault(status=500)  # whatever the deactivation calls first, twice
        live.emulator.fault(status=503)
        live.drain()
        assert {429, 500, 503} <= statuses(live, self.import_path)
        self.active_account_of(live, "ada")
        self.active_account_of(live, "cy")
        assert self.is_deprovisioned(self.account_of(live, "bob"))
        for user in users.values():
            assert delivery_state(live, user["id"])["status"] == "delivered"

    def test_an_expired_token_is_renewed_and_the_write_arrives(
        self, serve: Callable[..., LiveBridge]
    ) -> None:
        """The emulator's tokens live :data:`TOKEN_TTL_SECONDS`; the one the client got for
        the first write has expired by the second, which must arrive all the same."""
        if not self.expiring_tokens:
            pytest.skip(f"{self.vendor}'s credentials do not expire (expiring_tokens)")
        live = serve(token_ttl_seconds=TOKEN_TTL_SECONDS)
        self.provision(live, "ada")
        live.drain()
        time.sleep(TOKEN_TTL_SECONDS + 0.1)  # the token the client holds has expired
        bob = self.provision(live, "bob")
        live.drain()
        self.active_account_of(live, "ada")
        self.active_account_of(live, "bob")
        assert delivery_state(live, bob["id"])["status"] == "delivered"

    def test_no_secret_reaches_the_log(
        self, live: LiveBridge, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Not the target's credentials, the tokens the client holds, nor the SCIM bearer
        token, whatever the client logs on its way through a token the vendor revoked early
        (a 401 the client renews the token on) and a vendor error."""
        caplog.set_level(logging.DEBUG)
        ada = self.provision(live, "ada")
        live.drain()
        if self.expiring_tokens:
            live.emulator.expire_tokens()
        else:
            live.emulator.fault(status=401)  # whatever the update calls first
        live.emulator.fault(status=500)
        patch(live, f"/Users/{ada['id']}", {"op": "replace", "path": "displayName", "value": "A"})
        live.drain()
        assert 401 in statuses(live), "the client never met a refused token"
        secrets = [TOKEN, *self._secrets(live)]
        leaked = [secret for secret in secrets if secret in caplog.text]
        assert leaked == []

    def test_more_users_than_one_call_carries_arrive_complete(
        self, serve: Callable[..., LiveBridge]
    ) -> None:
        """``max_batch + 1`` users (:attr:`~scimbridge.vendors.base.VendorClient.max_batch`,
        the most one import call carries), created in one Bulk request, take more than
        one call; every one of them arrives, once, and is delivered. A vendor taking more
        than :data:`MOST_USERS` in one call gets ``delivery.batch_size`` :data:`SMALL_BATCH`
        and one user more: the users then take more than one batch."""
        most = vendor_plugin(self.vendor).client.max_batch
        small = most + 1 > MOST_USERS
        live = serve(delivery={"batch_size": SMALL_BATCH} if small else None)
        count = (SMALL_BATCH if small else most) + 1
        names = [f"user{n:04d}" for n in range(count)]
        operations = [
            {"method": "POST", "path": "/Users", "bulkId": name, "data": scim_user(name)}
            for name in names
        ]
        response = live.scim("POST", "/Bulk", {"schemas": [BULK], "Operations": operations})
        assert response.status_code == 200, response.text
        assert {operation["status"] for operation in response.json()["Operations"]} == {"201"}
        live.drain()
        held = Counter(str(user.get(self.account_field)).lower() for user in live.emulator.users())
        accounts = {name: held[self.account_name(name).lower()] for name in names}
        not_once = {name: found for name, found in accounts.items() if found != 1}
        assert not_once == {}, f"{self.vendor} accounts of the users not held once: {not_once}"
        status = f"{DELIVERY_STATE}:status"
        listed = live.scim("GET", f"/Users?attributes={status}&count={count}").json()
        undelivered = [
            user for user in listed["Resources"] if user[DELIVERY_STATE]["status"] != "delivered"
        ]
        assert listed["totalResults"] == count and undelivered == []

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _secrets(live: LiveBridge) -> list[str]:
        """Every secret of the configuration (:meth:`~scimbridge.config.BridgeConfig.secrets`:
        the credentials' values and the inbound tokens), and what each of the worker's
        clients says it holds (an HTTP client's tokens)."""
        found = list(live.bridge.config.secrets())
        for client in live.worker.clients.values():
            found += getattr(client, "secrets", list)()
        return [secret for secret in found if secret]


__all__ = [
    "BACKENDS",
    "Teardowns",
    "VendorContract",
    "create_user",
    "delivery_state",
    "join_group",
    "patch",
    "set_active",
    "statuses",
]
