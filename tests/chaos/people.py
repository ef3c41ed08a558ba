"""The simulated people of the chaos run. They act only through the public JSON API, with the tokens
`cis token issue` gave them: CEC (admin: institutions' submissions, review teams, withdrawals), the review lead of
each expert review (review days, findings, reports) and the cohort's facilitator (peer groups and their summaries).

Like real people they see the engine only through what it shows them, and each gets on with their own work:
every institution, review lead and facilitator acts as soon as the cycle list (or the group's page) shows their
task open, on the date their cycle's own clock shows. When the service does not answer (the worker dead,
PostgreSQL down: a 503, a timeout, a refused connection) they wait a little, longer each time, and try again.
A refusal (422) means the state moved on; they look again rather than send the same thing twice.
"""

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from content.model_catalog import default_model
from demo.sample_submissions import sample_submission
from domain.maturity_model import MaturityModel
from domain.school_calendar import SchoolCalendar
from domain.stages import ModelVariant, ReviewType
from domain.submissions import SubmissionKind
from store.read_models import CycleStatusRow
from tests.chaos.cohort import COHORT, REVIEW_LEAD, Institution, Persona

# How long one request may take before the person gives up on it (a dead worker holds an Update until a new
# one takes the workflow's task); they then look at the list again and, if the task is still open, retry.
REQUEST_TIMEOUT = 30.0
# A person's patience between tries when the service does not answer: doubling from the first to the last.
FIRST_RETRY = 0.5
LAST_RETRY = 8.0
# A refusal in these words means what was sent is on record already (sent again after a timeout, say).
ON_RECORD = ("was already accepted", "already recorded", "had already scheduled", "a group meets once")
# How far ahead a review day or group meeting is set, in school days, besides the time a change takes to go
# through (People._days_ahead): at a fast time scale a school day passes in a second or less, and a day picked
# for the day after tomorrow is in the past by the time a request that waited for a busy worker arrives.
DAYS_AHEAD = 2
KINDS = {
    "onboarding": SubmissionKind.ONBOARDING,
    "self_evaluation": SubmissionKind.SELF_EVALUATION,
    "report": SubmissionKind.REPORT,
    "action_planning": SubmissionKind.ACTION_PLAN,
    "re_evaluation": SubmissionKind.RE_EVALUATION,
}


