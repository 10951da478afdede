"""The pacer and the rate limits each client declares, on a clock the tests move by hand."""

from __future__ import annotations

import itertools

import pytest
from scimbridge_emulators import demo_credentials, demo_options

from scimbridge.config import Target
from scimbridge.vendors import client_for, vendor_plugin
from scimbridge.vendors.base import VendorUnavailable
from scimbridge.vendors.pacing import (
    SHORT_WAIT_SECONDS,
    WRITES,
    Pacer,
    RateLimit,
    configured_limits,
)

WRITES_LIMIT = RateLimit("writes", 3, 10.0, methods=WRITES, path_prefix="/admin/")
READS_LIMIT = RateLimit("reads", 5, 10.0, methods=frozenset({"GET"}), path_prefix="/admin/")
PER_ROUTE = RateLimit("per_route", 2, 60.0, path_prefix="/api/v1/", per_route=True)
MARGIN = WRITES_LIMIT.margin


class Clock:
    """Seconds that pass only when a test (or a wait) says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def pacer(clock: Clock, *limits: RateLimit) -> Pacer:
    return Pacer(limits or (WRITES_LIMIT, READS_LIMIT), "vendor", clock)


def call(pacer: Pacer, clock: Clock, method: str = "POST", path: str = "/admin/users") -> None:
    """A call as a client makes it: admitted, then logged when answered."""
    pacer.admit(method, path, clock.wait)
    pacer.sent(method, path)


# -- the rolling window ------------------------------------------------------------------------


def test_calls_within_the_limit_go_at_once(clock):
    paced = pacer(clock)
    for _ in range(3):
        call(paced, clock)
    assert clock.waits == []


def test_the_call_beyond_the_limit_waits_for_the_oldest_to_age_out_plus_the_margin(clock):
    paced = pacer(clock, RateLimit("writes", 3, 1.0))
    for _ in range(3):
        call(paced, clock)
        clock.now += 0.2
    call(paced, clock)
    assert clock.waits == [pytest.approx(1.0 + RateLimit("w", 3, 1.0).margin - 0.6)]


def test_no_span_of_the_window_ever_holds_more_than_the_limit(clock):
    """A burst, a trickle, a burst: the log of when calls went never breaks the rolling rule."""
    paced = pacer(clock, RateLimit("writes", 5, 1.5))
    sent: list[float] = []
    for gap in itertools.islice(itertools.cycle([0.0, 0.0, 0.3, 0.05, 0.9]), 60):
        clock.now += gap
        paced.admit("POST", "/x", clock.wait)
        sent.append(clock.now)
        paced.sent("POST", "/x")
    assert all(later - earlier >= 1.5 for earlier, later in zip(sent, sent[5:], strict=False))


def test_the_margin_is_a_twentieth_of_a_second_and_a_hundredth_of_the_window():
    assert RateLimit("x", 1, 60.0).margin == pytest.approx(0.65)
    assert RateLimit("x", 1, 2.0).margin == pytest.approx(0.07)


def test_a_limit_counts_only_the_requests_it_covers(clock):
    paced = pacer(clock)
    for _ in range(3):
        call(paced, clock, "PATCH")
    call(paced, clock, "GET")  # a read: the writes' limit does not count it
    call(paced, clock, "POST", "/authentication/v2/token")  # outside construction/admin
    assert clock.waits == []
    assert paced.delay("DELETE", "/admin/users/1")[0] == pytest.approx(10.0 + MARGIN)


def test_a_per_route_limit_counts_each_method_and_path_apart(clock):
    paced = pacer(clock, PER_ROUTE)
    for _ in range(2):
        call(paced, clock, "GET", "/api/v1/users.list")
    assert paced.delay("GET", "/api/v1/users.list")[0] > 0
    assert paced.delay("GET", "/api/v1/users.info")[0] == 0
    assert paced.delay("POST", "/api/v1/users.list")[0] == 0


def test_a_shared_limit_counts_every_covered_request_together(clock):
    paced = pacer(clock)
    call(paced, clock, "POST", "/admin/a")
    call(paced, clock, "PATCH", "/admin/b")
    call(paced, clock, "DELETE", "/admin/c")
    assert paced.delay("PUT", "/admin/d")[0] > 0


# -- short waits and postponements -------------------------------------------------------------


def test_a_short_wait_is_waited_in_place(clock):
    paced = pacer(clock, RateLimit("writes", 1, 1.5))
    call(paced, clock)
    call(paced, clock)
    assert clock.waits == [pytest.approx(1.5 + RateLimit("w", 1, 1.5).margin)]
    assert clock.waits[0] <= SHORT_WAIT_SECONDS


def test_a_longer_wait_postpones_the_call_without_waiting(clock):
    paced = pacer(clock)
    for _ in range(3):
        call(paced, clock)
    with pytest.raises(VendorUnavailable, match=r"writes: 3 calls per 10 s") as raised:
        paced.admit("POST", "/admin/users", clock.wait)
    assert raised.value.retry_after == pytest.approx(10.0 + MARGIN)
    assert clock.waits == []


def test_a_caller_may_accept_a_longer_wait_in_place(clock):
    paced = pacer(clock)
    for _ in range(3):
        call(paced, clock)
    paced.admit("POST", "/admin/users", clock.wait, longest_wait=30.0)
    assert clock.waits == [pytest.approx(10.0 + MARGIN)]


def test_a_sequence_fits_when_none_of_its_waits_is_long(clock):
    paced = pacer(clock, RateLimit("reads", 10, 1.5))
    assert paced.fits("GET", "/x", 25)  # three windows, each wait about 1.5 s
    for _ in range(10):
        call(paced, clock, "GET", "/x")
    assert paced.fits("GET", "/x", 10)
    assert not pacer(clock, RateLimit("reads", 10, 60.0)).fits("GET", "/x", 11)


# -- what the vendor says -----------------------------------------------------------------------


def test_a_reset_the_vendor_announces_blocks_the_limit_until_then(clock):
    paced = pacer(clock)
    call(paced, clock)
    paced.block("POST", "/admin/users", 25.0)
    assert paced.delay("PATCH", "/admin/users/1") == (
        pytest.approx(25.0 + MARGIN),
        "writes: the vendor's reset",
    )
    assert paced.delay("GET", "/admin/users")[0] == 0  # the reads' limit is another count


def test_a_refusal_without_a_reset_blocks_one_whole_window(clock):
    paced = pacer(clock)
    paced.block("POST", "/admin/users", None)
    assert paced.delay("POST", "/admin/users")[0] == pytest.approx(10.0 + MARGIN)


def test_a_later_reset_never_shortens_an_earlier_longer_one(clock):
    paced = pacer(clock)
    paced.block("POST", "/admin/users", 30.0)
    paced.block("POST", "/admin/users", 1.0)
    assert paced.delay("POST", "/admin/users")[0] == pytest.approx(30.0 + MARGIN)


def test_a_request_no_limit_covers_is_never_held_back(clock):
    paced = Pacer((), "confide", clock)
    for _ in range(1000):
        call(paced, clock)
    paced.block("POST", "/admin/users", 60.0)
    assert clock.waits == [] and paced.delay("POST", "/admin/users")[0] == 0


# -- what a target configures --------------------------------------------------------------------

DECLARED = (WRITES_LIMIT, READS_LIMIT)


def test_without_the_option_the_documented_limits_apply():
    assert configured_limits("t", DECLARED, None) == DECLARED


def test_the_option_changes_calls_seconds_or_both():
    writes, reads = configured_limits(
        "t", DECLARED, {"writes": {"calls": 30}, "reads": {"calls": 60, "seconds": 2}}
    )
    assert (writes.calls, writes.seconds, writes.methods) == (30, 10.0, WRITES)
    assert (reads.calls, reads.seconds) == (60, 2.0)


def test_false_turns_a_limit_off():
    assert configured_limits("t", DECLARED, {"writes": False}) == (READS_LIMIT,)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ([], r"options.rate_limits must map a rate limit's name \(writes, reads\)"),
        ({"write": False}, r"options.rate_limits.write: unknown rate limit; known: writes, reads"),
        ({"writes": True}, r"options.rate_limits.writes must be false or a mapping"),
        ({"writes": {}}, r"options.rate_limits.writes must be false or a mapping"),
        ({"writes": {"per": 5}}, r"options.rate_limits.writes must be false or a mapping"),
        ({"writes": {"calls": 0}}, r"options.rate_limits.writes.calls must be a whole number"),
        ({"writes": {"calls": 2.5}}, r"options.rate_limits.writes.calls must be a whole number"),
        ({"writes": {"calls": True}}, r"options.rate_limits.writes.calls must be a whole number"),
        (
            {"writes": {"seconds": 0}},
            r"options.rate_limits.writes.seconds must be a positive number",
        ),
        (
            {"writes": {"seconds": "1m"}},
            r"options.rate_limits.writes.seconds must be a positive number",
        ),
    ],
)
def test_a_wrong_option_names_the_target_and_the_option(option, message):
    with pytest.raises(ValueError, match=r"^target t: " + message):
        configured_limits("t", DECLARED, option)


def test_a_vendor_without_documented_limits_takes_no_option():
    with pytest.raises(ValueError, match="none: this vendor documents no rate limit"):
        configured_limits("t", (), {"writes": False})


def target(vendor: str, **options: object) -> Target:
    return Target.model_validate(
        {
            "name": f"my-{vendor}",
            "vendor": vendor,
            "base_url": "https://vendor.example.com",
            "credentials": demo_credentials(vendor),
            "options": {**demo_options(vendor), **options},
            "inbound": {"bearer_tokens": ["inbound-token-0123456789"]},
        }
    )


def test_each_client_declares_the_documented_limits():
    declared = {
        vendor: vendor_plugin(vendor).client.rate_limits
        for vendor in ("confide", "acc", "aria", "rocketchat", "cloudshell")
    }
    assert {
        vendor: [limit.describe() for limit in limits] for vendor, limits in declared.items()
    } == {
        "confide": [],
        "acc": ["writes: 100 calls per 60 s, shared", "reads: 600 calls per 60 s, shared"],
        "aria": [],
        "rocketchat": ["per_route: 10 calls per 60 s, per route"],
        "cloudshell": [],
    }


def test_a_client_paces_at_the_targets_numbers():
    client = client_for(target("rocketchat", rate_limits={"per_route": {"calls": 30}}))
    [limit] = client.pacer.limits
    assert (limit.calls, limit.seconds) == (30, 60.0)


def test_an_account_exempt_from_the_limit_is_not_paced():
    """Rocket.Chat's ``api-bypass-rate-limit``: the target says so, the client stops pacing."""
    client = client_for(target("rocketchat", rate_limits={"per_route": False}))
    assert client.pacer.limits == ()


def test_a_wrong_option_fails_the_clients_construction():
    with pytest.raises(ValueError, match=r"^target my-acc: options.rate_limits.reads.calls"):
        client_for(target("acc", rate_limits={"reads": {"calls": -1}}))
