"""The local PostgreSQL and Redis servers: scratch databases, their processes, their pinning."""

import os
import secrets

from benchmarks.processes import all_processes, program, run, set_process_affinity

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_URL = "redis://127.0.0.1:6379"
# Redis database number for the peer's keys; each peer instance uses its own key prefix.
REDIS_DB = 11
STORE_PROCESS_NAMES = {"postgres": "postgres", "redis": "redis-server"}


def scratch_name(purpose: str) -> str:
    return f"tessera_bench_{purpose}_{secrets.token_hex(4)}"


# --- PostgreSQL --------------------------------------------------------------------------------

def postgres_url(database: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def psql(sql: str, database: str = "postgres") -> str:
    argv = [program("psql"), "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql]
    return run(argv, timeout=60).stdout.strip()


def create_database(name: str) -> str:
    psql(f'CREATE DATABASE "{name}"')
    return postgres_url(name)


def drop_database(name: str) -> None:
    # WITH (FORCE), PostgreSQL 13+: a server that is still being stopped holds no lock on it.
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str:
    return psql("SHOW server_version")


# --- Redis -------------------------------------------------------------------------------------

def redis_url() -> str:
    return f"{REDIS_URL}/{REDIS_DB}"


def delete_redis_prefix(prefix: str) -> None:
    # One server-side script, so no key list travels; KEYS is fine on a scratch database.
    script = ("for _, key in ipairs(redis.call('KEYS', ARGV[1])) do "
              "redis.call('UNLINK', key) end return 0")
    run([program("redis-cli"), "-u", redis_url(), "EVAL", script, "0", prefix + "*"], timeout=60)


def redis_version() -> str:
    for line in run([program("redis-cli"), "-u", REDIS_URL, "INFO", "server"]).stdout.splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


# --- Processes and pinning ---------------------------------------------------------------------

def store_root_pids(store: str) -> list[int]:
    """The top process of a store (the postmaster, redis-server): its tree holds all of the
    store's work, including PostgreSQL backends that come and go."""
    name = STORE_PROCESS_NAMES.get(store)
    if name is None:
        return []
    everyone = {stat.pid: stat for stat in all_processes()}
    return [stat.pid for stat in everyone.values() if stat.comm == name
            and getattr(everyone.get(stat.ppid), "comm", None) != name]


class StorePinning:
    """Moves every process of the local stores to chosen CPUs; `restore` puts back the
    affinity each store had when first moved (new PostgreSQL backends inherit the postmaster's,
    so they are covered too)."""

    def __init__(self) -> None:
        self._original: dict[str, set[int]] = {}

    def pin(self, store: str, cpus: set[int]) -> None:
        for root in store_root_pids(store):
            self._original.setdefault(store, os.sched_getaffinity(root))
        self._move(store, cpus)

    def restore(self) -> None:
        for store, cpus in self._original.items():
            self._move(store, cpus)
        self._original.clear()

    @staticmethod
    def _move(store: str, cpus: set[int]) -> None:
        name = STORE_PROCESS_NAMES[store]
        for stat in all_processes():
            if stat.comm == name:
                set_process_affinity(stat.pid, cpus)
