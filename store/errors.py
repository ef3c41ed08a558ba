"""What the store refuses, with messages an operator can act on."""


class EventStoreError(Exception):
    """Base of the store's refusals."""


class WrongExpectedVersion(EventStoreError):
    """The stream moved on since the writer last read it: another writer appended first."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}, but the stream is at version {actual}; "
            "nothing was appended"
        )


class IdempotencyConflict(EventStoreError):
    """Some of a batch's event ids are stored, but not as this same batch: a retry cannot be told from a clash."""

    def __init__(self, stream_id: str, event_ids: list[str], reason: str) -> None:
        self.stream_id = stream_id
        self.event_ids = event_ids
        self.reason = reason
        super().__init__(
            f"stream {stream_id!r}: event ids {', '.join(event_ids)} {reason}; "
            "only an identical retry of a stored batch is accepted, so nothing was appended"
        )


class AppendOutOfOrder(EventStoreError):
    """The transaction took its id before the stream's last append did: readers would see its events first."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(
            f"stream {stream_id!r}: this transaction wrote before the stream's last append and would be followed "
            "ahead of it; nothing was appended: append first in a new transaction"
        )


class MigrationChanged(EventStoreError):
    """A migration file differs from the text this database already ran."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"migration {name} was changed after it was applied to this database; "
            "restore its original text and put the change in a new, higher-numbered migration"
        )
