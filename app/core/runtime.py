"""The interpreter tuned for a server whose reads share one event loop with batch work."""

import gc
import sys

from app.core.config import Settings

_frozen = False


def tune_interpreter(settings: Settings) -> None:
    """Called when the app has started. Threads hand the interpreter back to the event loop every
    `THREAD_SWITCH_INTERVAL_MS` rather than every 5 ms. And, once per process, what is loaded by
    then (modules, routes, schemas: about 240,000 objects) is frozen out of the garbage
    collector's passes, so that a 10,000-row batch's short-lived objects no longer make a full
    pass walk them all: a pause of up to 150 ms for every read on the worker, measured with
    `bench/sheet_under_push.py`."""
    global _frozen
    sys.setswitchinterval(settings.thread_switch_interval_ms / 1000)
    if not _frozen:
        gc.collect()  # what is garbage by then is collected, not frozen with the rest
        gc.freeze()
        _frozen = True
