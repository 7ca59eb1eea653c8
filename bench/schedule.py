"""Reverse-scheduling benchmark (issue 15): a 10,000-task plan scheduled, one progress update
re-scheduled incrementally.

Pure domain code (``gongzhi.villages.domain.schedule``), no database: a seeded random network of
10,000 tasks (each follows up to three of the 50 before it, so chains run through the whole plan)
with a deadline. Printed:

1. the full schedule (topological order, backward pass, forward projection) — the baseline;
2. one progress report on a task in the middle of the network, re-projected incrementally, and
   its ratio to the full recompute measured in the same run;
3. the same for a report on a late task (few successors) and an early one (many).

Each figure is the median of ``--repeat`` runs. Run: ``make bench`` or
``.venv/bin/python bench/schedule.py [--tasks 10000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gongzhi.villages.domain.schedule import Progress, Schedule, Task


def network(n: int, seed: int = 15) -> list[Task]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        k = min(i, rng.randint(1, 3))
        preds = tuple(f"t{j}" for j in rng.sample(range(max(0, i - 50), i), k))
        tasks.append(Task(f"t{i}", rng.randint(1, 15), preds))
    return tasks


def median_ms(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    tasks = network(args.tasks)
    probe = Schedule.build(tasks, deadline=10**9)
    deadline = probe.projected_finish - 30  # a plan already 30 days short: negative float
    today = 40

    build_ms = median_ms(lambda: Schedule.build(tasks, deadline=deadline, today=today), args.repeat)
    sched = Schedule.build(tasks, deadline=deadline, today=today)
    print(f"network: {len(tasks)} tasks, {sum(len(t.predecessors) for t in tasks)} dependencies; "
          f"projected finish day {sched.projected_finish}, deadline day {deadline}, "
          f"min float {sched.min_float}, critical chain {len(sched.critical_chain())} tasks, "
          f"{len(sched.alerts())} alerts")
    print(f"full schedule (baseline):           {build_ms:9.2f} ms")
    recompute_ms = median_ms(sched.recompute, args.repeat)
    print(f"full recompute of a built plan:     {recompute_ms:9.2f} ms  (ratio 1.00)")

    for label, index in (("early", args.tasks // 100), ("middle", args.tasks // 2), ("late", args.tasks - 20)):
        key = f"t{index}"
        es = sched.times[key].es
        updates = [Progress(started=es, percent=p) for p in (10, 60)] + [Progress(started=es + 3, percent=0)]
        results: list[float] = []
        moved: list[int] = []
        for i in range(args.repeat):
            prog = updates[i % len(updates)]
            t0 = time.perf_counter()
            changed = sched.report_progress(key, prog)
            results.append((time.perf_counter() - t0) * 1000)
            moved.append(len(changed))
        check = Schedule.build(tasks, deadline=deadline, today=today, progress=sched.progress)
        same = all((check.times[k].es, check.times[k].ef) == (t.es, t.ef) for k, t in sched.times.items())
        inc = statistics.median(results)
        print(f"one progress update, {label:6s} task: {inc:9.3f} ms  (ratio {inc / recompute_ms:.4f} of full "
              f"recompute; {max(moved)} tasks moved; equals full recompute: {same})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
