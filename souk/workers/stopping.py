"""A worker asked to stop (SIGTERM from a deploy or `souk up`, Ctrl-C) tells its pool
processes, so that a long run (deliveries, embeddings, competitor checks, each up to
about 50 s) ends after the batch in hand instead of at its time budget.

Celery's warm shutdown waits for the tasks under way; without this, stopping a worker
took as long as the longest run left, past `souk up`'s and Docker's grace, and the kill
that followed could cut a delivery between the platform's acceptance and the row
marked sent (a push sent twice). Work left over stays due and the next run takes it.

The flag is shared memory made when this module is imported: by the worker's main
process as it loads the tasks, before its pool forks, so every pool process has it.
The main process sets it in Celery's `worker_shutting_down` (its signal handler): a
plain store, safe there.
"""

from __future__ import annotations

import ctypes
import multiprocessing
from typing import Any

from celery.signals import worker_shutting_down

_STOPPING = multiprocessing.get_context("fork").RawValue(ctypes.c_bool, False)


def stopping() -> bool:
    """Whether this process's worker is stopping: take no new batch."""
    return bool(_STOPPING.value)


@worker_shutting_down.connect
def _tell_the_pool(**_: Any) -> None:
    _STOPPING.value = True
