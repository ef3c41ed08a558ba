"""Cohort insight worked out again, straight from the raw events, without the read models or domain/insight.py:
what tests compare the product's figures with. Also turns the product's figures into the same plain shapes."""

import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from content.model_catalog import default_model
from domain.insight import Figures, Insight
from domain.maturity_model import MaturityModel
from domain.stages import ModelVariant

LONDON = ZoneInfo("Europe/London")
STAGES = ("onboarding", "self_evaluation", "review", "report", "action_planning", "re_evaluation")
LEVEL_STAGES = ("self_evaluation", "review", "re_evaluation")


@dataclass
class Cycle:
    cycle_id: str
    name: str
    review_type: str
    model: MaturityModel
    careers_hub: str | None
    levels: dict[str, dict[str, int]] = field(default_factory=lambda: {s: {} for s in LEVEL_STAGES})
    priorities: list[Any] = field(default_factory=list)
    due: dict[str, date] = field(default_factory=dict)
    overdue: set[str] = field(default_factory=set)
    closed: dict[str, tuple[date, bool, date]] = field(default_factory=dict)  # stage: (closed on, on time, due)
    plan: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    stalled: set[str] = field(default_factory=set)
    rounds: dict[int, dict[str, int]] = field(default_factory=dict)
    missed: set[int] = field(default_factory=set)


