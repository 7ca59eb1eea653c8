"""``/api/v1/villages``: the portfolio and a plan's schedule (read), the published ranking."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from gongzhi.villages import actions, queries

router = Router(tags=["villages"])
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    village: str
    status: str
    budget: Decimal
    agent_builder_uscc: str
    agent_builder_name: str
    start_date: date
    deadline: date
    projected_finish: date | None
    min_float: int | None


class TaskOut(Schema):
    key: str
    name: str
    duration_days: int
    predecessors: list[str]
    percent: int
    latest_start: date
    latest_finish: date
    projected_start: date
    projected_finish: date
    float: int
    critical: bool


class ScheduleOut(Schema):
    project: ProjectOut
    feasible: bool
    min_float: int
    projected_finish: date
    critical_chain: list[str]
    tasks: list[TaskOut]


class RankingOut(Schema):
    round: str
    seed: str
    units: int
    rules: dict[str, Any]
    ranking: list[dict[str, Any]]


def _project(p: Any) -> dict[str, Any]:
    return {"id": p.pk, "code": p.code, "name": p.name, "village": p.village.name, "status": p.status,
            "budget": p.budget, "agent_builder_uscc": p.agent_builder_uscc, "agent_builder_name": p.agent_builder_name,
            "start_date": p.start_date, "deadline": p.deadline, "projected_finish": p.projected_finish,
            "min_float": p.min_float}


@router.get("/projects", response=list[ProjectOut], summary="我辖区的城中村改造项目")
def list_projects(request: HttpRequest) -> list[dict[str, Any]]:
    return [_project(p) for p in queries.projects_for_user(request.user)[:500]]


@router.get("/projects/{project_id}/schedule", response=ScheduleOut, summary="倒排工期：最迟开始/完成、预计完成、时差、关键链")
def project_schedule(request: HttpRequest, project_id: DbId) -> dict[str, Any]:
    project = queries.access_project(request.user, project_id)
    tasks = list(project.tasks.all())
    s = actions.build_schedule(project, tasks=tasks)
    chain = s.critical_chain()
    on = set(chain)
    return {
        "project": _project(project), "feasible": s.feasible, "min_float": s.min_float,
        "projected_finish": actions.day_of(project, s.projected_finish, finish=True), "critical_chain": chain,
        "tasks": [{"key": t.key, "name": t.name, "duration_days": t.duration_days, "predecessors": t.predecessors,
                   "percent": t.percent, "latest_start": actions.day_of(project, s.times[t.key].ls),
                   "latest_finish": actions.day_of(project, s.times[t.key].lf, finish=True),
                   "projected_start": actions.day_of(project, s.times[t.key].es),
                   "projected_finish": actions.day_of(project, s.times[t.key].ef, finish=True),
                   "float": s.times[t.key].float, "critical": t.key in on} for t in tasks],
    }


@router.get("/{village_id}/talent/{round_id}/ranking", response=RankingOut, summary="人才公寓公示排名（公开）")
def talent_ranking(request: HttpRequest, village_id: DbId, round_id: DbId) -> dict[str, Any]:
    rnd = queries.published_talent_round(village_id, round_id)
    return {"round": rnd.name, "seed": rnd.seed, "units": rnd.units, "rules": rnd.rules, "ranking": rnd.ranking}
