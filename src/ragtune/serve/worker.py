"""One thread owns the models; requests wait for it in a bounded queue instead of piling up.

A 135M model on two CPU cores answers a handful of questions a second at best, and torch already uses every core
for one forward pass, so running requests side by side only makes each of them slower. The server therefore hands
every piece of model or store work to a single worker thread:

- the queue has a fixed capacity; a request that finds it full is refused at once (the app answers 503 with a
  Retry-After estimated from the recent time per job) rather than waiting for minutes;
- waiting non-streaming answers of the same strategy are taken together and answered in one batch, which is where a
  transformers backend gets its throughput;
- urgent jobs (document uploads, deletes, searches) go ahead of waiting answers: they are short, and a user who just
  uploaded a document expects the next question to see it;
- a request whose client went away is skipped when its turn comes, and a stream whose client went away stops
  generating at the next token.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item type of a batch
R = TypeVar("R")


class QueueFullError(Exception):
    """The queue is at capacity; `retry_after` is the estimated wait in whole seconds."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"the model queue is full ({waiting} requests waiting); retry after {retry_after} s")
        self.waiting = waiting
        self.retry_after = retry_after


class WorkerStoppedError(Exception):
    """The worker was stopped (the server is shutting down)."""


@dataclass
class _Job:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    urgent: bool
    run: Callable[[], Any] | None = None  # a single job
    batch_key: Hashable | None = None  # batchable jobs: same key, same batch function
    batch_fn: Callable[[list[Any]], Sequence[Any]] | None = None
    item: Any = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def deliver(self, result: Any = None, error: BaseException | None = None) -> None:
        def _set() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody is waiting any more
            self.loop.call_soon_threadsafe(_set)


@dataclass(frozen=True)
class WorkerStats:
    waiting: int
    capacity: int
    busy: bool
    jobs_done: int
    seconds_per_job: float  # recent average time per request, batching included


