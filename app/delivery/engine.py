"""The delivery engine: many sends in flight on one event loop, none able to stall the others.

One thread per worker process runs an asyncio loop with one aiohttp session. It claims due
deliveries in batches (as many as it has free slots), sends each as its own task with a hard
deadline that ends before its lease does, and writes outcomes in groups on a small thread
pool. A target holds at most FORWARD_TARGET_MAX_IN_FLIGHT of the slots, one while its breaker
is half-open, none while it rests, so a dead or slow subscriber delays nobody else's forwards.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from app.delivery import attempts
from app.delivery.breaker import is_half_open
from app.delivery.sender import open_session, send_attempt
from app.observability.run_context import bind_run_id
from app.store import deliveries_repo
from app.store.engine import DatabaseError, write

log = logging.getLogger(__name__)
# Claims, secret reads and outcome writes share this pool.
DB_THREADS = 4
# Between the end of an attempt's deadline and the end of its lease: time to write the outcome.
LEASE_MARGIN_SECONDS = 10.0
# On SIGTERM, in-flight sends get this long to finish; the rest are cut and handed back.
STOP_GRACE_SECONDS = 3.0
IDLE_SECONDS = 1.0


class DeliveryEngine:
    def __init__(self, services, owner: str, wakeup, stop):
        self.services = services
        self.settings = services.settings
        self.owner = owner
        self.wakeup = wakeup
        self.stop = stop
        self.tasks: dict[asyncio.Task, dict] = {}
        self.per_target: Counter[str] = Counter()
        self.half_open: set[str] = set()
        self.pool = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="deliver-db")
        self.finished: list[tuple[attempts.Finished, asyncio.Future]] = []

    def run(self) -> None:
        """The thread's body: serve until `stop` is set, then wind down."""
        try:
            asyncio.run(self._serve())
        finally:
            self.pool.shutdown(wait=True)

    @property
    def lease_seconds(self) -> float:
        return self.settings.forward_timeout_seconds + LEASE_MARGIN_SECONDS

    async def _serve(self) -> None:
        self._loop_started()
        capacity = self.settings.forward_max_in_flight
        writer = asyncio.create_task(self._write_outcomes())
        async with open_session(self.settings.forward_allow_private, capacity) as session:
            on_the_clock = False  # the claim follows an idle wait that nothing cut short
            while not self.stop.is_set():
                self.work_landed.clear()  # before the claim: work landing during it counts
                claimed = await self._claim(capacity - len(self.tasks), look_first=on_the_clock)
                await self._start_all(session, claimed)
                on_the_clock = not claimed and not await self._idle()
            await self._wind_down()
        writer.cancel()

    def _loop_started(self) -> None:
        self.slot_freed = asyncio.Event()
        self.outcome_ready = asyncio.Event()
        self.work_landed = asyncio.Event()
        if self.wakeup is not None:
            loop = asyncio.get_running_loop()
            threading.Thread(
                target=self._bridge_wakeups, args=(loop,), name="deliver-wakeup", daemon=True
            ).start()

    def _bridge_wakeups(self, loop) -> None:
        """The worker's wake-ups (NOTIFY, SQLite commits) as an event the loop can await."""
        seen = self.wakeup.rings
        while not self.stop.is_set():
            if self.wakeup.wait(IDLE_SECONDS, since=seen):
                seen = self.wakeup.rings
                if self.stop.is_set():
                    return  # a stop's ring: the loop may be closing
                try:
                    loop.call_soon_threadsafe(self.work_landed.set)
                except RuntimeError:
                    return  # the loop closed meanwhile

    async def _db(self, fn, *args):
        # A copy of this task's context: log lines written on the pool keep their run id.
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.pool, call)

    async def _claim(self, free: int, look_first: bool = False) -> list[dict]:
        if free <= 0:
            return []
        cap = self.settings.forward_target_max_in_flight
        full = {key for key, n in self.per_target.items() if n >= cap}
        full |= {key for key in self.half_open if self.per_target[key] >= 1}
        try:
            rows = await self._db(
                deliveries_repo.claim_due_deliveries,
                self.services.engine,
                self.owner,
                time.time(),
                self.lease_seconds,
                free,
                frozenset(full),
                cap,
                look_first,
            )
        except DatabaseError:
            log.exception("could not claim deliveries; trying again shortly")
            await asyncio.sleep(IDLE_SECONDS)
            return []
        # A batch may hold more of one target than its cap: hand the surplus back at once.
        kept, surplus, taken = [], [], Counter()
        for row in rows:
            key = row["target_key"]
            limit = 1 if key in self.half_open else cap
            if self.per_target[key] + taken[key] < limit:
                kept.append(row)
                taken[key] += 1
            else:
                surplus.append(row["id"])
        if surplus:
            await self._db(self._hand_back, surplus)
        return kept

    def _hand_back(self, ids: list[str]) -> None:
        with write(self.services.engine) as conn:
            deliveries_repo.release_unattempted(conn, ids, self.owner, time.time())

    async def _start_all(self, session, batch: list[dict]) -> None:
        if not batch:
            return
        try:
            plans = await self._db(attempts.send_plans, self.services, batch)
        except DatabaseError:
            log.exception("could not read the targets' secrets; their leases will lapse")
            return
        loop = asyncio.get_running_loop()
        for delivery in batch:
            self.per_target[delivery["target_key"]] += 1
            task = loop.create_task(self._deliver(session, delivery, plans[delivery["id"]]))
            self.tasks[task] = delivery
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        delivery = self.tasks.pop(task)
        key = delivery["target_key"]
        self.per_target[key] -= 1
        if self.per_target[key] <= 0:
            del self.per_target[key]
        self.slot_freed.set()  # the dispatcher may claim again

    async def _deliver(self, session, delivery: dict, plan: attempts.SendPlan) -> None:
        bind_run_id(delivery["run_id"] or delivery["event_id"])
        try:
            if not plan.secrets:
                await self._db(attempts.record_unsent, self.services, delivery, self.owner, plan)
                return
            # The attempt ends before the lease does, so no other worker can send it meanwhile.
            deadline = min(
                self.settings.forward_timeout_seconds,
                delivery["lease_until"] - time.time() - LEASE_MARGIN_SECONDS / 2,
            )
            at = time.time()
            result = await send_attempt(
                session,
                delivery["target_url"],
                list(plan.secrets),
                delivery["event_id"],
                delivery["body"],
                max(deadline, 0.1),
                self.settings.forward_allow_private,
            )
            written = asyncio.get_running_loop().create_future()
            self.finished.append((attempts.Finished(delivery, result, at), written))
            self.outcome_ready.set()
            self._note_health(delivery["target_key"], await written)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease lapses and the delivery is tried again: nothing is lost.
            log.exception("delivery %s could not be completed", delivery["id"])

    async def _write_outcomes(self) -> None:
        """Group commit: whatever finished while the last write ran goes in the next one."""
        while True:
            await self.outcome_ready.wait()
            self.outcome_ready.clear()
            batch, self.finished = self.finished, []
            if not batch:
                continue
            try:
                health = await self._db(
                    attempts.record_outcomes, self.services, [i for i, _ in batch], self.owner
                )
            except Exception as err:
                for _item, written in batch:
                    written.set_exception(err)
                continue
            for item, written in batch:
                written.set_result(health.get(item.delivery["target_key"], {}))

    def _note_health(self, key: str, health: dict) -> None:
        if is_half_open(health, time.time(), self.settings.breaker) or health.get("paused_until"):
            self.half_open.add(key)
        else:
            self.half_open.discard(key)

    async def _idle(self) -> bool:
        """Until work may have landed, a slot frees, or IDLE_SECONDS pass; False for the
        last (a look on the clock: retries come due without a ring)."""
        waits = {asyncio.ensure_future(self.slot_freed.wait())}
        if len(self.tasks) < self.settings.forward_max_in_flight:
            waits.add(asyncio.ensure_future(self.work_landed.wait()))
        done, _ = await asyncio.wait(
            waits, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        for waiting in waits:
            waiting.cancel()
        self.slot_freed.clear()
        return bool(done)

    async def _wind_down(self) -> None:
        """Let in-flight sends finish for a moment, then cut them and hand their leases back
        unattempted, so the next worker sends them at once under the same webhook-id."""
        if not self.tasks:
            return
        _done, pending = await asyncio.wait(list(self.tasks), timeout=STOP_GRACE_SECONDS)
        cut = [self.tasks[task]["id"] for task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if cut:
            await self._db(self._hand_back, cut)
            log.info("stopping: %d sends cut short and handed back", len(cut))


def deliver_due_now(services, owner: str) -> bool:
    """Claim one due delivery and attempt it, blocking (tests and one-off tools); True if any."""
    engine = DeliveryEngine(services, owner, wakeup=None, stop=None)
    lease = engine.lease_seconds
    delivery = deliveries_repo.claim_due_delivery(services.engine, owner, time.time(), lease)
    if delivery is None:
        return False

    async def once() -> None:
        engine._loop_started()
        writer = asyncio.create_task(engine._write_outcomes())
        settings = services.settings
        async with open_session(settings.forward_allow_private, 1) as session:
            await engine._start_all(session, [delivery])
            await asyncio.gather(*engine.tasks)
        writer.cancel()

    try:
        asyncio.run(once())
    finally:
        engine.pool.shutdown(wait=True)
    return True
