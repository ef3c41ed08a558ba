"""Rosters uploaded from the web, kept for the workflow that launches them."""

import json

import asyncpg

from domain.roster import RosterRow
from domain.roster_launch import RosterLaunch


async def save_launch(pool: asyncpg.Pool, launch: RosterLaunch) -> None:
    """Keep the roster; the same launch uploaded again keeps the first copy (they are the same by their id)."""
    await pool.execute(
        """
        INSERT INTO roster_launches (launch_id, cohort, start_date, time_scale, rows, row_count, launched_by)
        VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7)
        ON CONFLICT (launch_id) DO NOTHING
        """,
        launch.launch_id,
        launch.cohort,
        launch.start_date,
        launch.time_scale,
        json.dumps([row.model_dump(mode="json") for row in launch.rows]),
        len(launch.rows),
        launch.launched_by,
    )


async def load_launch(pool: asyncpg.Pool, launch_id: str) -> RosterLaunch | None:
    row = await pool.fetchrow(
        "SELECT launch_id, cohort, start_date, time_scale, rows::text AS rows, launched_by "
        "FROM roster_launches WHERE launch_id = $1",
        launch_id,
    )
    if row is None:
        return None
    return RosterLaunch(
        launch_id=row["launch_id"],
        cohort=row["cohort"],
        start_date=row["start_date"],
        time_scale=row["time_scale"],
        rows=[RosterRow.model_validate(item) for item in json.loads(row["rows"])],
        launched_by=row["launched_by"],
    )
