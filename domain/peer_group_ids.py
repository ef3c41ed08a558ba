"""The id a peer group's workflow, and so its event stream, goes by."""

PEER_GROUP_PREFIX = "peergroup-"
# Neither a cohort nor a group id can hold a dot (domain/boundary_types.py), so the id splits one way only.
_SEPARATOR = "."


def peer_group_workflow_id(cohort: str, group: str) -> str:
    """One group per id per cohort, so launching a roster twice starts each group once."""
    return f"{PEER_GROUP_PREFIX}{cohort}{_SEPARATOR}{group}"
