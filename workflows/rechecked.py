"""Rules re-run inside an update's handler, after its validator accepted the request."""

from collections.abc import Callable

from temporalio.exceptions import ApplicationError

from domain.refusals import Refusal


def rechecked[T](check: Callable[[], T]) -> T:
    """Validators already ran these rules; should state have moved since, fail the update, never the workflow task."""
    try:
        return check()
    except Refusal as refusal:
        raise ApplicationError(str(refusal), type="Refusal", non_retryable=True) from None
