"""structlog set-up: JSON in production, console in development, a closed set of dotted events.

No secret, token or key is ever passed to a logger; the redaction processor below is a second
line of defence that masks members whose names say they hold one.
"""

import logging
import sys

import structlog

from app.config import LogSettings

_SENSITIVE = ("secret", "password", "token", "private", "authorization", "jwk")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def _redact(_logger, _name, event: dict) -> dict:
    for key in list(event):
        if key != "event" and any(word in key.lower() for word in _SENSITIVE):
            event[key] = "***"
    return event


def configure_logging(settings: LogSettings, stream=None) -> None:
    stream = stream or sys.stderr
    renderer = (structlog.processors.JSONRenderer() if settings.format == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.level]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library; keep their chatter (SQL text) out.
    logging.basicConfig(stream=stream, level=logging.WARNING, force=True)
    for name in ("tortoise", "hypercorn.error", "hypercorn.access", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
