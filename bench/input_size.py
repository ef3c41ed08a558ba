"""The size of a review cycle's workflow input (issue 16, models and calendars by reference): the spec carrying
its maturity model and school calendar in full, against the same spec by reference (`id@version` and a checksum
each), as the pydantic data converter writes it into the WorkflowExecutionStarted event of every cycle's history.

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
from domain.stages import ModelVariant, Phase, ReviewType


def payload_bytes(value: object) -> int:
    return len(pydantic_data_converter.payload_converter.to_payloads([value])[0].data)


def main() -> None:
    spec = CycleSpec(
        urn="100001",
        name="Bench Academy",
        phase=Phase.SECONDARY,
        review_type=ReviewType.EXPERT,
        cohort="bench-2027",
        start_date=date(2027, 1, 4),
        careers_leader_email="careers@school.example",
        facilitator_email="hub-lead@hub.example",
        model=default_model(ModelVariant.SCHOOLS),
        calendar=default_calendar(),
    )
    whole, by_reference = payload_bytes(spec), payload_bytes(spec.by_reference())
    print(f"review cycle input, model and calendar in full: {whole:>6} bytes")
    print(f"review cycle input, by reference:               {by_reference:>6} bytes ({by_reference / whole:.3f}x)")
    print(f"  of which the model was {payload_bytes(spec.model)} bytes, the calendar {payload_bytes(spec.calendar)}")
    print(f"25,000 cycles' start events: {whole * 25_000 / 1e6:.0f} MB in full, {by_reference * 25_000 / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
