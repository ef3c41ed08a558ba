"""The `cis` command."""

import typer

from cli import (
    calendar_commands,
    cohort_commands,
    cycle_commands,
    demo_command,
    group_commands,
    history_commands,
    insight_command,
    mail_commands,
    reference_commands,
    review_commands,
    stack_commands,
    token_commands,
)
from cli.maintenance_commands import projections_app

app = typer.Typer(
    help="Careers Impact System: review cycles for schools and colleges, run as durable workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("dev")(stack_commands.dev)
app.command("demo")(demo_command.demo)
app.command("worker")(stack_commands.worker)
app.command("web")(stack_commands.web)
app.command("setup")(stack_commands.setup)
app.add_typer(cycle_commands.cycle_app, name="cycle")
app.add_typer(cohort_commands.cohort_app, name="cohort")
app.add_typer(group_commands.group_app, name="group")
app.add_typer(review_commands.review_app, name="review")
app.add_typer(calendar_commands.calendar_app, name="calendar")
app.command("submit")(cycle_commands.submit)
app.command("status")(cycle_commands.status)
app.command("insight")(insight_command.insight)
app.command("timeline")(cycle_commands.timeline)
app.command("events")(cycle_commands.events)
app.command("prompts")(mail_commands.prompts)
app.command("mail")(mail_commands.mail)
app.command("model")(reference_commands.model)
app.command("schema")(reference_commands.schema)
app.command("template")(reference_commands.template)
app.add_typer(projections_app, name="projections")
app.add_typer(history_commands.histories_app, name="histories")
app.add_typer(token_commands.token_app, name="token")


if __name__ == "__main__":
    app()
