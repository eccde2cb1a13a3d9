"""frontend/throttle.py: failed logins per username within a window."""

from frontend.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_attempt_waits_until_the_oldest_failure_leaves_the_window():
    clock = Clock()
    throttle = LoginThrottle(max_failures=5, window=300, clock=clock)
    for second in range(5):
        assert throttle.retry_after("alice") == 0
        clock.now = 1000.0 + second
        throttle.failed("alice")
    assert throttle.retry_after("alice") == 297   # the first failure (t=1000) ages out at 1300
    clock.now = 1300.0
    assert throttle.retry_after("alice") == 0


def test_usernames_are_counted_apart_and_case_insensitively():
    throttle = LoginThrottle(max_failures=2, window=60, clock=Clock())
    throttle.failed("Alice")
    throttle.failed("alice")
    assert throttle.retry_after("ALICE") > 0
    assert throttle.retry_after("bob") == 0


def test_a_success_clears_the_failures():
    throttle = LoginThrottle(max_failures=2, window=60, clock=Clock())
    throttle.failed("alice")
    throttle.succeeded("alice")
    throttle.failed("alice")
    assert throttle.retry_after("alice") == 0


def test_memory_is_bounded():
    throttle = LoginThrottle(max_failures=1, window=60, clock=Clock(), max_tracked=3)
    for name in ["a", "b", "c", "d"]:
        throttle.failed(name)
    assert throttle.retry_after("a") == 0          # forgotten to make room
    assert throttle.retry_after("d") > 0
