"""The simulated people of the chaos run. They act only through the public JSON API, with the tokens
`cis token issue` gave them: CEC (admin: institutions' submissions, review teams, review days, findings and
reports as the review lead, withdrawals) and the cohort's facilitator (peer groups and their summaries).

Like real people they see the engine only through what it shows them: each round they read the cycle list,
act on what their stage asks of them, and simply try again next round when a request fails or times out
(the worker may be dead, PostgreSQL down). A refusal (422) means the state moved on; it is not retried.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from content.model_catalog import default_model
from demo.sample_submissions import sample_submission
from domain.maturity_model import MaturityModel
from domain.school_calendar import SchoolCalendar
from domain.stages import ModelVariant, ReviewType
from domain.submissions import SubmissionKind
from tests.chaos.cohort import COHORT, REVIEW_LEAD, Institution, Persona

# How long one request may take before the person gives up for this round (a dead worker holds an Update).
REQUEST_TIMEOUT = 20.0


class People:
    def __init__(
        self,
        web_url: str,
        admin_token: str,
        facilitator_token: str,
        institutions: list[Institution],
        calendar: SchoolCalendar,
        seconds_per_week: float,
        today: Callable[[], date],
        lead_token: Callable[[str], Awaitable[str]],
        trail: Path,
        concurrency: int = 6,
    ) -> None:
        """`today`: the cycles' date as a person would read it off the calendar on the wall (a query's answer
        lags: it is the date of the workflow's last task). `lead_token`: the sign-in token CEC gives the review lead
        for one cycle, once it has assigned the team (`cis token issue --role reviewer`). `trail`: every request
        and its answer, to read after a run."""
        self._web = httpx.AsyncClient(base_url=web_url, timeout=REQUEST_TIMEOUT)
        self._admin = {"Authorization": f"Bearer {admin_token}"}
        self._lead_token = lead_token
        self._leads: dict[str, dict[str, str]] = {}
        self._facilitator = {"Authorization": f"Bearer {facilitator_token}"}
        self._institutions = {i.cycle_id: i for i in institutions}
        self._groups = sorted({i.peer_group for i in institutions if i.peer_group})
        self._calendar = calendar
        self._today = today
        self._done: set[tuple[str, str]] = set()  # (cycle, kind) accepted, or refused as done already
        self._limit = asyncio.Semaphore(concurrency)
        self._models = {variant: default_model(variant) for variant in ModelVariant}
        # After acting on a cycle a person lets a cycle day pass before looking again (the list may lag).
        self._pause = max(1.0, seconds_per_week / 7)
        self._check_in_pause = seconds_per_week
        self._next_look: dict[str, float] = {}
        self._next_check_in: dict[str, float] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self.closed = asyncio.Event()  # set once every cycle has ended (completed, lapsed or withdrawn)
        self.outcomes: Counter[str] = Counter()
        self._trail = trail.open("a", buffering=1)

    async def close(self) -> None:
        await self._web.aclose()
        self._trail.close()

    async def round(self) -> None:
        """One look at every cycle and group, and whatever each person does about it."""
        rows = await self._get("/api/cycles", self._admin)
        if not isinstance(rows, list):
            return
        self.rows = {row["cycle_id"]: row for row in rows if row["cycle_id"] in self._institutions}
        if len(self.rows) == len(self._institutions) and all(r["status"] != "active" for r in self.rows.values()):
            self.closed.set()
        work = [self._facilitate(group) for group in self._groups]
        work += [self._act(self._institutions[cycle_id], row) for cycle_id, row in self.rows.items()]
        await asyncio.gather(*work)

    # ----- requests --------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response | None:
        """The answer, or None when the service could not be reached (or did not answer in time)."""
        async with self._limit:
            try:
                response = await self._web.request(method, path, headers=headers, json=body)
            except httpx.HTTPError as error:
                self.outcomes[f"{method} failed ({type(error).__name__})"] += 1
                self._trail.write(f"{time.time():.1f} {method} {path}: {type(error).__name__}\n")
                return None
        if method == "POST" or response.status_code >= 400:
            self._trail.write(f"{time.time():.1f} {method} {path}: {response.status_code} {response.text[:300]}\n")
        status = {200: "ok", 422: "refused"}.get(response.status_code, f"answered {response.status_code}")
        self.outcomes[f"{method} {status}"] += 1
        return response

    async def _get(self, path: str, headers: dict[str, str]) -> Any:
        """The JSON answer, or None this round."""
        response = await self._request("GET", path, headers)
        return response.json() if response is not None and response.status_code == 200 else None

    async def _post(self, path: str, headers: dict[str, str], body: Any, done: tuple[str, str] | None = None) -> None:
        """`done`: what this request does once, remembered once accepted or refused as done already (a
        person does not hand in twice what they handed in, though the list may not show it yet)."""
        if done in self._done:
            return
        response = await self._request("POST", path, headers, body)
        if done is None or response is None:
            return
        if response.status_code == 200 or (response.status_code == 422 and "already" in response.text):
            self._done.add(done)

    async def _submit(self, cycle_id: str, kind: SubmissionKind, who: dict[str, str], data: Any) -> None:
        await self._post(f"/api/cycles/{cycle_id}/submissions/{kind.value}", who, data, done=(cycle_id, kind.value))

    # ----- institutions, CEC and review leads ------------------------------------------------------

    def _model(self, institution: Institution) -> MaturityModel:
        return self._models[institution.phase.model_variant]

    async def _act(self, institution: Institution, row: dict[str, Any]) -> None:
        now = asyncio.get_running_loop().time()
        cycle_id = institution.cycle_id
        if row["status"] == "active" and self._next_look.get(cycle_id, 0.0) <= now:
            self._next_look[cycle_id] = now + self._pause
            await self._act_on_stage(institution, row)
        followed_up = row["status"] == "completed" or (row["status"] == "active" and row["stage"] == "re_evaluation")
        if institution.persona is Persona.PROMPT and followed_up and self._next_check_in.get(cycle_id, 0.0) <= now:
            # At most one try a cycle week: a refusal says the round's window is not open yet, or it is done.
            self._next_check_in[cycle_id] = now + self._check_in_pause
            await self._check_in(institution)

    async def _act_on_stage(self, institution: Institution, row: dict[str, Any]) -> None:
        persona, stage, cycle_id = institution.persona, row["stage"], institution.cycle_id
        if persona is Persona.NEVER or stage is None:
            return
        if stage in ("onboarding", "self_evaluation") and persona is Persona.LATE and not row["overdue"]:
            return
        if stage == "self_evaluation" and persona is Persona.WITHDRAWN:
            reason = {"reason": "Joining next year"}
            await self._post(f"/api/cycles/{cycle_id}/withdraw", self._admin, reason, done=(cycle_id, "withdraw"))
            return
        if stage == "action_planning" and persona is Persona.STOPS:
            return
        if stage == "review":
            if row["review_type"] == ReviewType.EXPERT.value:
                await self._expert_review(institution, row)
            return  # a peer member's findings come from its group's facilitator
        kind = {
            "onboarding": SubmissionKind.ONBOARDING,
            "self_evaluation": SubmissionKind.SELF_EVALUATION,
            "report": SubmissionKind.REPORT,
            "action_planning": SubmissionKind.ACTION_PLAN,
            "re_evaluation": SubmissionKind.RE_EVALUATION,
        }[stage]
        review_type = ReviewType(row["review_type"])
        data = sample_submission(kind, self._model(institution), review_type, self._today(), f"u{institution.urn}")
        who: dict[str, str] | None = self._admin
        if kind is SubmissionKind.REPORT:
            # A peer cycle's summary of findings is its facilitator's; an expert report is its review lead's.
            who = self._facilitator if review_type is ReviewType.PEER else await self._lead(cycle_id)
        if who is not None:
            await self._submit(cycle_id, kind, who, data)

    async def _expert_review(self, institution: Institution, row: dict[str, Any]) -> None:
        cycle_id = institution.cycle_id
        if not row["review_lead_email"]:
            team = {"lead": REVIEW_LEAD}
            await self._post(f"/api/cycles/{cycle_id}/review-team", self._admin, team, done=(cycle_id, "team"))
            return
        lead = await self._lead(cycle_id)
        if lead is None:
            return
        today = self._today()
        if not row["review_starts"]:
            day = self._calendar.add_school_days(today, 2)
            on = {"on": day.isoformat()}
            await self._post(f"/api/cycles/{cycle_id}/review-day", lead, on, done=(cycle_id, "review-day"))
            return
        if today >= date.fromisoformat(row["review_starts"][:10]):
            data = sample_submission(
                SubmissionKind.REVIEW, self._model(institution), ReviewType.EXPERT, today, institution.urn
            )
            await self._submit(cycle_id, SubmissionKind.REVIEW, lead, data)

    async def _lead(self, cycle_id: str) -> dict[str, str] | None:
        """The review lead's credentials for this cycle, asked of CEC once (None while `cis` cannot answer)."""
        if cycle_id not in self._leads:
            try:
                token = await self._lead_token(cycle_id)
            except AssertionError as failure:  # the command failed (the database down, say): ask again later
                self._trail.write(f"{time.time():.1f} token for {cycle_id}: {str(failure)[:200]}\n")
                return None
            self._leads[cycle_id] = {"Authorization": f"Bearer {token}"}
        return self._leads[cycle_id]

    async def _check_in(self, institution: Institution) -> None:
        """Each round of the follow-up, once its window is open: every action moves on a step."""
        cycle_id = institution.cycle_id
        plan = await self._get(f"/api/cycles/{cycle_id}/submissions/action-plan", self._admin)
        if not plan:
            return
        actions = plan["data"]["actions"]
        progress = [{"action_id": a["id"], "status": "in_progress", "note": "Moving on"} for a in actions]
        await self._post(f"/api/cycles/{cycle_id}/submissions/check-in", self._admin, {"progress": progress})

    # ----- the facilitator ---------------------------------------------------------------------------

    async def _facilitate(self, group: str) -> None:
        """Meet once everyone is ready (moving out, after the cut-off, whoever is not), then record each
        member's findings the day after the meeting."""
        path = f"/api/groups/{COHORT}/{group}"
        view = await self._get(path, self._facilitator)
        if not view:
            return
        today = self._today()
        members = view["members"]
        if view["phase"] == "forming" and members:
            not_ready = [m["cycle_id"] for m in members if not m["ready_on"]]
            if not not_ready:
                on = self._calendar.add_school_days(today, 2)
                plan = {"on": on.isoformat(), "start": "09:00", "slot_minutes": 60}
                await self._post(f"{path}/meeting", self._facilitator, plan, done=(group, "meeting"))
            elif today > date.fromisoformat(view["cut_off"]):
                move = {"cycle_id": not_ready[0], "to": "expert_review", "reason": "not ready by the cut-off"}
                await self._post(f"{path}/moves", self._facilitator, move, done=(not_ready[0], "moved"))
            return
        if view["meeting_starts"] and today > date.fromisoformat(view["meeting_starts"][:10]):
            for member in members:
                if member["findings_recorded"]:
                    continue
                institution = self._institutions[member["cycle_id"]]
                data = sample_submission(
                    SubmissionKind.REVIEW, self._model(institution), ReviewType.PEER, today, institution.urn
                )
                findings = f"{path}/findings/{member['cycle_id']}"
                await self._post(findings, self._facilitator, data, done=(member["cycle_id"], "findings"))
