"""Evaluations shared within a peer group, and the questions to probe them with (issue 17).

One cohort, two peer groups of three, on the time-skipping server. In the first group two schools agree at
onboarding to share their self-evaluation and one does not: each of the two sees the other's ratings and evidence
side by side and never the third's; the third sees none; the facilitator sees all three; a school of the other
group sees none of them. The meeting pack (page and PDF, read back with pdftotext) holds each school's questions
to probe, which the review page shows too; the findings record the questions discussed and who attended.
"""

import shutil
from datetime import date, time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from domain.cycle_spec import CycleSpec
from domain.probing import ProbeRule, question_key
from operations.cohorts import launch_cohort
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import Engine, running_worker
from tests.eventually import eventually
from tests.test_outcome import app_for, pdf_text
from tests.test_peer_groups import START, group_of
from tests.test_work_pages import LATER, Person

MODEL = factories.SCHOOLS_MODEL
FIRST_GROUP = group_of(3, "g1", 330000)
SHARING, KEEPING = FIRST_GROUP[:2], FIRST_GROUP[2:]
OTHER_GROUP = group_of(3, "g2", 330010)
GOOD = "Minutes of the governors' meeting in March 2026 record it, with the programme map ({school})."
THIN = "We do this well across the school."
# The rating built to raise each school's question: thin evidence, a level above its theme, apart from the group.
SPECIAL: dict[str, tuple[str, int, str]] = {
    SHARING[0].cycle_id: ("programme.2", 3, THIN),
    SHARING[1].cycle_id: ("leadership.1", 4, GOOD),
    KEEPING[0].cycle_id: ("encounters.2", 4, GOOD),
}

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")


def marker(spec: CycleSpec) -> str:
    return f"evidence of {spec.name}"


def evaluation(spec: CycleSpec) -> dict[str, Any]:
    ratings = [
        {"indicator_id": i, "level": 2, "evidence": GOOD.format(school=marker(spec))} for i in MODEL.indicator_ids()
    ]
    special = SPECIAL.get(spec.cycle_id)
    if special is not None:
        indicator, level, evidence = special
        for rating in ratings:
            if rating["indicator_id"] == indicator:
                rating.update(level=level, evidence=evidence.format(school=marker(spec)))
    return {"ratings": ratings, "contributors": ["careers leader", "senior leader"]}


def onboarding(share: bool) -> dict[str, Any]:
    return factories.onboarding() | {"share_self_evaluation": share}


def normalised(text: str) -> str:
    return "".join(text.split())


