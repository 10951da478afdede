"""The emulator keeps the vendor's document (README.md, Part 1), strictly.

These are the rules a client could get wrong and still look fine against a lenient
fake: an import never updates without ``update: true``, rows land only when their
job runs, one bad row refuses the whole request, the batch and rate limits hold,
and only HTTP Basic gets a token. Each test talks to the emulator's Flask app
directly, as the vendor's API, with no bridge in between.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from scimbridge_bulkimport.emulator import BulkImportEmulator
from scimbridge_emulators import build_app

BASE = "/api/v1"
CLIENT = BulkImportEmulator.demo_credentials


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


class Vendor:
    """The emulator, its app's test client, and a token of the demo client."""

    def __init__(self, **options: Any):
        self.emulator = BulkImportEmulator(**options)
        self.http: FlaskClient = build_app(self.emulator).test_client()
        self.headers = {"Authorization": f"Bearer {self.token()}"}

    def token(self, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        answer = self.http.post(
            f"{BASE}/oauth/token",
            data=form,
            headers=basic(CLIENT["client_id"], CLIENT["client_secret"]),
        )
        assert answer.status_code == 200, answer.json
        return str(answer.json["access_token"])

    def post_import(self, rows: list[dict[str, Any]]) -> Any:
        return self.http.post(f"{BASE}/users/import", json={"users": rows}, headers=self.headers)

    def post_csv(self, text: str) -> Any:
        return self.http.post(
            f"{BASE}/users/import",
            data=text.encode(),
            headers={**self.headers, "Content-Type": "text/csv; charset=utf-8"},
        )

    def job(self, job_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{BASE}/jobs/{job_id}", headers=self.headers)
        assert answer.status_code == 200, answer.json
        return dict(answer.json)

    def run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Import the rows and return the job's results once it completed."""
        answer = self.post_import(rows)
        assert answer.status_code == 202, answer.json
        return self.results(answer.json["job_id"])

    def results(self, job_id: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 5
        while (job := self.job(job_id))["status"] != "completed":
            assert time.monotonic() < deadline, job
            time.sleep(0.01)
        return list(job["results"])

    def account(self, email: str) -> dict[str, Any] | None:
        return next((user for user in self.emulator.users() if user["email"] == email), None)


# -- "never updates without update: true": what makes "never inherit" testable ---------------


def test_importing_an_existing_email_without_update_fails_exists_and_changes_nothing():
    api = Vendor(job_seconds=0)
    [created] = api.run([{"email": "ada@example.com", "first_name": "Ada", "groups": ["x"]}])
    assert created["status"] == "created"
    before = api.account("ada@example.com")
    [refused] = api.run([{"email": "ADA@example.com", "first_name": "Eve", "groups": []}])
    assert refused["status"] == "failed"
    assert refused["error"]["code"] == "exists"
    assert api.account("ada@example.com") == before, "an import without update changed it"


def test_an_inactive_account_still_holds_its_email():
    api = Vendor(job_seconds=0)
    [created] = api.run([{"email": "ada@example.com"}])
    api.run([{"id": created["id"], "update": True, "active": False}])
    [again] = api.run([{"email": "ada@example.com"}])
    assert again["error"]["code"] == "exists"
    assert api.account("ada@example.com")["active"] is False


def test_update_with_an_id_changes_only_that_account_and_never_creates():
    api = Vendor(job_seconds=0)
    [ada] = api.run([{"email": "ada@example.com", "first_name": "Ada"}])
    [updated] = api.run([{"id": ada["id"], "update": True, "first_name": "Augusta"}])
    assert updated == {**updated, "status": "updated", "id": ada["id"]}
    assert api.account("ada@example.com")["first_name"] == "Augusta"
    [missing] = api.run([{"id": "usr_nobody", "update": True, "email": "new@example.com"}])
    assert missing["error"]["code"] == "not_found"
    assert api.account("new@example.com") is None


def test_an_update_cannot_take_an_email_another_account_holds():
    api = Vendor(job_seconds=0)
    _, bob = api.run([{"email": "ada@example.com"}, {"email": "bob@example.com"}])
    [moved] = api.run([{"id": bob["id"], "update": True, "email": "Ada@example.com"}])
    assert moved["error"]["code"] == "exists"
    assert api.account("bob@example.com")["id"] == bob["id"]


def test_update_without_an_id_updates_the_account_of_the_email_or_creates_one():
    api = Vendor(job_seconds=0)
    [ada] = api.run([{"email": "ada@example.com"}])
    [taken, new] = api.run(
        [
            {"email": "ada@example.com", "update": True, "last_name": "L"},
            {"email": "cy@x.org", "update": True},
        ]
    )
    assert (taken["status"], taken["id"]) == ("updated", ada["id"])
    assert new["status"] == "created"


# -- asynchronous jobs ---------------------------------------------------------------------------


def test_rows_land_only_when_their_job_runs_and_results_come_only_then():
    api = Vendor(job_seconds=0.3)
    accepted = api.post_import([{"email": "ada@example.com"}])
    assert accepted.status_code == 202
    assert accepted.headers["Location"].endswith(f"/jobs/{accepted.json['job_id']}")
    early = api.job(accepted.json["job_id"])
    assert early["status"] in ("queued", "running") and early["results"] == []
    assert api.emulator.users() == []
    [result] = api.results(accepted.json["job_id"])
    assert result["status"] == "created"
    assert api.account("ada@example.com") is not None


def test_a_failed_job_applies_nothing():
    api = Vendor(job_seconds=0)
    api.emulator.fail_jobs()
    accepted = api.post_import([{"email": "ada@example.com"}])
    deadline = time.monotonic() + 5
    while (job := api.job(accepted.json["job_id"]))["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
    assert job["status"] == "failed" and job["results"] == []
    assert api.emulator.users() == []


def test_an_unknown_job_is_404():
    api = Vendor()
    answer = api.http.get(f"{BASE}/jobs/job_nope", headers=api.headers)
    assert answer.status_code == 404
    assert answer.json["code"] == "not_found"


# -- one bad row refuses the request; the batch limit ---------------------------------------------


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"email": "ada@example.com"}, {"email": "not-an-email"}], "email"),
        ([{"email": "ada@example.com", "id": "usr_1"}], "id"),
        ([{"email": "ada@example.com"}, {"email": "ADA@example.com"}], "email"),
        ([{"email": "ada@example.com", "role": "admin"}], None),
        ([{"first_name": "no email"}], "email"),
    ],
)
def test_one_bad_row_refuses_the_whole_request_with_422(rows, field):
    api = Vendor(job_seconds=0)
    answer = api.post_import(rows)
    assert answer.status_code == 422
    assert answer.json["code"] == "validation_failed"
    assert field is None or any(error["field"] == field for error in answer.json["errors"])
    assert api.emulator.users() == []
    assert api.emulator.jobs == {}


