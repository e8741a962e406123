"""The bounded model queue: one thread, refusal when full, batching, urgent jobs first, cancelled jobs skipped."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from ragtune.serve.worker import ModelWorker, QueueFullError, WorkerStoppedError


@pytest.fixture
def worker() -> Iterator[ModelWorker]:
    w = ModelWorker(capacity=2, batch_size=4)
    w.start()
    yield w
    w.stop()


def test_jobs_run_on_one_thread_in_order(worker: ModelWorker) -> None:
    threads: list[str] = []
    order: list[int] = []

    def job(i: int) -> int:
        threads.append(threading.current_thread().name)
        order.append(i)
        return i * i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(worker.run(lambda i=i: job(i)) for i in range(2))))

    assert asyncio.run(main()) == [0, 1]
    assert order == [0, 1] and set(threads) == {"ragtune-model"}


def test_a_full_queue_refuses_at_once_with_a_retry_estimate(worker: ModelWorker) -> None:
    started, release = threading.Event(), threading.Event()

    def block() -> str:
        started.set()
        release.wait(10)
        return "done"

    async def main() -> None:
        running = asyncio.ensure_future(worker.run(block))
        await asyncio.to_thread(started.wait, 5)  # the worker holds the first job; the queue itself is empty
        waiting = [asyncio.ensure_future(worker.run(lambda: "queued")) for _ in range(2)]
        await asyncio.sleep(0)
        assert worker.stats().waiting == 2
        with pytest.raises(QueueFullError) as info:
            await worker.run(lambda: "one too many")
        assert info.value.retry_after >= 1 and info.value.waiting == 2
        release.set()
        assert await running == "done"
        assert [await w for w in waiting] == ["queued", "queued"]

    asyncio.run(main())


def test_waiting_items_of_one_key_are_answered_in_one_batch() -> None:
    worker = ModelWorker(capacity=16, batch_size=4)
    worker.start()
    batches: list[list[int]] = []
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    def square_all(items: list[int]) -> list[int]:
        batches.append(list(items))
        return [i * i for i in items]

    async def main() -> list[int]:
        first = asyncio.ensure_future(worker.run(block))
        await asyncio.to_thread(started.wait, 5)
        futures = [asyncio.ensure_future(worker.run_batched("sq", i, square_all)) for i in range(6)]
        other = asyncio.ensure_future(worker.run_batched("other", 10, square_all))
        await asyncio.sleep(0.05)
        release.set()
        await first
        results = [await f for f in futures]
        assert await other == 100
        return results

    try:
        assert asyncio.run(main()) == [i * i for i in range(6)]
    finally:
        worker.stop()
    assert batches == [[0, 1, 2, 3], [4, 5], [10]]  # at most batch_size together; other keys wait their turn


def test_urgent_jobs_go_ahead_of_waiting_answers_and_errors_reach_the_caller(worker: ModelWorker) -> None:
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    def fail() -> None:
        order.append("urgent")
        raise ValueError("bad upload")

    async def main() -> None:
        first = asyncio.ensure_future(worker.run(block))
        await asyncio.to_thread(started.wait, 5)
        answer = asyncio.ensure_future(worker.run(lambda: order.append("answer")))
        await asyncio.sleep(0)
        upload = asyncio.ensure_future(worker.run(fail, urgent=True))
        await asyncio.sleep(0)
        release.set()
        await first
        with pytest.raises(ValueError, match="bad upload"):
            await upload
        await answer

    asyncio.run(main())
    assert order == ["urgent", "answer"]


def test_a_request_whose_client_left_is_skipped(worker: ModelWorker) -> None:
    ran: list[str] = []
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    async def main() -> None:
        first = asyncio.ensure_future(worker.run(block))
        await asyncio.to_thread(started.wait, 5)
        gone = asyncio.ensure_future(worker.run(lambda: ran.append("gone")))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        release.set()
        await first
        assert await worker.run(lambda: "after") == "after"

    asyncio.run(main())
    assert ran == []


def test_streams_yield_pieces_then_the_result_and_stop_when_cancelled(worker: ModelWorker) -> None:
    produced: list[int] = []

    def produce(emit, cancelled):  # type: ignore[no-untyped-def]
        for i in range(1000):
            if cancelled():
                return "stopped"
            produced.append(i)
            emit(str(i))
            time.sleep(0.002)
        return "finished"

    async def main() -> None:
        handle = worker.stream(produce)
        pieces = []
        async for piece in handle:
            pieces.append(piece)
            if len(pieces) == 5:
                handle.cancel()
        assert pieces[:5] == ["0", "1", "2", "3", "4"]
        assert await handle.result() == "stopped"

        def short(emit, cancelled):  # type: ignore[no-untyped-def]
            emit("a")
            emit("b")
            return "ab"

        handle = worker.stream(short)
        assert [p async for p in handle] == ["a", "b"] and await handle.result() == "ab"

        def broken(emit, cancelled):  # type: ignore[no-untyped-def]
            raise RuntimeError("model failed")

        handle = worker.stream(broken)
        assert [p async for p in handle] == []
        with pytest.raises(RuntimeError, match="model failed"):
            await handle.result()

    asyncio.run(main())
    assert len(produced) < 1000


def test_a_stopped_worker_refuses_work() -> None:
    worker = ModelWorker(capacity=1)

    async def main() -> None:
        with pytest.raises(WorkerStoppedError):
            await worker.run(lambda: 1)

    asyncio.run(main())
