"""structlog configuration: once per process, JSON by default, stdlib loggers routed through it.

Log lines carry identifiers (signal_id, topic, partition, offset), never signal text: the
text may still hold personal data until intake has scrubbed it, and logs travel further
than topics do.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from services.common.settings import LoggingSettings

# Libraries that are chatty at INFO (per-message access logs) and would drown our events.
_QUIET_LOGGERS = ("aiokafka", "faststream", "faststream.access", "uvicorn.access", "asyncio")


def configure_logging(service: str, settings: LoggingSettings | None = None) -> None:
    settings = settings or LoggingSettings()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _add_service(service),
    ]
    renderer: Any
    if settings.format == "console":
        # Plain tracebacks: the default rich ones print local variables, and a local may hold
        # the unscrubbed text of a signal.
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    else:
        renderer = structlog.processors.JSONRenderer()

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))


def _add_service(service: str) -> Any:
    def processor(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return processor
