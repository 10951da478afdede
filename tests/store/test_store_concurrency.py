"""Several threads (as a threaded WSGI server runs requests) write to one SQLite file safely."""

from concurrent.futures import ThreadPoolExecutor

from scim2_models import UniquenessException

from scimbridge.store import SqlStorage

THREADS = 6
USERS_PER_THREAD = 5


def test_concurrent_requests_all_commit(
    sqlite_database, provider, user_type, user_model, user_search
):
    storage = SqlStorage(sqlite_database, "chat", provider=provider)

    def request(thread: int) -> None:
        for number in range(USERS_PER_THREAD):
            with sqlite_database.transaction(), storage.operation():
                storage.create(user_type, user_model(user_name=f"user-{thread}-{number}"))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(request, range(THREADS)))

    assert storage.search([user_type], user_search()).total == THREADS * USERS_PER_THREAD


def test_concurrent_creations_of_one_user_name_let_one_win(
    sqlite_database, provider, user_type, user_model, user_search
):
    storage = SqlStorage(sqlite_database, "chat", provider=provider)

    def request(_thread: int) -> str:
        try:
            storage.create(user_type, user_model(user_name="bjensen"))
        except UniquenessException:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = sorted(pool.map(request, range(THREADS)))

    assert outcomes == ["conflict"] * (THREADS - 1) + ["created"]
