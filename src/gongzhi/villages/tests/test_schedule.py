"""The backward pass and the forward projection on known networks (no database)."""

from __future__ import annotations

import random

import pytest

from gongzhi.villages.domain.schedule import Progress, Schedule, ScheduleError, Task

# The textbook network: A(3) → B(4) → D(2); A → C(6) → D. Critical: A, C, D = 11 days.
NET = [Task("A", 3), Task("B", 4, ("A",)), Task("C", 6, ("A",)), Task("D", 2, ("B", "C"))]


def test_backward_pass_from_the_deadline() -> None:
    s = Schedule.build(NET, deadline=14)
    assert {k: (t.ls, t.lf) for k, t in s.times.items()} == {
        "A": (3, 6), "B": (8, 12), "C": (6, 12), "D": (12, 14)}
    assert s.projected_finish == 11
    assert {k: t.float for k, t in s.times.items()} == {"A": 3, "B": 5, "C": 3, "D": 3}
    assert s.critical_chain() == ["A", "C", "D"]
    assert s.feasible and s.alerts() == []


def test_an_infeasible_deadline_gives_negative_float_everywhere_on_the_chain() -> None:
    s = Schedule.build(NET, deadline=9)
    assert not s.feasible
    assert s.min_float == -2
    assert s.critical_chain() == ["A", "C", "D"]
    kinds = {(a.kind, a.task, a.days) for a in s.alerts()}
    assert ("negative_float", "A", 2) in kinds and ("negative_float", "D", 2) in kinds
    assert ("negative_float", "B", 2) not in kinds  # B has 2 days more than the chain
    # already late on day 0: A's latest start was day -2
    assert ("late_start", "A", 2) in kinds


def test_progress_moves_the_projection_and_late_starts_alert() -> None:
    s = Schedule.build(NET, deadline=14, today=5, progress={"A": Progress(started=0, finished=4)})
    # A finished a day late; C not started on day 5 (latest start 6): still fine
    assert s.times["C"].es == 5 and s.times["D"].ef == 13 and s.min_float == 1
    assert s.alerts() == []
    s2 = Schedule.build(NET, deadline=14, today=8, progress={"A": Progress(started=0, finished=4)})
    kinds = {(a.kind, a.task) for a in s2.alerts()}
    assert ("late_start", "C") in kinds and ("negative_float", "D") in kinds
    assert s2.projected_finish == 16


def test_half_done_task_finishes_after_its_remaining_work() -> None:
    s = Schedule.build(NET, deadline=14, today=6,
                       progress={"A": Progress(0, 3, 100), "C": Progress(started=3, percent=50)})
    assert s.times["C"].ef == 9  # 3 days left from day 6
    assert s.times["B"].ef == 10 and s.times["D"].ef == 12  # B, not started, starts today


def test_cycles_and_unknown_predecessors_are_refused() -> None:
    with pytest.raises(ScheduleError) as e:
        Schedule.build([Task("A", 1, ("B",)), Task("B", 1, ("A",))], deadline=5)
    assert e.value.code == "cycle" and set(e.value.tasks) == {"A", "B"}
    with pytest.raises(ScheduleError) as e:
        Schedule.build([Task("A", 1, ("Z",))], deadline=5)
    assert e.value.code == "unknown_predecessor"
    with pytest.raises(ScheduleError):
        Schedule.build([Task("A", -1)], deadline=5)


def _random_network(n: int, seed: int) -> list[Task]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        preds = tuple(f"t{j}" for j in rng.sample(range(max(0, i - 30), i), min(i, rng.randint(0, 3))))
        tasks.append(Task(f"t{i}", rng.randint(0, 10), preds))
    return tasks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_update_equals_a_full_recompute(seed: int) -> None:
    tasks = _random_network(400, seed)
    s = Schedule.build(tasks, deadline=300, today=20)
    rng = random.Random(seed)
    for _ in range(30):
        k = f"t{rng.randrange(400)}"
        prog = rng.choice([Progress(started=rng.randint(0, 20), percent=rng.randint(0, 99)),
                           Progress(started=rng.randint(0, 10), finished=rng.randint(10, 20), percent=100)])
        s.report_progress(k, prog)
        full = Schedule.build(tasks, deadline=300, today=20, progress=s.progress)
        assert {k: (t.es, t.ef, t.ls, t.lf) for k, t in s.times.items()} == \
               {k: (t.es, t.ef, t.ls, t.lf) for k, t in full.times.items()}


def test_incremental_update_visits_only_what_moves() -> None:
    chain = [Task("a0", 2)] + [Task(f"a{i}", 2, (f"a{i - 1}",)) for i in range(1, 50)] + [Task("side", 1)]
    s = Schedule.build(chain, deadline=120)
    assert s.report_progress("side", Progress(started=0, finished=1)) == set()  # nothing moved
    changed = s.report_progress("a47", Progress(started=96, percent=0))
    assert changed == {"a47", "a48", "a49"}
