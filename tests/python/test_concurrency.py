"""Threads and asyncio: the GIL is released on every wait, so nothing deadlocks."""

from __future__ import annotations

import asyncio
import threading

import cgm
from cgm import Param


def test_sixteen_threads_query_and_propose_at_once_without_deadlock(cluster: cgm.LocalCluster) -> None:
    errors: list[BaseException] = []
    committed: list[int] = []
    start = threading.Barrier(16)
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            node = cluster[i % 5]
            start.wait(10)
            for round_ in range(5):
                s = node.query_status((i + round_) % 5 + 1, timeout=5.0)
                assert s.quorum
                if i % 2 == 0:
                    o = node.propose({Param.SEND_WINDOW_SIZE: 16 + i + round_}, timeout=20.0)
                    assert o.committed
                    with lock:
                        committed.append(o.generation)
                else:
                    node.params()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,), name=f"worker-{i}") for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(45)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == []
    # Every change committed once, in one total order: generations 1..40.
    assert sorted(committed) == list(range(1, 41))
    gens = {cluster[0].query_status(m).generation for m in range(1, 6)}
    assert gens == {40}


def test_asyncio_program_drives_events_through_fileno() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        main_thread = threading.current_thread()
        with cgm.LocalCluster(3, dispatch="manual") as cluster:
            changes: dict[int, list[bool]] = {n.id: [] for n in cluster}
            hook_threads: list[threading.Thread] = []
            for node in cluster:
                loop.add_reader(node.fileno(), node.dispatch)
                node.on_change(lambda ev, i=node.id: changes[i].append(ev.committed))

            def veto_big_windows(proposed: object) -> str | None:
                hook_threads.append(threading.current_thread())
                window = dict(proposed).get(Param.SEND_WINDOW_SIZE, 0)  # type: ignore[call-overload]
                return "window too large" if window > 100 else None

            cluster[1].set_veto_hook(veto_big_windows)
            try:
                # propose blocks (GIL released) in a worker thread while the
                # loop answers every member's veto request through dispatch.
                ok = await loop.run_in_executor(None, lambda: cluster[0].propose(Param.SEND_WINDOW_SIZE, 50))
                assert ok.committed
                try:
                    await loop.run_in_executor(None, lambda: cluster[2].propose(Param.SEND_WINDOW_SIZE, 500))
                except cgm.Vetoed as e:
                    assert e.outcome is not None and e.outcome.vetoed_by == (2,)
                else:
                    raise AssertionError("the change was not vetoed")
                for _ in range(200):
                    if all(len(v) == 2 for v in changes.values()):
                        break
                    await asyncio.sleep(0.01)
                assert changes == {1: [True, False], 2: [True, False], 3: [True, False]}
                assert hook_threads and all(t is main_thread for t in hook_threads)
            finally:
                for node in cluster:
                    loop.remove_reader(node.fileno())

    asyncio.run(main())