def test_more_rows_than_the_limit_are_refused_with_413():
    api = Vendor(job_seconds=0)
    rows = [{"email": f"user{n}@example.com"} for n in range(501)]
    answer = api.post_import(rows)
    assert answer.status_code == 413
    assert answer.json["code"] == "too_many_rows"
    assert api.post_import(rows[:500]).status_code == 202


def test_an_empty_import_and_another_media_type_are_refused():
    api = Vendor()
    assert api.post_import([]).status_code == 422
    plain = api.http.post(
        f"{BASE}/users/import", data="x", headers={**api.headers, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415


# -- CSV -------------------------------------------------------------------------------------------


def test_csv_groups_an_empty_cell_clears_them_and_a_missing_column_keeps_them():
    api = Vendor(job_seconds=0)
    accepted = api.post_csv("email,groups,active\r\nada@example.com,admins;staff,true\r\n")
    [created] = api.results(accepted.json["job_id"])
    assert api.account("ada@example.com")["groups"] == ["admins", "staff"]
    kept = api.post_csv(f"id,update,active\r\n{created['id']},true,false\r\n")
    api.results(kept.json["job_id"])
    account = api.account("ada@example.com")
    assert (account["groups"], account["active"]) == (["admins", "staff"], False)
    cleared = api.post_csv(f"id,update,groups\r\n{created['id']},true,\r\n")
    api.results(cleared.json["job_id"])
    assert api.account("ada@example.com")["groups"] == []


@pytest.mark.parametrize(
    "text",
    [
        "email,active\r\nada@example.com,yes\r\n",  # booleans are true or false
        "email,role\r\nada@example.com,admin\r\n",  # unknown column
        "email,email\r\nada@example.com,ada@example.com\r\n",  # repeated column
        "email,first_name\r\nada@example.com\r\n",  # a line without every column
    ],
)
def test_csv_that_breaks_the_format_is_refused_with_422(text):
    api = Vendor(job_seconds=0)
    assert api.post_csv(text).status_code == 422
    assert api.emulator.users() == []


# -- lookups ---------------------------------------------------------------------------------------


def test_lookups_are_exact_case_insensitive_and_at_most_100_values():
    api = Vendor(job_seconds=0)
    api.run([{"email": "ada@example.com"}, {"email": "adam@example.com"}])
    found = api.http.get(f"{BASE}/users?email=ADA@example.com", headers=api.headers).json
    assert [user["email"] for user in found["users"]] == ["ada@example.com"]
    many = "&".join(f"email=u{n}@example.com" for n in range(101))
    assert api.http.get(f"{BASE}/users?{many}", headers=api.headers).status_code == 400


def test_the_listing_pages_with_an_opaque_cursor():
    api = Vendor(job_seconds=0)
    api.run([{"email": f"user{n}@example.com"} for n in range(5)])
    first = api.http.get(f"{BASE}/users?limit=3", headers=api.headers).json
    second = api.http.get(
        f"{BASE}/users?limit=3&cursor={first['next_cursor']}", headers=api.headers
    ).json
    assert len(first["users"]) == 3 and len(second["users"]) == 2
    assert second["next_cursor"] is None
    assert api.http.get(f"{BASE}/users?cursor=bogus", headers=api.headers).status_code == 400
    assert api.http.get(f"{BASE}/users?limit=201", headers=api.headers).status_code == 400


# -- authentication and the rate limit -------------------------------------------------------------


def test_only_http_basic_gets_a_token():
    api = Vendor()
    in_form = api.http.post(
        f"{BASE}/oauth/token",
        data={"grant_type": "client_credentials", **CLIENT},
    )
    assert in_form.status_code == 401
    assert in_form.json["error"] == "invalid_client"
    wrong = api.http.post(
        f"{BASE}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(CLIENT["client_id"], "wrong"),
    )
    assert wrong.status_code == 401


def test_calls_need_a_live_token_with_the_right_scope():
    api = Vendor()
    anonymous = api.http.get(f"{BASE}/users")
    assert anonymous.status_code == 401
    assert "invalid_token" in anonymous.headers["WWW-Authenticate"]
    reader = {"Authorization": f"Bearer {api.token('users:read')}"}
    assert api.http.get(f"{BASE}/users", headers=reader).status_code == 200
    write = api.http.post(
        f"{BASE}/users/import", json={"users": [{"email": "a@b.c"}]}, headers=reader
    )
    assert write.status_code == 403
    api.emulator.expire_tokens()
    assert api.http.get(f"{BASE}/users", headers=api.headers).status_code == 401


def test_the_rate_limit_counts_refused_calls_and_says_when_to_come_back():
    api = Vendor(rate_limit_calls=3, rate_limit_seconds=60)
    answers = [api.http.get(f"{BASE}/users", headers=api.headers) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert 55 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert answers[-1].json["code"] == "rate_limited"
    assert api.token()  # the token endpoint is not counted