def _agreed_theme_levels(agreed: list[dict[str, Any]], model: MaturityModel) -> dict[str, int]:
    by_indicator = {a["indicator_id"]: a["level"] for a in agreed}
    levels = {}
    for theme in model.themes:
        rated = sorted(by_indicator[i.id] for i in theme.indicators if i.id in by_indicator)
        if rated:
            levels[theme.id] = rated[(len(rated) - 1) // 2]  # the lower median
    return levels


def _day(moment: str) -> date:
    return datetime.fromisoformat(moment).astimezone(LONDON).date()


async def cycles_from_events(pool: asyncpg.Pool) -> dict[str, Cycle]:
    """Every cycle as its events tell it, replayed in position order."""
    rows = await pool.fetch("SELECT type, data::text AS data FROM events ORDER BY position")
    cycles: dict[str, Cycle] = {}
    for row in rows:
        data = json.loads(row["data"])
        kind = row["type"]
        if kind == "CycleStarted":
            variant = ModelVariant.FE if data["phase"] == "college" else ModelVariant.SCHOOLS
            cycles[data["cycle_id"]] = Cycle(
                data["cycle_id"], data["name"], data["review_type"], default_model(variant), data.get("careers_hub")
            )
            continue
        cycle = cycles.get(data["cycle_id"])
        if cycle is None:  # a peer group's own facts, about no one cycle
            continue
        if kind == "ReviewArrangementChanged":
            cycle.review_type = data["review_type"]
        elif kind == "SelfEvaluationSubmitted":
            cycle.levels["self_evaluation"] = {t["theme_id"]: t["level"] for t in data["theme_levels"]}
        elif kind == "ReEvaluationSubmitted":
            cycle.levels["re_evaluation"] = {t["theme_id"]: t["level"] for t in data["theme_levels"]}
        elif kind == "ReviewFindingsRecorded":
            cycle.levels["review"] = _agreed_theme_levels(data["agreed_levels"], cycle.model)
            cycle.priorities = data["development_priorities"]
        elif kind == "ReportPublished":
            cycle.priorities = data["development_priorities"]
        elif kind == "StageOpened":
            cycle.due[data["stage"]] = date.fromisoformat(data["due"])
        elif kind == "DeadlineExtended" and data["stage"] in cycle.due and data["stage"] not in cycle.closed:
            cycle.due[data["stage"]] = date.fromisoformat(data["new_due"])
            cycle.overdue.discard(data["stage"])
        elif kind == "StageOverdue" and data["stage"] in cycle.due and data["stage"] not in cycle.closed:
            cycle.overdue.add(data["stage"])
        elif kind == "StageClosed":
            cycle.closed[data["stage"]] = (_day(data["at"]), data["on_time"], date.fromisoformat(data["due"]))
        elif kind == "ActionPlanAgreed":
            cycle.plan = [a["action_id"] for a in data["actions"]]
            cycle.statuses = {a: cycle.statuses.get(a, "not_started") for a in cycle.plan}
        elif kind == "CheckInRecorded":
            for item in data["progress"]:
                before = cycle.statuses[item["action_id"]]
                if item["status"] != before or item["status"] == "done":
                    cycle.stalled.discard(item["action_id"])
                cycle.statuses[item["action_id"]] = item["status"]
        elif kind == "CheckInMissed":
            cycle.missed.add(data["round"])
        elif kind == "MomentumRecorded":
            done = sum(1 for s in cycle.statuses.values() if s == "done")
            done_before = cycle.rounds.get(data["round"] - 1, {}).get("done", 0)
            cycle.rounds[data["round"]] = {
                "actions": len(cycle.statuses),
                "done": done,
                "moving": data["moving"] - (done - done_before),
                "stalled": len(cycle.stalled),
            }
        elif kind == "ActionStalled":
            cycle.stalled.add(data["action_id"])
            cycle.rounds[data["round"]]["stalled"] = len(cycle.stalled)
    return cycles


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def expected_figures(cycles: list[Cycle]) -> dict[str, Any]:
    """The figures over these cycles, in the plain shapes `actual_figures` gives the product's."""
    themes = [t.id for t in cycles[0].model.themes] if cycles else []
    levels = {}
    for stage in LEVEL_STAGES:
        for theme in themes:
            found = [c.levels[stage][theme] for c in cycles if theme in c.levels[stage]]
            counts = {level: found.count(level) for level in (1, 2, 3, 4)}
            levels[(stage, theme)] = (len(found), counts, _mean(found))
    movement = {}
    calibration = {}
    for theme in themes:
        both = [c for c in cycles if theme in c.levels["self_evaluation"] and theme in c.levels["re_evaluation"]]
        changes = [c.levels["re_evaluation"][theme] - c.levels["self_evaluation"][theme] for c in both]
        movement[theme] = (
            len(changes),
            _mean(changes),
            statistics.pstdev(changes) if changes else None,
            {d: changes.count(d) for d in sorted(set(changes))},
        )
        agreed = [c for c in cycles if theme in c.levels["self_evaluation"] and theme in c.levels["review"]]
        gaps = [c.levels["self_evaluation"][theme] - c.levels["review"][theme] for c in agreed]
        calibration[theme] = (
            len(gaps),
            _mean(gaps),
            _mean([abs(g) for g in gaps]),
            sum(1 for g in gaps if g > 0),
            sum(1 for g in gaps if g < 0),
            sum(1 for g in gaps if g == 0),
        )
    by_theme: dict[str, set[str]] = defaultdict(set)
    by_indicator: dict[tuple[str, str], set[str]] = defaultdict(set)
    unlinked = set()
    with_priorities = [c for c in cycles if c.priorities]
    for c in with_priorities:
        theme_of = c.model.theme_of()
        for priority in c.priorities:
            ids = [] if isinstance(priority, str) else priority["indicator_ids"]
            if not ids:
                unlinked.add(c.cycle_id)
            for indicator in ids:
                by_theme[theme_of[indicator]].add(c.cycle_id)
                by_indicator[(theme_of[indicator], indicator)].add(c.cycle_id)
    priorities = (
        len(with_priorities),
        len(unlinked),
        {
            theme: (len(ids), {i: len(v) for (t, i), v in by_indicator.items() if t == theme})
            for theme, ids in by_theme.items()
        },
    )
    timeliness = {}
    for stage in STAGES:
        on_time = sum(1 for c in cycles if stage in c.closed and c.closed[stage][1])
        late = [
            max((c.closed[stage][0] - c.closed[stage][2]).days, 0)
            for c in cycles
            if stage in c.closed and not c.closed[stage][1]
        ]
        overdue = sum(1 for c in cycles if stage not in c.closed and stage in c.overdue)
        n = on_time + len(late) + overdue
        timeliness[stage] = (
            n,
            on_time,
            len(late),
            overdue,
            on_time / n if n else None,
            statistics.median(late) if late else None,
            sorted(late)[math.ceil(0.9 * len(late)) - 1] if late else None,
        )
    momentum = {}
    for round_ in sorted({r for c in cycles for r in c.rounds}):
        rows = [c.rounds[round_] for c in cycles if round_ in c.rounds]
        totals = {key: sum(r[key] for r in rows) for key in ("actions", "done", "moving", "stalled")}
        momentum[round_] = (
            len(rows),
            totals["actions"],
            totals["done"],
            totals["moving"],
            totals["stalled"],
            totals["actions"] - totals["done"] - totals["moving"] - totals["stalled"],
            sum(1 for c in cycles if round_ in c.rounds and round_ in c.missed),
        )
    return {
        "institutions": len(cycles),
        "levels": levels,
        "movement": movement,
        "calibration": calibration,
        "priorities": priorities,
        "timeliness": timeliness,
        "momentum": momentum,
    }


def actual_figures(figures: Figures) -> dict[str, Any]:
    """The product's figures in the shapes `expected_figures` builds."""
    return {
        "institutions": figures.institutions,
        "levels": {
            (stage.stage, t.theme_id): (t.institutions, t.counts, t.mean)
            for stage in figures.levels
            for t in stage.themes
        },
        "movement": {m.theme_id: (m.institutions, m.mean_change, m.spread, m.changes) for m in figures.movement},
        "calibration": {
            c.theme_id: (
                c.institutions,
                c.mean_difference,
                c.mean_absolute_difference,
                c.generous,
                c.harsh,
                c.matching,
            )
            for c in figures.calibration
        },
        "priorities": (
            figures.priorities.institutions,
            figures.priorities.unlinked,
            {
                t.theme_id: (t.institutions, {i.indicator_id: i.institutions for i in t.indicators})
                for t in figures.priorities.themes or []
            },
        ),
        "timeliness": {
            t.stage: (
                t.institutions,
                t.on_time,
                t.late,
                t.overdue,
                t.share_on_time,
                t.days_late_median,
                t.days_late_p90,
            )
            for t in figures.timeliness
        },
        "momentum": {
            m.round: (m.institutions, m.actions, m.done, m.moving, m.stalled, m.waiting, m.missed)
            for m in figures.momentum
        },
    }


def rounded(value: Any) -> Any:
    """Floats to 9 places, everywhere inside: sums taken in another order may differ in the last bits."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(rounded(v) for v in value)
    return value


def expected_heatmap(cycles: list[Cycle]) -> dict[str, tuple[str, dict[str, dict[str, int]]]]:
    return {c.cycle_id: (c.name, c.levels) for c in cycles}


def actual_heatmap(insight: Insight) -> dict[str, tuple[str, dict[str, dict[str, int]]]]:
    """By cycle id: the rows come in the database's name order, which follows its collation."""
    return {
        r.cycle_id: (r.name, {stage: dict(levels) for stage, levels in r.levels.items()}) for r in insight.heatmap.rows
    }
