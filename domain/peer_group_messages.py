"""Messages between a peer group and its member cycles (signals), and to the activity that joins a later group."""

from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.peer_group_rules import Destination
from domain.peer_group_spec import PeerGroupInput, PeerMember
from domain.submissions import ReviewFindings


class MemberReady(BaseModel):
    """A member cycle tells its group that its self-evaluation was accepted."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    on: date


class MemberLeft(BaseModel):
    """A member cycle tells its group it ended (withdrawn or lapsed) before its findings came."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    reason: str


class Joiner(BaseModel):
    """A member moved here from another group."""

    model_config = ConfigDict(frozen=True)

    member: PeerMember
    from_group: str
    ready_on: date | None = None


class GroupExit(BaseModel):
    """The group tells a member cycle it was moved out: to a later group or to expert review."""

    model_config = ConfigDict(frozen=True)

    group: str
    to: Destination
    later_group: str | None
    reason: str
    actor: str


class PeerFindings(BaseModel):
    """The facilitator's findings for one member, handed to its cycle."""

    model_config = ConfigDict(frozen=True)

    group: str
    findings: ReviewFindings
    actor: str


class JoinRequest(BaseModel):
    """For the activity that adds a member to a later group, starting that group if it does not exist yet."""

    model_config = ConfigDict(frozen=True)

    spec: PeerGroupInput
    joiner: Joiner
