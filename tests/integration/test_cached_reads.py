"""The gateway answers a read the mood service has cached without asking it (kit/cache.py
CacheReader): proven by asking while the service is down. A write makes every cached
read of the user unreachable before its 201, so the next read sees it."""

from tests.support.flows import shift, wait_until


def test_a_cached_read_is_answered_by_the_gateway_while_the_service_is_down(user, stack):
    assert user.post("/api/v1/mood/shift", json=shift(1)).status_code == 201
    cached = user.get("/api/v1/mood/shifts", params={"limit": 5})
    assert cached.status_code == 200 and len(cached.json()["items"]) == 1
    shift_id = cached.json()["items"][0]["shift_id"]
    assert user.get(f"/api/v1/mood/shifts/{shift_id}").status_code == 200
    stack.stop_one("mood_tracking")
    try:
        again = user.get("/api/v1/mood/shifts", params={"limit": 5})
        assert again.status_code == 200 and again.json() == cached.json()   # from the cache
        assert user.get(f"/api/v1/mood/shifts/{shift_id}").json()["shift_id"] == shift_id
        missed = user.get("/api/v1/mood/shifts", params={"limit": 6})         # never read: not cached
        assert missed.status_code == 503
    finally:
        stack.start_one("mood_tracking")
        stack.wait_ready(timeout=60, names=["mood_tracking"])


def test_a_write_is_seen_by_the_next_read(user, other_user):
    for level in (1, -1, 2):
        # Filled by the service, then rendered by the gateway and kept, then sent as kept.
        reads = [user.get("/api/v1/mood/shifts", params={"limit": 50}) for _ in range(3)]
        assert len({read.content for read in reads}) == 1
        before = reads[0].json()["items"]
        assert user.post("/api/v1/mood/shift", json=shift(level)).status_code == 201
        after = user.get("/api/v1/mood/shifts", params={"limit": 50}).json()["items"]
        assert len(after) == len(before) + 1 and after[0]["current"]["level"] == level
    assert other_user.get("/api/v1/mood/shifts", params={"limit": 50}).json()["items"] == []


def test_a_cached_read_stays_the_users_own(user, other_user):
    assert user.post("/api/v1/mood/shift", json=shift(3)).status_code == 201
    shift_id = wait_until(lambda: user.get("/api/v1/mood/shifts").json()["items"])[0]["shift_id"]
    assert user.get(f"/api/v1/mood/shifts/{shift_id}").status_code == 200   # cached now
    assert other_user.get(f"/api/v1/mood/shifts/{shift_id}").status_code == 404
