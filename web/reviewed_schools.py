"""The schools a review looks at, read from the store: an expert review's one school, or every school of a peer
group, each with its record and its model, and the questions to probe its self-evaluation raises."""

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request

from domain.cycle_record import CycleRecord
from domain.maturity_model import MaturityModel
from domain.probing import Question, re_evaluation_questions, self_evaluation_questions
from store.read_models import CycleStatusRow, cycle_record, list_group_members
from web.submission_pages import cycle_model_of


@dataclass(frozen=True)
class Reviewed:
    row: CycleStatusRow
    record: CycleRecord
    model: MaturityModel

    @property
    def cycle_id(self) -> str:
        return self.row.cycle_id

    @property
    def self_levels(self) -> dict[str, int]:
        evaluation = self.record.self_evaluation
        return {r.indicator_id: r.level for r in evaluation.ratings} if evaluation else {}


async def reviewed(request: Request, row: CycleStatusRow) -> Reviewed:
    return Reviewed(row, await cycle_record(request.app.state.pool, row.cycle_id), await cycle_model_of(request, row))


async def group_reviewed(request: Request, cohort: str, group: str) -> list[Reviewed]:
    """Every school the group holds now (in its meeting's order once it has one), with its record and model."""
    members = [await reviewed(request, row) for row in await list_group_members(request.app.state.pool, cohort, group)]
    return sorted(members, key=_meeting_order)


def _meeting_order(member: Reviewed) -> tuple[bool, str]:
    meeting = member.record.meeting
    return (meeting is None, meeting.slot_starts.isoformat() if meeting else member.row.name)


def _peers(member: Reviewed, group: Sequence[Reviewed]) -> list[dict[str, int]]:
    return [m.self_levels for m in group if m.cycle_id != member.cycle_id and m.self_levels]


def questions_for(member: Reviewed, group: Sequence[Reviewed] = ()) -> list[Question]:
    """The questions for the review: from the self-evaluation, against the rest of the group for a peer review."""
    evaluation = member.record.self_evaluation
    if evaluation is None:
        return []
    return self_evaluation_questions(member.model, evaluation.ratings, _peers(member, group))


def re_evaluation_questions_for(member: Reviewed, group: Sequence[Reviewed] = ()) -> list[Question]:
    """After re-evaluation: its ratings read again, and each rise it gives no account of."""
    before, after = member.record.self_evaluation, member.record.re_evaluation
    if before is None or after is None:
        return []
    return re_evaluation_questions(member.model, before.ratings, after.ratings, _peers(member, group))