class ModelWorker:
    """A bounded queue in front of one thread. Submit from async code; jobs run in the worker thread."""

    def __init__(self, capacity: int, batch_size: int = 8, name: str = "ragtune-model") -> None:
        if capacity < 1:
            raise ValueError("queue capacity must be at least 1")
        self.capacity = capacity
        self.batch_size = max(1, batch_size)
        self._name = name
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False
        self._done = 0
        self._seconds_per_job = 1.0  # an exponential moving average, for Retry-After

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, fail what is still waiting, and wait for the job in hand to finish."""
        with self._cond:
            self._stopping = True
            pending = list(self._jobs)
            self._jobs.clear()
            self._cond.notify_all()
        for job in pending:
            job.deliver(error=WorkerStoppedError("the server is shutting down"))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- submitting ------------------------------------------------------------------------------------------------
    def stats(self) -> WorkerStats:
        with self._cond:
            return WorkerStats(len(self._jobs), self.capacity, self._busy, self._done, self._seconds_per_job)

    def retry_after(self) -> int:
        """Seconds until a new request would probably find room: the queue's length times the time per job."""
        with self._cond:
            waiting = len(self._jobs) + (1 if self._busy else 0)
            estimate = waiting * self._seconds_per_job
        return int(min(600, max(1, math.ceil(estimate))))

    def _enqueue(self, job: _Job) -> None:
        with self._cond:
            if self._stopping or self._thread is None:
                raise WorkerStoppedError("the model worker is not running")
            if len(self._jobs) >= self.capacity:
                waiting = len(self._jobs)
                estimate = (waiting + 1) * self._seconds_per_job
                raise QueueFullError(waiting, int(min(600, max(1, math.ceil(estimate)))))
            if job.urgent:
                # ahead of every waiting answer, behind earlier urgent jobs (they keep their order)
                index = 0
                while index < len(self._jobs) and self._jobs[index].urgent:
                    index += 1
                self._jobs.insert(index, job)
            else:
                self._jobs.append(job)
            self._cond.notify()

    async def _wait(self, job: _Job) -> Any:
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled.set()  # the client went away: skip the job if it has not started
            raise

    async def run(self, fn: Callable[[], T], *, urgent: bool = False) -> T:
        """Run `fn` in the worker thread and return its result (its exception is raised here)."""
        loop = asyncio.get_running_loop()
        job = _Job(loop=loop, future=loop.create_future(), urgent=urgent, run=fn)
        self._enqueue(job)
        result: T = await self._wait(job)
        return result

    async def run_batched(self, key: Hashable, item: I, batch_fn: Callable[[list[I]], Sequence[R]]) -> R:
        """Run `batch_fn([item, ...])` in the worker, together with other waiting items of the same `key`.

        `batch_fn` must return one result per item, in order; an exception fails every item of the batch.
        """
        loop = asyncio.get_running_loop()
        job = _Job(loop=loop, future=loop.create_future(), urgent=False, batch_key=key, batch_fn=batch_fn, item=item)
        self._enqueue(job)
        result: R = await self._wait(job)
        return result

    def stream(self, produce: Callable[[Callable[[Any], None], Callable[[], bool]], T]) -> StreamHandle[T]:
        """Queue `produce(emit, cancelled)`; it runs in the worker and calls `emit(piece)` for every piece.

        Raises QueueFullError at once when the queue is full. Iterate the handle for the pieces, then await
        `handle.result()` for what `produce` returned. `produce` should stop when `cancelled()` turns true.
        """
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
        handle: StreamHandle[T] = StreamHandle(pieces)

        def emit(piece: Any) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(pieces.put_nowait, (False, piece))

        def run() -> T:
            try:
                return produce(emit, handle.cancelled.is_set)
            finally:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(pieces.put_nowait, (True, None))

        job = _Job(loop=loop, future=loop.create_future(), urgent=False, run=run, cancelled=handle.cancelled)
        handle.future = job.future
        self._enqueue(job)
        return handle

    # -- the worker thread -----------------------------------------------------------------------------------------
    def _take(self) -> list[_Job] | None:
        with self._cond:
            while not self._jobs and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            first = self._jobs.popleft()
            taken = [first]
            if first.batch_key is not None:
                rest: deque[_Job] = deque()
                while self._jobs:
                    job = self._jobs.popleft()
                    if len(taken) < self.batch_size and job.batch_key == first.batch_key and not job.urgent:
                        taken.append(job)
                    else:
                        rest.append(job)
                self._jobs = rest
            self._busy = True
            return taken

    def _loop(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            live = [job for job in taken if not job.cancelled.is_set()]  # nobody waits for the others
            start = time.perf_counter()
            if live:
                self._execute(live)
            elapsed = time.perf_counter() - start
            with self._cond:
                self._busy = False
                if live:
                    self._done += len(live)
                    self._seconds_per_job = 0.8 * self._seconds_per_job + 0.2 * elapsed / len(live)

    @staticmethod
    def _execute(jobs: list[_Job]) -> None:
        first = jobs[0]
        try:
            if first.batch_fn is not None:
                results = list(first.batch_fn([job.item for job in jobs]))
                if len(results) != len(jobs):
                    raise RuntimeError(f"batch function returned {len(results)} results for {len(jobs)} items")
                for job, result in zip(jobs, results, strict=True):
                    job.deliver(result)
            else:
                assert first.run is not None
                first.deliver(first.run())
        except BaseException as exc:  # delivered to the waiting request, which turns it into an HTTP error
            for job in jobs:
                job.deliver(error=exc)


class StreamHandle(Generic[T]):
    """The pieces of a streamed job as an async iterator, then its result."""

    def __init__(self, pieces: asyncio.Queue[tuple[bool, Any]]) -> None:
        self._pieces = pieces
        self.cancelled = threading.Event()
        self.future: asyncio.Future[Any] | None = None

    def cancel(self) -> None:
        self.cancelled.set()

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            get = asyncio.ensure_future(self._pieces.get())
            assert self.future is not None
            # a job that failed before it started streaming must not leave us waiting for pieces forever
            done, _ = await asyncio.wait({get, self.future}, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                while not self._pieces.empty():
                    finished, piece = self._pieces.get_nowait()
                    if finished:
                        return
                    yield piece
                return
            finished, piece = get.result()
            if finished:
                return
            yield piece

    async def result(self) -> T:
        assert self.future is not None
        value: T = await self.future
        return value
