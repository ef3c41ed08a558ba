"""The size of a review cycle's and a peer group's workflow input (issue 16, models and calendars by reference):
the spec carrying its maturity model(s) and school calendar in full, against the same spec by reference
(`id@version` and a checksum each), as the pydantic data converter writes it into the WorkflowExecutionStarted
event of every cycle's and group's history.

    make bench
    .venv/bin/python bench/input_size.py

A size, not a time: the same on any machine.
"""

import sys
from datetime import date
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.calendar_catalog import default_calendar
from content.model_catalog import default_model
from domain.cycle_spec import CycleSpec
from domain.stages import Phase, ReviewType
from operations.peer_groups import group_specs


def payload_bytes(value: object) -> int:
    return len(pydantic_data_converter.payload_converter.to_payloads([value])[0].data)


def cycle_spec(urn: str, phase: Phase, review_type: ReviewType, peer_group: str | None = None) -> CycleSpec:
    return CycleSpec(
        urn=urn,
        name="Bench Academy",
        phase=phase,
        review_type=review_type,
        cohort="bench-2027",
        start_date=date(2027, 1, 4),
        peer_group=peer_group,
        careers_leader_email="careers@school.example",
        facilitator_email="hub-lead@hub.example",
        model=default_model(phase.model_variant),
        calendar=default_calendar(),
    )


def peer_group_sizes() -> None:
    """A group of five schools (one model), and one of four schools and a college (both models): the range."""
    for phases in ([Phase.SECONDARY] * 5, [Phase.SECONDARY] * 4 + [Phase.COLLEGE]):
        members = [cycle_spec(str(300001 + n), p, ReviewType.PEER, "g1") for n, p in enumerate(phases)]
        [group] = group_specs(members)
        whole, by_reference = payload_bytes(group), payload_bytes(group.by_reference())
        label = f"peer group input ({len(members)} members, {len(group.models)} model{'s' * (len(group.models) > 1)})"
        print(f"{label}, in full:      {whole:>6} bytes")
        print(f"{label}, by reference: {by_reference:>6} bytes ({by_reference / whole:.3f}x)")


def main() -> None:
    spec = cycle_spec("100001", Phase.SECONDARY, ReviewType.EXPERT)
    whole, by_reference = payload_bytes(spec), payload_bytes(spec.by_reference())
    print(f"review cycle input, model and calendar in full: {whole:>6} bytes")
    print(f"review cycle input, by reference:               {by_reference:>6} bytes ({by_reference / whole:.3f}x)")
    print(f"  of which the model was {payload_bytes(spec.model)} bytes, the calendar {payload_bytes(spec.calendar)}")
    print(f"25,000 cycles' start events: {whole * 25_000 / 1e6:.0f} MB in full, {by_reference * 25_000 / 1e6:.0f} MB")
    peer_group_sizes()


if __name__ == "__main__":
    main()
