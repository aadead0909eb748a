"""The read model of one app: built at start, rebuilt in the background when the content moves, swapped
atomically.

One :class:`ReadModelHolder` per app (``app.state.read_model``), never module-global: two apps over two
stores in one process each answer from their own. A request takes :meth:`ReadModelHolder.current` once
and answers from that object alone, so no answer mixes versions; a reload replaces the reference in one
assignment while readers keep the model they took. The store is touched only to build and to notice a new
version (:meth:`check`, one small query), by :meth:`watch` every ``interval`` seconds in a worker thread;
if the store is unreachable, reads keep answering from the model in memory (readiness reports the outage).

With ``interval`` 0 (the test settings) every :meth:`current` checks the store first, so a content load
is visible to the next request; a build then happens on that request's path. Production intervals
(default 2 s) never build on a request's path, except the very first model when the store was
unreachable at start and no model exists yet.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

import anyio
from sqlalchemy.engine import Engine

from app.errors import ProblemError
from app.readmodel.build import build_read_model, model_key, read_state
from app.readmodel.cursor import CursorCodec
from app.readmodel.model import ReadModel

log = logging.getLogger("ldn_kb.readmodel")


class ReadModelHolder:
    def __init__(
        self,
        engine: Engine,
        *,
        interval: float,
        cursor_secret: str = "",
        builder: Callable[[Engine], ReadModel] = build_read_model,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.cursors = CursorCodec(cursor_secret)
        self._builder = builder
        self._model: ReadModel | None = None
        self._build_lock = threading.Lock()
        self._tried = -math.inf
        #: Models built since start (the first included).
        self.builds = 0

    # -- reads -------------------------------------------------------------------------------------------

    def current(self) -> ReadModel:
        """The model to answer from (no query, unless ``interval`` is 0 or no model was ever built)."""
        model = self._model
        if model is not None and self.interval > 0:
            return model
        if model is None and self.interval > 0 and time.monotonic() - self._tried < self.interval:
            raise self._not_ready()
        self.try_check()
        model = self._model
        if model is None:
            raise self._not_ready()
        return model

    async def get(self) -> ReadModel:
        """:meth:`current` for async routes: a check that has to query runs in a worker thread."""
        model = self._model
        if model is not None and self.interval > 0:
            return model
        return await anyio.to_thread.run_sync(self.current)

    def peek(self) -> ReadModel | None:
        """The model held now, if any (never queries)."""
        return self._model

    def held(self) -> ReadModel | None:
        """The model :meth:`current` would answer from without querying, or None (none yet, or ``interval``
        0: every answer looks at the store first)."""
        return self._model if self.interval > 0 else None

    def content_version(self) -> int:
        """The content version answers come from (-1 before a first model): the response cache's version."""
        try:
            model = self.current() if self.interval == 0 else self._model
        except ProblemError:
            return -1
        return -1 if model is None else model.content_version

    # -- refresh -----------------------------------------------------------------------------------------

    def check(self) -> bool:
        """Build and swap in a new model if the store's content moved; True if a new model was swapped in."""
        self._tried = time.monotonic()
        held = self._model
        if held is not None and model_key(self.engine, read_state(self.engine)) == held.key:
            return False
        with self._build_lock:  # one build at a time; a second caller finds the work done
            held = self._model
            if held is not None and model_key(self.engine, read_state(self.engine)) == held.key:
                return False
            model = self._builder(self.engine)
            self._model = model  # the swap: one reference assignment
            self.builds += 1
        log.info(
            "read model built",
            extra={"content_version": model.content_version, "build_ms": round(model.build_seconds * 1000, 1)},
        )
        return True

    def try_check(self) -> None:
        """:meth:`check`, keeping the model held when the store cannot answer."""
        try:
            self.check()
        except Exception:  # the store is away: keep serving the model we have; readiness reports it
            log.warning("could not refresh the read model", exc_info=True)

    async def watch(self) -> None:
        """Check every ``interval`` seconds in a worker thread until cancelled (returns at once for 0)."""
        if self.interval == 0:
            return
        while True:
            await anyio.sleep(self.interval)
            await anyio.to_thread.run_sync(self.try_check)

    @staticmethod
    def _not_ready() -> ProblemError:
        return ProblemError(
            "not-ready",
            "The knowledge base has not been loaded from the store yet; retry shortly.",
            headers={"Retry-After": "2"},
        )
