"""Reverse scheduling (倒排工期) of a plan: a task network with a fixed completion deadline.

Pure Python (no Django): days are integers counted from the plan's start (day 0); callers turn
dates into offsets and back. A task of ``duration`` days starting on day ``s`` finishes at the end
of day ``s + duration`` (finish offsets are exclusive, as in every CPM textbook).

* **Backward pass** from the deadline: each task's latest finish (``lf``) is the earliest latest
  start of its successors (the deadline for the last tasks), its latest start ``ls = lf -
  duration``. It depends only on the network and the deadline, so progress never changes it.
* **Forward projection** with the progress reports as of ``today``: a finished task finishes
  when it did; a started one finishes after its remaining work (from today); a task not started
  starts no earlier than today, the plan start and its predecessors' projected finishes.
* **Float** = ``lf - ef`` (projected): negative float means the deadline can no longer be met on
  that chain. **Late start**: a task not started although ``today`` is past its latest start, or
  started after it. The **critical chain** is the chain of tasks with the least float.
* :meth:`Schedule.report_progress` re-projects incrementally: only the task and the successors
  whose projected finish actually moves are visited (in topological order), not the network.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class ScheduleError(ValueError):
    """The network is not a plan: a cycle, an unknown predecessor, a bad duration."""

    def __init__(self, code: str, message: str, tasks: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.tasks = tasks


@dataclass(frozen=True)
class Task:
    key: str
    duration: int  # days (>= 0; 0 is a milestone)
    predecessors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """A progress report: ``started`` / ``finished`` are day offsets; ``percent`` 0..100."""

    started: int | None = None
    finished: int | None = None
    percent: int = 0


@dataclass
class TaskTimes:
    ls: int  # latest start
    lf: int  # latest finish
    es: int = 0  # projected start
    ef: int = 0  # projected finish

    @property
    def float(self) -> int:
        return self.lf - self.ef


@dataclass(frozen=True)
class Alert:
    kind: str  # "negative_float" | "late_start"
    task: str
    days: int  # how many days behind (float below zero, or days past the latest start)


def topological_order(tasks: Mapping[str, Task]) -> list[str]:
    """Kahn's algorithm, ties broken by the order given (stable, so results are reproducible)."""
    position = {k: i for i, k in enumerate(tasks)}
    indegree = dict.fromkeys(tasks, 0)
    successors: dict[str, list[str]] = {k: [] for k in tasks}
    for task in tasks.values():
        if task.duration < 0:
            raise ScheduleError("duration", f"task {task.key!r} has a negative duration", (task.key,))
        for p in task.predecessors:
            if p not in tasks:
                raise ScheduleError("unknown_predecessor", f"task {task.key!r} follows unknown task {p!r}", (task.key, p))
            if p == task.key:
                raise ScheduleError("cycle", f"task {task.key!r} follows itself", (task.key,))
            successors[p].append(task.key)
            indegree[task.key] += 1
    ready = [(position[k], k) for k, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(k)
        for s in successors[k]:
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(ready, (position[s], s))
    if len(order) != len(tasks):
        stuck = tuple(k for k in tasks if indegree[k] > 0)
        raise ScheduleError("cycle", "the tasks depend on each other in a circle: " + ", ".join(stuck[:10]), stuck)
    return order


@dataclass
class Schedule:
    tasks: dict[str, Task]
    deadline: int  # day offset by which everything must be finished
    today: int = 0
    progress: dict[str, Progress] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    successors: dict[str, list[str]] = field(default_factory=dict)
    times: dict[str, TaskTimes] = field(default_factory=dict)
    _rank: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, tasks: Iterable[Task], deadline: int, *, today: int = 0,
              progress: Mapping[str, Progress] | None = None) -> Schedule:
        table: dict[str, Task] = {}
        for t in tasks:
            if t.key in table:
                raise ScheduleError("duplicate", f"task {t.key!r} appears twice", (t.key,))
            table[t.key] = t
        sched = cls(table, deadline, today, dict(progress or {}))
        sched.order = topological_order(table)
        sched._rank = {k: i for i, k in enumerate(sched.order)}
        sched.successors = {k: [] for k in table}
        for t in table.values():
            for p in t.predecessors:
                sched.successors[p].append(t.key)
        sched._backward()
        sched._forward_all()
        return sched

    # --- passes --------------------------------------------------------------------------------
    def _backward(self) -> None:
        times: dict[str, TaskTimes] = {}
        for k in reversed(self.order):
            succ = self.successors[k]
            lf = min((times[s].ls for s in succ), default=self.deadline)
            times[k] = TaskTimes(ls=lf - self.tasks[k].duration, lf=lf)
        self.times = times

    def _project(self, k: str) -> tuple[int, int]:
        task = self.tasks[k]
        prog = self.progress.get(k)
        ready = max((self.times[p].ef for p in task.predecessors), default=0)
        if prog is not None and prog.finished is not None:
            start = prog.started if prog.started is not None else prog.finished - task.duration
            return start, prog.finished
        if prog is not None and prog.started is not None:
            remaining = task.duration - (task.duration * max(0, min(prog.percent, 100))) // 100
            return prog.started, max(self.today, prog.started) + remaining
        es = max(ready, self.today, 0)
        return es, es + task.duration

    def _forward_all(self) -> None:
        for k in self.order:
            t = self.times[k]
            t.es, t.ef = self._project(k)

    def recompute(self) -> None:
        """Everything from scratch (the baseline the incremental update is measured against)."""
        self._backward()
        self._forward_all()

    def report_progress(self, key: str, progress: Progress) -> set[str]:
        """Record one progress report and re-project only what it moves; returns the tasks whose
        projected start or finish changed."""
        if key not in self.tasks:
            raise ScheduleError("unknown_task", f"no task {key!r} in this plan", (key,))
        self.progress[key] = progress
        changed: set[str] = set()
        heap = [(self._rank[key], key)]
        queued = {key}
        while heap:
            _, k = heapq.heappop(heap)
            t = self.times[k]
            es, ef = self._project(k)
            if (es, ef) == (t.es, t.ef):
                continue
            moved_finish = ef != t.ef
            t.es, t.ef = es, ef
            changed.add(k)
            if moved_finish:
                for s in self.successors[k]:
                    if s not in queued:
                        queued.add(s)
                        heapq.heappush(heap, (self._rank[s], s))
        return changed

    # --- results -------------------------------------------------------------------------------
    @property
    def projected_finish(self) -> int:
        return max((t.ef for t in self.times.values()), default=0)

    @property
    def min_float(self) -> int:
        return min((t.float for t in self.times.values()), default=0)

    @property
    def feasible(self) -> bool:
        return self.min_float >= 0

    def critical_chain(self) -> list[str]:
        """The tasks on the chain with the least float, in topological order: from the task that
        drives the projected finish back through the predecessor that drives each start."""
        if not self.times:
            return []
        least = self.min_float
        on_chain = {k for k, t in self.times.items() if t.float == least}
        # walk back from the latest-finishing least-float task through driving predecessors
        ends = [k for k in on_chain if not any(s in on_chain for s in self.successors[k])]
        chain: list[str] = []
        seen: set[str] = set()
        for end in sorted(ends, key=lambda k: self._rank[k]):
            k: str | None = end
            while k is not None and k not in seen:
                seen.add(k)
                chain.append(k)
                preds = [p for p in self.tasks[k].predecessors if p in on_chain]
                k = max(preds, key=lambda p: (self.times[p].ef, -self._rank[p])) if preds else None
        return sorted(chain, key=lambda k: self._rank[k])

    def alerts(self) -> list[Alert]:
        """Negative float (the deadline cannot be met along this task) and late starts."""
        out: list[Alert] = []
        for k in self.order:
            t = self.times[k]
            prog = self.progress.get(k)
            if t.float < 0 and not (prog and prog.finished is not None):
                out.append(Alert("negative_float", k, -t.float))
            started = prog.started if prog else None
            if started is None and self.today > t.ls:
                out.append(Alert("late_start", k, self.today - t.ls))
            elif started is not None and started > t.ls and not (prog and prog.finished is not None):
                out.append(Alert("late_start", k, started - t.ls))
        return out
