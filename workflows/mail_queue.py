"""Which task queue a workflow schedules its mail sends on."""

from temporalio import workflow

from domain.mail import mail_task_queue

MAIL_QUEUE_PATCH = "mail-on-its-own-task-queue"


def mail_queue() -> str | None:
    """The mail queue, where Temporal holds every worker together to the SMTP provider's rate; None (the
    workflow's own queue) where a running workflow's history scheduled its sends before that queue existed."""
    if workflow.patched(MAIL_QUEUE_PATCH):
        return mail_task_queue(workflow.info().task_queue)
    return None
