"""What every vendor client does alike, each against its vendor's emulator."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import pytest

from scimbridge.vendors.base import Action, CredentialsRefused, VendorUnavailable


def test_new_users_are_imported_with_their_vendor_ids(vendor_harness):
    client = vendor_harness.client()

    outcomes = client.deliver([vendor_harness.item(1), vendor_harness.item(2)])

    assert [outcome.key for outcome in outcomes] == ["link-1", "link-2"]
    assert all(outcome.ok and outcome.vendor_id for outcome in outcomes)
    assert vendor_harness.user(1) and vendor_harness.user(2)


def test_reimport_with_the_vendor_id_keeps_one_vendor_user(vendor_harness):
    client = vendor_harness.client()
    [again] = vendor_harness.imported(client, 1)

    [outcome] = client.deliver([again])

    assert outcome.ok
    assert outcome.vendor_id == again.vendor_id
    assert len(vendor_harness.emu.users()) == 1


def test_disable_leaves_the_user_disabled(vendor_harness):
    client = vendor_harness.client()
    [known] = vendor_harness.imported(client, 1)
    disable = vendor_harness.item(1, Action.DISABLE, vendor_id=known.vendor_id, first_import=False)

    [outcome] = client.deliver([disable])

    assert outcome.ok
    assert vendor_harness.kit.disabled(vendor_harness.user(1))


def test_remove_takes_the_user_away(vendor_harness):
    client = vendor_harness.client()
    [known] = vendor_harness.imported(client, 1)
    remove = vendor_harness.item(1, Action.REMOVE, vendor_id=known.vendor_id, first_import=False)

    [outcome] = client.deliver([remove])

    assert outcome.ok
    user = vendor_harness.user(1)
    if vendor_harness.kit.removal_keeps_user:
        assert vendor_harness.kit.disabled(user)
    else:
        assert user is None


@pytest.mark.parametrize("action", [Action.DISABLE, Action.REMOVE])
def test_deprovisioning_a_user_the_vendor_never_had_is_a_no_op(vendor_harness, action):
    client = vendor_harness.client()

    [outcome] = client.deliver([vendor_harness.item(1, action)])

    assert outcome.ok
    assert outcome.vendor_id is None
    assert vendor_harness.emu.users() == []


def test_a_first_import_delivered_twice_leaves_one_user(vendor_harness):
    client = vendor_harness.client()
    [first] = client.deliver([vendor_harness.item(1)])

    [again] = client.deliver([vendor_harness.item(1)])

    assert first.ok and again.ok
    assert again.vendor_id == first.vendor_id
    assert len(vendor_harness.emu.users()) == 1


def test_a_timed_out_first_import_then_a_deactivation_deprovisions_the_user(vendor_harness):
    """The vendor applied the import, the client timed out; the deactivation that follows,
    with no vendor id known, finds the user and deprovisions it."""
    vendor_harness.emu.fault(path=vendor_harness.kit.import_path, after="timeout", delay=1.0)
    client = vendor_harness.client(delivery={"timeout_seconds": 0.3})
    with pytest.raises(VendorUnavailable):
        client.deliver([vendor_harness.item(1)])
    time.sleep(0.1)  # ACC's asynchronous import lands 0.05 s after its 202

    [outcome] = client.deliver([vendor_harness.item(1, Action.DISABLE)])

    assert outcome.ok and outcome.vendor_id
    assert vendor_harness.kit.disabled(vendor_harness.user(1))
    assert len(vendor_harness.emu.users()) == 1


def test_disabling_a_user_removed_since_is_done(vendor_harness):
    client = vendor_harness.client()
    [known] = vendor_harness.imported(client, 1)
    client.deliver([replace(known, action=Action.REMOVE)])

    [outcome] = client.deliver([replace(known, action=Action.DISABLE)])

    assert outcome.ok
    user = vendor_harness.user(1)
    assert user is None or vendor_harness.kit.disabled(user)


def test_a_rejected_user_fails_alone_and_for_good(vendor_harness):
    """ACC drops a refused user silently after its 202 and has no job status: the client
    cannot tell it from a slow import, so it keeps checking (retryable) and the worker's
    attempt budget ends it."""
    vendor_harness.emu.reject_users([vendor_harness.kit.name(2)])
    client = vendor_harness.client()

    outcomes = client.deliver([vendor_harness.item(n) for n in (1, 2, 3)])

    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert outcomes[1].retryable is (vendor_harness.kit.vendor == "acc")
    assert outcomes[1].error
    assert vendor_harness.user(1) and vendor_harness.user(3)


def test_a_batch_larger_than_max_batch_is_split(vendor_harness):
    client = vendor_harness.client()
    client.max_batch = min(client.max_batch, 2)

    outcomes = client.deliver([vendor_harness.item(n) for n in (1, 2, 3)])

    assert all(outcome.ok for outcome in outcomes)
    assert vendor_harness.calls(vendor_harness.kit.import_path) == math.ceil(3 / client.max_batch)


def test_an_expired_token_is_renewed_once_and_the_call_succeeds(vendor_harness):
    client = vendor_harness.client()
    vendor_harness.imported(client, 1)
    if vendor_harness.kit.vendor == "rocketchat":
        # A personal access token cannot expire on demand: play the vendor's 401 instead.
        vendor_harness.emu.fault(status=401, path=vendor_harness.kit.import_path)
    else:
        vendor_harness.emu.expire_tokens()

    [outcome] = client.deliver([vendor_harness.item(2)])

    assert outcome.ok
    assert vendor_harness.user(2)


def test_a_429_raises_unavailable_with_the_vendors_wait(vendor_harness):
    vendor_harness.emu.fault(status=429, retry_after=7, path=vendor_harness.kit.import_path)
    client = vendor_harness.client()

    with pytest.raises(VendorUnavailable) as raised:
        client.deliver([vendor_harness.item(1)])

    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 7


def test_a_500_raises_unavailable(vendor_harness):
    vendor_harness.emu.fault(status=500, path=vendor_harness.kit.import_path)
    client = vendor_harness.client()

    with pytest.raises(VendorUnavailable, match="500"):
        client.deliver([vendor_harness.item(1)])


def test_a_timeout_raises_unavailable(vendor_harness):
    vendor_harness.emu.fault(delay=1.0, path=vendor_harness.kit.import_path)
    client = vendor_harness.client(delivery={"timeout_seconds": 0.2})

    with pytest.raises(VendorUnavailable, match="Timeout"):
        client.deliver([vendor_harness.item(1)])


def test_an_unreachable_vendor_raises_unavailable(vendor_harness):
    client = vendor_harness.client(base_url="http://127.0.0.1:9/unreachable")

    with pytest.raises(VendorUnavailable, match="ConnectionError"):
        client.deliver([vendor_harness.item(1)])


def test_refused_credentials_raise_credentials_refused_without_the_secrets(vendor_harness, caplog):
    """Not an outage (issue 25, item 2): waiting does not cure a wrong secret."""
    caplog.set_level(logging.DEBUG)
    wrong = {key: f"wrong-{key}-value" for key in ("client_secret", "password", "auth_token")}
    client = vendor_harness.client(
        credentials={key: wrong[key] for key in vendor_harness.emu.credentials if key in wrong}
    )

    with pytest.raises(CredentialsRefused) as raised:
        client.deliver([vendor_harness.item(1)])

    for secret in wrong.values():
        assert secret not in str(raised.value)
        assert secret not in caplog.text


def test_secrets_and_tokens_never_reach_errors_or_logs(vendor_harness, caplog):
    caplog.set_level(logging.DEBUG)
    client = vendor_harness.client()
    vendor_harness.imported(client, 1)
    vendor_harness.emu.fault(status=500, path=vendor_harness.kit.import_path)

    with pytest.raises(VendorUnavailable) as raised:
        client.deliver([vendor_harness.item(2)])

    for secret in vendor_harness.secrets(client):
        assert secret not in str(raised.value)
        assert secret not in caplog.text
    assert "Authorization" not in caplog.text
    assert "X-Auth-Token" not in caplog.text
