"""What request handlers reach: settings, repositories and actors of this node."""

from dataclasses import dataclass, field

from app.config import Settings
from app.protocol.ports import Clock


@dataclass
class NodeContext:
    settings: Settings
    storage: object          # storage.Storage (typed loosely: app/http does not import storage)
    key_manager: object      # actors.key_manager.KeyManager
    rate_limiter: object     # actors.rate_limiter.RateLimiter
    clock: Clock
    node_id: str
    ready: bool = False
    started_at_ms: int = 0
    version: str = "0.1.0"
    extras: dict = field(default_factory=dict)