class Unanswered(Exception):
    """The service did not answer this time (no connection, a timeout, a 5xx)."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


class People:
    def __init__(
        self,
        web_url: str,
        admin_token: str,
        facilitator_token: str,
        institutions: list[Institution],
        calendar: SchoolCalendar,
        seconds_per_week: float,
        lead_token: Callable[[str], Awaitable[str]],
        trail: Path,
        extensions: dict[Persona, date] | None = None,
        look_every: float = 1.0,
        concurrency: int = 8,
    ) -> None:
        """`lead_token`: the sign-in token CEC gives the review lead of one cycle (`cis token issue --role reviewer`).
        `trail`: every request that changes something or fails, and its answer, to read after a run.
        `look_every`: seconds between two looks at the cycle list (a person with the page open, refreshing).
        `extensions`: CEC's first act for the cycles of these personas: their re-evaluation is due then."""
        self._web = httpx.AsyncClient(base_url=web_url, timeout=REQUEST_TIMEOUT)
        self._admin = {"Authorization": f"Bearer {admin_token}"}
        self._facilitator = {"Authorization": f"Bearer {facilitator_token}"}
        self._lead_token = lead_token
        self._leads: dict[str, asyncio.Task[dict[str, str]]] = {}
        self._institutions = {i.cycle_id: i for i in institutions}
        self._groups = sorted({i.peer_group for i in institutions if i.peer_group})
        self._calendar = calendar
        self._look_every = look_every
        self._extensions = extensions or {}
        self._check_in_every = seconds_per_week
        self._school_day_seconds = seconds_per_week / 5
        self._answer_times: list[float] = []  # seconds the latest changes took to be answered
        # A facilitator opens a group's page every other cycle day (a page a query the worker answers: thirty
        # groups looked at more often keep a busy worker from its cycles).
        self._group_look_every = 2 * seconds_per_week / 7
        self._done: set[tuple[str, str]] = set()  # (cycle, act) accepted, or refused as done already
        self._limit = asyncio.Semaphore(concurrency)
        self._models = {variant: default_model(variant) for variant in ModelVariant}
        self._listed = asyncio.Event()  # set at each fresh look at the list
        self.rows: dict[str, CycleStatusRow] = {}
        self.closed = asyncio.Event()  # set once every cycle has ended (completed, lapsed or withdrawn)
        self.outcomes: Counter[str] = Counter()
        self._trail = trail.open("a", buffering=1)

    async def run(self, stop: asyncio.Event) -> None:
        """Everyone at work until `stop`: the list refreshed, each cycle's and each group's people acting."""
        work: list[Coroutine[Any, Any, None]] = [self._watch_list(stop)]
        work += [self._institution(i, stop) for i in self._institutions.values()]
        work += [self._facilitator_of(group, stop) for group in self._groups]
        # CEC signs each expert review's lead in as soon as the cycle exists, well before the review opens.
        work += [self._sign_in_lead(i, stop) for i in self._institutions.values() if i.peer_group is None]
        tasks = [asyncio.create_task(w) for w in work]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for lead in self._leads.values():
                lead.cancel()
            await asyncio.gather(*self._leads.values(), return_exceptions=True)

    async def close(self) -> None:
        await self._web.aclose()
        self._trail.close()

    # ----- requests --------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
        """The answer (2xx or 4xx); Unanswered when the service could not answer it."""
        async with self._limit:
            try:
                sent = time.monotonic()
                response = await self._web.request(method, path, headers=headers, json=body)
                if method == "POST" and response.status_code < 500:
                    self._answer_times = [*self._answer_times[-19:], time.monotonic() - sent]
            except httpx.HTTPError as error:
                self.outcomes[f"{method} failed ({type(error).__name__})"] += 1
                self._note(f"{method} {path}: {type(error).__name__}")
                raise Unanswered(type(error).__name__) from None
        if method == "POST" or response.status_code >= 400:
            self._note(f"{method} {path}: {response.status_code} {response.text[:300]}")
        status = {200: "ok", 422: "refused"}.get(response.status_code, f"answered {response.status_code}")
        self.outcomes[f"{method} {status}"] += 1
        if response.status_code >= 500:
            after = response.headers.get("Retry-After", "")
            raise Unanswered(f"{response.status_code}", float(after) if after.isdigit() else None)
        return response

    def _days_ahead(self) -> int:
        """School days ahead for a date to be still ahead when the change arrives: what a person learns from how
        long their last changes took (the slowest of the last twenty), and two days' notice."""
        slowest = max(self._answer_times, default=0.0)
        # At most three weeks ahead: a date past the cycle's closing is refused (a person asks for a sooner one).
        return min(DAYS_AHEAD + math.ceil(2 * slowest / self._school_day_seconds), 15)

    def _note(self, line: str) -> None:
        self._trail.write(f"{time.time():.1f} {line}\n")

    async def _patiently[T](self, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event) -> T | None:
        """Try until there is an answer, waiting longer each time (at most LAST_RETRY, whatever Retry-After says:
        a person at a fast time scale does not wait a minute, which is weeks); None once `stop` is set."""
        wait = FIRST_RETRY
        while not stop.is_set():
            try:
                return await attempt()
            except Unanswered as unanswered:
                pause = min(LAST_RETRY, max(wait, unanswered.retry_after or 0.0))
                wait = min(LAST_RETRY, wait * 2)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)
        return None

    async def _get(self, path: str, headers: dict[str, str]) -> Any:
        """The JSON answer; None for a 4xx (not there, not yet)."""
        response = await self._request("GET", path, headers)
        return response.json() if response.status_code == 200 else None

    async def _post(
        self,
        path: str,
        headers: dict[str, str],
        body: Any,
        done: tuple[str, str] | None,
        settled: tuple[str, ...] = ON_RECORD,
    ) -> None:
        """`done`: what this request does once, remembered once accepted or refused as done already (a person does
        not hand in twice what they handed in, though the list may not show it yet). A post that timed out may
        have been accepted: sent again, it is refused in words from `settled`."""
        if done in self._done:
            return
        response = await self._request("POST", path, headers, body)
        if done is not None and (
            response.status_code == 200
            or (response.status_code == 422 and any(words in response.text for words in settled))
        ):
            self._done.add(done)

    # ----- what everyone reads: the cycle list ------------------------------------------------------

    async def _watch_list(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rows = await self._patiently(self._list, stop)
            if rows is not None:
                self.rows = {row.cycle_id: row for row in rows if row.cycle_id in self._institutions}
                self._listed.set()
                self._listed.clear()
                if len(self.rows) == len(self._institutions) and all(r.status != "active" for r in self.rows.values()):
                    self.closed.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._look_every)

    async def _list(self) -> list[CycleStatusRow]:
        """Every page of the list (the Link header names the next)."""
        rows: list[CycleStatusRow] = []
        path: str | None = "/api/cycles?limit=1000"
        while path is not None:
            response = await self._request("GET", path, self._admin)
            if response.status_code != 200:
                raise Unanswered(f"the list answered {response.status_code}")
            rows += [CycleStatusRow.model_validate(row) for row in response.json()]
            following = response.links.get("next", {}).get("url")
            path = str(following) if following else None
        return rows

    async def _next_look(self, stop: asyncio.Event) -> None:
        """Until the list has been read again (or the run stops)."""
        waiting = asyncio.create_task(self._listed.wait())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        stopping.cancel()

    # ----- institutions, CEC and review leads ------------------------------------------------------

    def _model(self, institution: Institution) -> MaturityModel:
        return self._models[institution.phase.model_variant]

    async def _institution(self, institution: Institution, stop: asyncio.Event) -> None:
        """Everything done about one cycle, by whoever's turn it is, as soon as the list shows it."""
        next_check_in = 0.0
        extend_to = self._extensions.get(institution.persona)
        while not stop.is_set():
            await self._next_look(stop)
            row = self.rows.get(institution.cycle_id)
            if row is None:
                continue
            if row.status == "active" and extend_to is not None:
                await self._patiently(lambda: self._extend(institution, extend_to), stop)
            if row.status == "active" and row.stage is not None:
                # Each try on the latest look at the list: the state may have moved on while the service was away.
                await self._patiently(lambda: self._act_on_stage(institution, self.rows[institution.cycle_id]), stop)
            followed_up = row.status == "completed" or (row.status == "active" and row.stage == "re_evaluation")
            now = time.monotonic()
            if institution.persona is Persona.PROMPT and followed_up and next_check_in <= now:
                # At most one try a cycle week: a refusal says the round's window is not open yet, or it is done.
                next_check_in = now + self._check_in_every
                await self._patiently(lambda: self._check_in(institution), stop)

    async def _extend(self, institution: Institution, to: date) -> None:
        """The faults stall every cycle for real seconds (a worker starting again and catching up, a killed
        worker's activity waiting out its timeout, a store outage backing off), which a fast time scale turns into
        weeks: CEC gives the cycles that would otherwise lapse somewhere other than their inputs say a later
        re-evaluation due date, and with it a later closing date. No stage opens later, so the people still act
        as the stages open; the extension only keeps the faults' stalls from ending those cycles early."""
        cycle_id = institution.cycle_id
        change = {"stage": "re_evaluation", "to": to.isoformat(), "reason": "chaos: room for the faults"}
        # Sent again after a timeout, an accepted extension is refused as not after the (new) due date.
        settled = ("must be after the current due date",)
        await self._post(f"/api/cycles/{cycle_id}/extend", self._admin, change, (cycle_id, "extend"), settled)

    async def _act_on_stage(self, institution: Institution, row: CycleStatusRow) -> None:
        persona, stage, cycle_id = institution.persona, row.stage, institution.cycle_id
        if persona is Persona.NEVER or stage is None or not row.stage_open:
            return
        if stage in ("onboarding", "self_evaluation") and persona is Persona.LATE and not row.overdue:
            return
        if stage == "self_evaluation" and persona is Persona.WITHDRAWN:
            reason = {"reason": "Joining next year"}
            await self._post(f"/api/cycles/{cycle_id}/withdraw", self._admin, reason, done=(cycle_id, "withdraw"))
            return
        if stage == "action_planning" and persona is Persona.STOPS:
            return
        if stage == "review":
            if row.review_type == ReviewType.EXPERT.value:
                await self._expert_review(institution, row)
            return  # a peer member's findings come from its group's facilitator
        kind = KINDS[stage]
        if (cycle_id, kind.value) in self._done:
            return
        review_type = ReviewType(row.review_type)
        today = row.cycle_today(datetime.now(UTC))
        data = sample_submission(kind, self._model(institution), review_type, today, f"u{institution.urn}")
        who = self._admin
        if kind is SubmissionKind.REPORT:
            # A peer cycle's summary of findings is its facilitator's; an expert report is its review lead's.
            who = self._facilitator if review_type is ReviewType.PEER else await self._lead(cycle_id)
        await self._post(f"/api/cycles/{cycle_id}/submissions/{kind.value}", who, data, done=(cycle_id, kind.value))

    async def _expert_review(self, institution: Institution, row: CycleStatusRow) -> None:
        cycle_id = institution.cycle_id
        if not row.review_lead_email:
            team = {"lead": REVIEW_LEAD}
            await self._post(f"/api/cycles/{cycle_id}/review-team", self._admin, team, done=(cycle_id, "team"))
            return
        lead = await self._lead(cycle_id)
        today = row.cycle_today(datetime.now(UTC))
        if row.review_starts is None:
            on = {"on": self._calendar.add_school_days(today, self._days_ahead()).isoformat()}
            await self._post(f"/api/cycles/{cycle_id}/review-day", lead, on, done=(cycle_id, "review-day"))
            return
        if today >= row.review_starts.date():
            data = sample_submission(
                SubmissionKind.REVIEW, self._model(institution), ReviewType.EXPERT, today, institution.urn
            )
            path = f"/api/cycles/{cycle_id}/submissions/{SubmissionKind.REVIEW.value}"
            await self._post(path, lead, data, done=(cycle_id, SubmissionKind.REVIEW.value))

    async def _sign_in_lead(self, institution: Institution, stop: asyncio.Event) -> None:
        while institution.cycle_id not in self.rows and not stop.is_set():
            await self._next_look(stop)
        with contextlib.suppress(Unanswered):
            await self._lead(institution.cycle_id)

    async def _lead(self, cycle_id: str) -> dict[str, str]:
        """The review lead's credentials for this cycle, asked of CEC once (Unanswered while `cis` cannot)."""
        asked = self._leads.get(cycle_id)
        if asked is None or (asked.done() and (asked.cancelled() or asked.exception() is not None)):
            asked = self._leads[cycle_id] = asyncio.create_task(self._ask_for_lead_token(cycle_id))
        return await asyncio.shield(asked)

    async def _ask_for_lead_token(self, cycle_id: str) -> dict[str, str]:
        try:
            token = await self._lead_token(cycle_id)
        except AssertionError as failure:  # the command failed (the database down, say): ask again later
            self._note(f"token for {cycle_id}: {str(failure)[:200]}")
            raise Unanswered("cis token issue failed") from None
        return {"Authorization": f"Bearer {token}"}

    async def _check_in(self, institution: Institution) -> None:
        """Each round of the follow-up, once its window is open: every action moves on a step."""
        cycle_id = institution.cycle_id
        plan = await self._get(f"/api/cycles/{cycle_id}/submissions/action-plan", self._admin)
        if not plan:
            return
        actions = plan["data"]["actions"]
        progress = [{"action_id": a["id"], "status": "in_progress", "note": "Moving on"} for a in actions]
        await self._post(f"/api/cycles/{cycle_id}/submissions/check-in", self._admin, {"progress": progress}, None)

    # ----- the facilitator ---------------------------------------------------------------------------

    async def _facilitator_of(self, group: str, stop: asyncio.Event) -> None:
        members = [i.cycle_id for i in self._institutions.values() if i.peer_group == group]
        next_look = 0.0
        while not stop.is_set():
            await self._next_look(stop)
            rows = [self.rows[m] for m in members if m in self.rows]
            if len(rows) < len(members) or not any(r.stage in ("self_evaluation", "review") for r in rows):
                continue  # nothing for the group to do before its members evaluate themselves, or after its review
            if time.monotonic() < next_look:
                continue
            next_look = time.monotonic() + self._group_look_every
            await self._patiently(lambda: self._facilitate(group), stop)

    async def _facilitate(self, group: str) -> None:
        """Meet once everyone is ready (moving out, after the cut-off, whoever is not), then record each
        member's findings the day after the meeting."""
        path = f"/api/groups/{COHORT}/{group}"
        view = await self._get(path, self._facilitator)
        if not view:
            return
        today = date.fromisoformat(view["today"])
        members = view["members"]
        if view["phase"] == "forming" and members:
            not_ready = [m["cycle_id"] for m in members if not m["ready_on"]]
            if not not_ready:
                on = self._calendar.add_school_days(today, self._days_ahead())
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
