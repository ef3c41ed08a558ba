"""One way to define an Update: its validator and its handler make the same call into the decider.

The validator runs the call and drops the result: a refusal there turns the request down
before anything reaches history. The handler runs it again, since state may have moved
while the update waited, and carries out what it returns.
"""

from collections.abc import Callable
from typing import Any, Protocol, get_type_hints

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import UpdateMethodMultiParam

from domain.refusals import Refusal
from domain.requests import Receipt


class CarriesOut[D](Protocol):
    async def carry_out(self, decision: D, /) -> Receipt | None: ...


def decided_update[W: CarriesOut[Any], R: BaseModel, D](
    decide: Callable[[W, R], D],
) -> UpdateMethodMultiParam[[W, R], Receipt]:
    """Turn `decide(self, request)` (pure and fast; raises Refusal) into an Update named after it."""
    request_type = next(hint for name, hint in get_type_hints(decide).items() if name != "return")

    async def handler(self: W, request: R) -> Receipt:
        try:
            decision = decide(self, request)
        except Refusal as refusal:
            # The validator accepted it, but state moved meanwhile: fail the update, never the workflow task.
            raise ApplicationError(str(refusal), type="Refusal", non_retryable=True) from None
        receipt = await self.carry_out(decision)
        if receipt is None:
            raise ApplicationError(f"{decide.__name__} gave no answer to send back", non_retryable=True)
        return receipt

    def validator(self: W, request: R) -> None:
        decide(self, request)

    handler.__name__ = handler.__qualname__ = decide.__name__
    handler.__annotations__ = {"request": request_type, "return": Receipt}
    validator.__annotations__ = {"request": request_type, "return": None}
    update = workflow.update(handler)
    update.validator(validator)
    return update
