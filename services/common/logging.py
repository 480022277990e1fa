"""structlog configuration: once per process, JSON by default, stdlib loggers routed through it.

Log lines carry identifiers (signal_id, topic, partition, offset), never signal text: the
text may still hold personal data until intake has scrubbed it, and logs travel further
than topics do.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any, Final

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
        redact_personal_fields,
        render_exception_without_values,
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
            # First, so that a line below the level costs no timestamp, no rendering: intake
            # logs per request, and its per-request CPU is what its throughput is made of.
            structlog.stdlib.filter_by_level,
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


# --------------------------------------------------------------------------------------------
# Nothing a person typed reaches a log line
# --------------------------------------------------------------------------------------------

_WITHHELD: Final = "[weggelaten]"
PERSONAL_FIELDS: Final = frozenset(
    ("text", "scrubbed_text", "input", "input_value", "body", "content", "payload", "value")
)
"""Log keys that could carry what a reporter typed. Their values are withheld wherever they
come from: a careless ``log.info(..., text=...)`` or a library's record."""


def redact_personal_fields(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in PERSONAL_FIELDS.intersection(event_dict):
        event_dict[key] = _WITHHELD
    return event_dict


def render_exception_without_values(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Render ``exc_info`` ourselves, leaving out the values validation errors carry.

    pydantic's ValidationError prints ``input_value=...`` for every failing field: the
    unscrubbed text of a signal, if building an event from it fails. uvicorn logs an
    unhandled exception with its traceback, so without this the text would reach the log.
    Frames are listed without local variables; a validation error is shown as its locations
    and error types only. Other exceptions keep their message: ours never put data in one.
    """
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if isinstance(exc_info, BaseException):
        exc: BaseException | None = exc_info
    elif isinstance(exc_info, tuple):
        exc = exc_info[1]
    else:
        exc = sys.exc_info()[1]
    if exc is not None:
        event_dict["exception"] = "".join(_format_chain(exc, set()))
    return event_dict


def _format_chain(exc: BaseException, seen: set[int]) -> list[str]:
    seen.add(id(exc))
    lines: list[str] = []
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        lines += _format_chain(cause, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        lines += _format_chain(context, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    lines.append("Traceback (most recent call last):\n")
    lines += _frames(exc.__traceback__)
    lines.append(f"{type(exc).__module__}.{type(exc).__qualname__}: {_safe_message(exc)}\n")
    return lines


def _frames(tb: TracebackType | None) -> list[str]:
    stack = traceback.StackSummary.extract(traceback.walk_tb(tb), capture_locals=False)
    return list(stack.format())


def _safe_message(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ == "ValidationError" and callable(errors):
        # pydantic: where and what kind, never the input
        found = errors(include_input=False, include_url=False, include_context=False)
        where = "; ".join(
            f"{'.'.join(str(part) for part in e.get('loc', ())) or '(root)'}: {e.get('type')}"
            for e in found
        )
        return f"{len(found)} validation error(s) for {getattr(exc, 'title', '?')}: {where}"
    return str(exc)
