"""Leases held by actors that do cluster-wide work on one node at a time."""

import contextlib

import trio

RELEASE_TIMEOUT = 2.0


async def release_quietly(leases, name: str, holder: str) -> None:
    """Hand a lease back on the way out so another node takes over now, not when it lapses.

    Shielded, because it runs while the actor is being cancelled; best effort, because if the
    database is gone too the lease lapses by itself after its duration.
    """
    with (trio.CancelScope(shield=True), trio.move_on_after(RELEASE_TIMEOUT),
          contextlib.suppress(Exception)):
        await leases.release(name, holder)