async def test_consenting_members_see_each_other_and_nobody_outside_sees_anything(
    env: WorkflowEnvironment, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    engine = Engine(env, pool)
    app = app_for(env, pool)
    group = [*SHARING, *KEEPING]
    everyone = [*group, *OTHER_GROUP]
    async with running_worker(engine.client, pool, engine.task_queue):
        await launch_cohort(engine.client, everyone, engine.task_queue)
        clock = CohortTime(env, START)
        await clock.on(START, time(10))
        for spec in everyone:
            await engine.submit(spec.cycle_id, "onboarding", onboarding(share=spec not in KEEPING))
        await clock.on(date(2027, 1, 11), time(10))
        # The first school looks before its own self-evaluation is in: nothing yet.
        first = Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=SHARING[0].cycle_id, expires_at=LATER))
        await first.sign_in()
        early = await first.client.get(f"/cycles/{SHARING[0].cycle_id}/peer-evaluations")
        assert early.status_code == 200 and 'id="not-yet"' in early.text
        for spec in everyone:
            await engine.submit(spec.cycle_id, "self-evaluation", evaluation(spec))

        schools = {
            spec.cycle_id: Person(app, pool, Principal(role=Role.INSTITUTION, cycle_id=spec.cycle_id, expires_at=LATER))
            for spec in everyone
        }
        for person in schools.values():
            await person.sign_in()

        async def shared_page(spec: CycleSpec) -> str:
            page = await schools[spec.cycle_id].client.get(f"/cycles/{spec.cycle_id}/peer-evaluations")
            assert page.status_code == 200, (spec.cycle_id, page.status_code)
            return page.text

        # Each school that shares sees the other's ratings and evidence, side by side per theme; never the third's.
        for spec, partner in ((SHARING[0], SHARING[1]), (SHARING[1], SHARING[0])):
            page = await shared_page(spec)
            assert marker(partner) in page and partner.name in page, f"{spec.name} should see {partner.name}"
            assert marker(spec) in page, "its own evaluation beside the others'"
            assert marker(KEEPING[0]) not in page and KEEPING[0].name not in page, "never the one that keeps its own"
            assert "1 school of your group chose not to share" in page
            for theme in MODEL.themes:
                assert f'id="theme-{theme.id}"' in page
        # The school that does not share sees none of the others'.
        keeping = await shared_page(KEEPING[0])
        assert 'id="not-sharing"' in keeping
        assert all(marker(s) not in keeping and s.name not in keeping for s in SHARING)
        # A school of the other group sees none of this group's, from its own page or from theirs.
        outsider = OTHER_GROUP[0]
        own_group = await shared_page(outsider)
        assert all(marker(s) not in own_group for s in group), "the other group shares only among itself"
        assert marker(OTHER_GROUP[1]) in own_group
        for spec in group:
            reached = await schools[outsider.cycle_id].client.get(f"/cycles/{spec.cycle_id}/peer-evaluations")
            assert reached.status_code == 404 and marker(spec) not in reached.text
        assert (await schools[outsider.cycle_id].client.get("/groups/test-2027/g1/evaluations")).status_code == 404

        # The facilitator sees all three schools' evaluations, whether they share or not.
        facilitator = Person(app, pool, Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER))
        await facilitator.sign_in()
        every = await facilitator.client.get("/groups/test-2027/g1/evaluations")
        assert every.status_code == 200 and all(marker(s) in every.text for s in group)
        assert all(marker(s) not in every.text for s in OTHER_GROUP)
        via_member = await facilitator.client.get(f"/cycles/{KEEPING[0].cycle_id}/peer-evaluations")
        assert all(marker(s) in via_member.text for s in group)

        # The meeting, then its pack: the agenda with each school's slot, its profile and its questions.
        group_page = "/groups/test-2027/g1"

        async def ready() -> bool:
            return (await facilitator.client.get(group_page)).text.count("Accepted 11 January 2027") == 3

        await eventually(ready, "every school ready")
        scheduled = await facilitator.post(
            f"{group_page}/schedule", group_page, {**factories.date_input("on", date(2027, 1, 14)), "start": "09:30"}
        )
        assert scheduled.status_code == 303

        async def arranged() -> bool:
            page = (await facilitator.client.get(f"{group_page}/pack")).text
            return page.count("No slot") == 0 and "9:30am to 10:30am" in page

        await eventually(arranged, "every school's slot in the pack")
        pack = (await facilitator.client.get(f"{group_page}/pack")).text
        expected = {
            SHARING[0].cycle_id: question_key(ProbeRule.THIN_EVIDENCE, "programme.2"),
            SHARING[1].cycle_id: question_key(ProbeRule.ABOVE_THEME, "leadership.1"),
            KEEPING[0].cycle_id: question_key(ProbeRule.APART_FROM_GROUP, "encounters.2"),
        }
        for spec in group:
            assert f'id="school-{spec.cycle_id}"' in pack and spec.name in pack
        assert pack.count('<li data-rule="') >= 3
        pdf = await facilitator.client.get(f"{group_page}/pack.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = normalised(pdf_text(pdf.content, tmp_path, "meeting-pack-peer"))
        questions = {
            spec.cycle_id: (await facilitator.client.get(f"{group_page}/members/{spec.cycle_id}/findings")).text
            for spec in group
        }
        for spec in group:
            assert spec.name.replace(" ", "") in text
            indicator = MODEL.indicator(expected[spec.cycle_id].split(":")[1])
            assert indicator is not None
            # The review page offers the same question, to tick once discussed.
            assert f'value="{expected[spec.cycle_id]}"' in questions[spec.cycle_id]
            assert normalised(indicator.text)[:60] in text, f"{spec.name}'s question in the PDF"
        assert normalised("rated level 3 (established) with only 7 words of evidence") in text
        assert normalised("level 4 stands 2 levels above the rest of") in text
        assert normalised("where the other schools in the group put themselves at level 2") in text
        # Schools do not get the pack: its questions are for the facilitator.
        assert (await schools[SHARING[0].cycle_id].client.get(f"{group_page}/pack")).status_code == 404

        # At the meeting the facilitator records the findings: the questions discussed and who attended.
        await clock.on(date(2027, 1, 14), time(13))
        member = SHARING[0].cycle_id
        form_path = f"{group_page}/members/{member}/findings"
        findings: dict[str, Any] = {
            "csrf": await facilitator.csrf(form_path),
            "cycle_id": member,
            "strengths": "Peer mentoring between year groups",
            "development_priorities": "Link every subject to careers",
            "recommendations": "Subject champions",
            "discussed": [expected[member]],
            "attended": ["careers_leader", "headteacher"],
            "agreed-programme.2": "2",
            "rationale-programme.2": "No scheme of work shows it yet",
        }
        recorded = await facilitator.client.post(f"{group_page}/findings", data=findings)
        assert recorded.status_code == 303, recorded.text[:2000]
        readback = (await facilitator.client.get(f"/cycles/{member}/submissions/review")).text
        assert "Careers leader, Headteacher or principal" in readback
        assert "a high level with thin evidence" in readback and "level 2 agreed" in readback
