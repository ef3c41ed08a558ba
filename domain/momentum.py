"""Momentum during follow-up: each action's check-in history, the share of actions done, moving and stalled, and
the momentum figure of each round, from the cycle's record. The same picture goes on the page and in each
check-in email, so a school sees where it stands before it answers."""

from pydantic import BaseModel, ConfigDict

from domain.cycle_record import CycleRecord
from domain.submissions import ActionStatus


class CheckInEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: int
    status: ActionStatus
    note: str


class ActionMomentum(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    title: str
    status: ActionStatus
    stalled: bool
    history: list[CheckInEntry]


class RoundMomentum(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: int
    moving: int
    total: int
    momentum: float


class Momentum(BaseModel):
    model_config = ConfigDict(frozen=True)

    actions: list[ActionMomentum]
    rounds: list[RoundMomentum]

    def share(self, state: str) -> float:
        """The share of actions `done`, `stalled` or `moving` (open and not stalled)."""
        if not self.actions:
            return 0.0
        counted = {
            "done": sum(a.status is ActionStatus.DONE for a in self.actions),
            "stalled": sum(a.stalled for a in self.actions),
        }
        counted["moving"] = len(self.actions) - counted["done"] - counted["stalled"]
        return counted[state] / len(self.actions)

    def lines(self) -> list[str]:
        """The picture in a few plain lines, for an email."""
        lines = [
            f"Done {self.share('done'):.0%}, moving {self.share('moving'):.0%}, stalled {self.share('stalled'):.0%} "
            f"of {len(self.actions)} actions."
        ]
        lines += [
            f"Check-in {r.round}: {r.moving} of {r.total} open actions moved ({r.momentum:.0%})." for r in self.rounds
        ]
        lines += [
            f"{a.title}: {a.status.value.replace('_', ' ')}{' (stalled)' if a.stalled else ''}" for a in self.actions
        ]
        return lines


def momentum_of(record: CycleRecord) -> Momentum | None:
    """None before an action plan is agreed."""
    if record.action_plan is None:
        return None
    history: dict[str, list[CheckInEntry]] = {a.action_id: [] for a in record.action_plan.actions}
    moved_in: dict[str, int] = {}
    for check_in in record.check_ins:
        for item in check_in.progress:
            entries = history.setdefault(item.action_id, [])
            before = entries[-1].status if entries else ActionStatus.NOT_STARTED
            if item.status is not before:
                moved_in[item.action_id] = check_in.round
            entries.append(CheckInEntry(round=check_in.round, status=item.status, note=item.note))
    stalled_in = {s.action_id: s.round for s in record.stalled}
    actions = []
    for action in record.action_plan.actions:
        entries = history[action.action_id]
        status = entries[-1].status if entries else ActionStatus.NOT_STARTED
        stalled = status is not ActionStatus.DONE and stalled_in.get(action.action_id, 0) > moved_in.get(
            action.action_id, 0
        )
        actions.append(
            ActionMomentum(
                action_id=action.action_id, title=action.title, status=status, stalled=stalled, history=entries
            )
        )
    rounds = [
        RoundMomentum(round=m.round, moving=m.moving, total=m.total, momentum=m.momentum) for m in record.momentum
    ]
    return Momentum(actions=actions, rounds=rounds)
