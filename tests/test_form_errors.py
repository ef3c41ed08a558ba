"""Every form of the web app, submitted empty (only what the page itself puts in it: its hidden fields), is refused
with an HTML page that opens on an error summary whose every entry links to a field on that page, the field
carrying its message (aria-describedby). And every page the app serves people is HTML, never JSON.

Plus the wording at the web edge: the domain's `field: rule` refusals read in plain words."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.access import Principal, Role
from operations.cohorts import launch_cohort
from stack.addresses import StackAddresses
from store.access_tokens import issue_token
from tests import factories
from tests.cohort_time import CohortTime
from tests.engine import LEAD, Engine, running_worker
from tests.test_api_access import X, Y
from tests.test_peer_groups import group_of
from web.app import create_app
from web.form_errors import Field, errors_from, plain_words

LATER = datetime.now(UTC) + timedelta(days=30)
W = factories.cycle_spec(urn="100091")  # taken on to its action plan, so that its check-in form is open
GROUP = "/groups/test-2027/g1"
THEME = factories.SCHOOLS_MODEL.themes[0].id


@dataclass
class Form:
    """What a browser sends for the form as served, nothing typed: hidden fields, preset values, what is selected."""

    action: str
    hidden: dict[str, str] = field(default_factory=dict)


class PageParser(HTMLParser):
    """The forms of a page (their action and hidden fields), every id on it, and the error summary's links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.ids: dict[str, dict[str, str | None]] = {}
        self.summary_links: list[str] = []
        self._in_summary = 0
        self._select: str | None = None
        self._first_option = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("id"):
            self.ids[str(named["id"])] = named | {"tag": tag}
        if tag == "form" and named.get("method", "get") == "post":
            self.forms.append(Form(str(named.get("action"))))
        if not self.forms or (not named.get("name") and tag != "option"):
            pass
        elif tag == "input" and named.get("type") in ("radio", "checkbox"):
            if "checked" in named:
                self.forms[-1].hidden[str(named["name"])] = str(named.get("value") or "")
        elif tag == "input" and named.get("type") not in ("file", "submit"):
            self.forms[-1].hidden[str(named["name"])] = str(named.get("value") or "")
        elif tag == "select":
            self._select = str(named["name"])
            self._first_option = True
        elif tag == "option" and self._select:
            if self._first_option or "selected" in named:
                self.forms[-1].hidden[self._select] = str(named.get("value") or "")
            self._first_option = False
        if tag == "div" and (self._in_summary or "govuk-error-summary" in (named.get("class") or "").split()):
            self._in_summary += 1
        if tag == "a" and self._in_summary and named.get("href"):
            self.summary_links.append(str(named["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "div" and self._in_summary:
            self._in_summary -= 1


def parsed(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


# (who, the page with the form, the form's action): every POST form a person fills in.
FORMS = [
    ("institution Y", f"/cycles/{Y.cycle_id}/work/onboarding", f"/cycles/{Y.cycle_id}/work/onboarding"),
    ("institution X", f"/cycles/{X.cycle_id}/self-evaluation/themes/{THEME}", None),
    ("institution X", f"/cycles/{X.cycle_id}/self-evaluation/check", f"/cycles/{X.cycle_id}/self-evaluation"),
    ("institution X", f"/cycles/{X.cycle_id}/re-evaluation/themes/{THEME}", None),
    ("institution X", f"/cycles/{X.cycle_id}/re-evaluation/check", f"/cycles/{X.cycle_id}/re-evaluation"),
    ("institution X", f"/cycles/{X.cycle_id}/work/action-plan", f"/cycles/{X.cycle_id}/work/action-plan"),
    ("institution W", f"/cycles/{W.cycle_id}/work/check-in", f"/cycles/{W.cycle_id}/work/check-in"),
    ("reviewer X", f"/cycles/{X.cycle_id}/work/review", f"/cycles/{X.cycle_id}/review-day"),
    ("reviewer X", f"/cycles/{X.cycle_id}/work/review", f"/cycles/{X.cycle_id}/work/review"),
    ("reviewer X", f"/cycles/{X.cycle_id}/work/report", f"/cycles/{X.cycle_id}/work/report"),
    ("cec", f"/cycles/{X.cycle_id}/admin/extend", None),
    ("cec", f"/cycles/{X.cycle_id}/admin/reassign", None),
    ("cec", f"/cycles/{X.cycle_id}/admin/withdraw", None),
    ("cec", "/admin/roster", None),
    ("facilitator", GROUP, f"{GROUP}/schedule"),
    ("facilitator", GROUP, f"{GROUP}/move"),
    ("facilitator", f"{GROUP}/members/{{member}}/findings", f"{GROUP}/findings"),
]
PEOPLE = {
    "institution X": Principal(role=Role.INSTITUTION, cycle_id=X.cycle_id, expires_at=LATER),
    "institution W": Principal(role=Role.INSTITUTION, cycle_id=W.cycle_id, expires_at=LATER),
    "institution Y": Principal(role=Role.INSTITUTION, cycle_id=Y.cycle_id, expires_at=LATER),
    "reviewer X": Principal(role=Role.REVIEWER, cycle_id=X.cycle_id, email=LEAD, expires_at=LATER),
    "cec": Principal(role=Role.ADMIN, expires_at=LATER),
    "facilitator": Principal(role=Role.FACILITATOR, cohort="test-2027", expires_at=LATER),
}


@pytest.fixture
async def web(env: WorkflowEnvironment, pool: asyncpg.Pool) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """X in its self-evaluation, Y in onboarding, W with an action plan to check in on, and a peer group whose
    two of three members are ready (its meeting not yet scheduled)."""
    engine = Engine(env, pool)
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    app.state.pool, app.state.client = pool, env.client
    group = group_of(3, first_urn=330000)
    async with running_worker(engine.client, pool, engine.task_queue):
        for spec in (X, Y, W):
            await engine.start(spec)
        await launch_cohort(engine.client, group, engine.task_queue)
        clock = CohortTime(env, X.start_date)
        await clock.on(X.start_date, time(10))
        for spec in (X, W, *group):
            await engine.submit(spec.cycle_id, "onboarding", factories.onboarding())
        await clock.on(date(2027, 1, 11), time(10))
        for spec in (W, *group[:2]):  # the group's third member is not ready: it may be moved
            await engine.submit(spec.cycle_id, "self-evaluation", factories.evaluation())
        await clock.on(date(2027, 2, 1), time(10))
        await engine.hold_expert_review(W.cycle_id, factories.review_findings(), clock.now)
        await clock.on(date(2027, 2, 22), time(10))
        await engine.submit(W.cycle_id, "report", factories.report(), actor=LEAD)
        await clock.on(date(2027, 3, 8), time(10))
        await engine.submit(W.cycle_id, "action-plan", factories.action_plan(date(2027, 6, 1)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as client:
            yield client, group[0].cycle_id


async def sign_in(client: httpx.AsyncClient, pool: asyncpg.Pool, who: str) -> None:
    client.cookies.clear()
    assert (await client.get(f"/signin?token={await issue_token(pool, PEOPLE[who])}")).status_code == 303


async def test_every_form_submitted_empty_shows_an_error_summary_linked_to_its_fields(
    web: tuple[httpx.AsyncClient, str], pool: asyncpg.Pool
) -> None:
    client, member = web
    walked = []
    for who, page_path, action in FORMS:
        await sign_in(client, pool, who)
        page_path = page_path.format(member=member)
        page = await client.get(page_path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), (page_path, page)
        forms = [f for f in parsed(page.text).forms if action is None or f.action == action]
        assert forms, f"no form posting to {action} on {page_path}"
        form = forms[0]
        files = {"roster": ("", b"", "application/octet-stream")} if form.action == "/admin/roster" else None
        refused = await client.post(form.action, data=form.hidden, files=files)
        where = f"{who}: {form.action} (from {page_path})"
        assert refused.status_code == 422, f"{where} answered {refused.status_code}: {refused.text[:300]}"
        assert refused.headers["content-type"].startswith("text/html"), where
        assert "<title>Error: " in refused.text, f"{where}: the title starts with Error:"
        shown = parsed(refused.text)
        assert shown.summary_links, f"{where}: no error summary with links"
        for link in shown.summary_links:
            target = link.removeprefix("#")
            assert link.startswith("#") and target in shown.ids, f"{where}: {link} leads nowhere on the page"
        described = [a.get("aria-describedby") or "" for a in shown.ids.values()]
        assert any("-error" in d for d in described) or 'aria-describedby="' in refused.text, where
        assert "govuk-error-message" in refused.text, f"{where}: no message next to a field"
        walked.append(form.action)
    assert len(walked) == len(FORMS)


async def test_pages_answer_html_never_json(web: tuple[httpx.AsyncClient, str], pool: asyncpg.Pool) -> None:
    client, member = web
    pages = {
        "institution X": [
            f"/cycles/{X.cycle_id}",
            f"/cycles/{X.cycle_id}/self-evaluation",
            f"/cycles/{X.cycle_id}/submissions/onboarding",
            f"/cycles/{X.cycle_id}/work/action-plan/check",  # nothing kept to check yet: the editor
            "/",
        ],
        "cec": ["/dashboard", "/admin/roster", f"/cycles/{X.cycle_id}/admin/extend"],
        "facilitator": ["/dashboard", GROUP, f"{GROUP}/members/{member}/findings"],
    }
    # Pages that refuse: not there, not this person's, not yet.
    refusing = {
        "institution X": [
            ("/cycles/nobody-2027-000000", 404),
            (f"/cycles/{X.cycle_id}/work/report", 403),
            (f"/cycles/{X.cycle_id}/report", 404),
            (f"/cycles/{X.cycle_id}/submissions/action-plan", 404),
            (GROUP, 404),  # a group is out of an institution's scope: as if it did not exist
        ],
        "facilitator": [(f"/cycles/{X.cycle_id}/work/action-plan/check", 403)],
    }
    for who, paths in pages.items():
        await sign_in(client, pool, who)
        for path in paths:
            response = await client.get(path, follow_redirects=True)
            assert response.status_code == 200, (who, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (who, path)
        for path, status in refusing.get(who, []):
            response = await client.get(path, follow_redirects=True)
            assert response.status_code == status, (who, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (who, path, response.text[:200])


@pytest.mark.parametrize(
    ("rule", "where", "left_empty", "expected"),
    [
        (
            "value is not a valid email address: An email address must have an @-sign.",
            Field("email", "the contact's email address", "email"),
            True,
            "Enter the contact's email address",
        ),
        (
            "value is not a valid email address: An email address must have an @-sign.",
            Field("email", "the contact's email address", "email"),
            False,
            "Enter the contact's email address in the correct format, like name@school.org.uk",
        ),
        ("is required", Field("on", "the day of the meeting", "date"), False, "Enter the day of the meeting"),
        (
            "needs at least 1 item(s)",
            Field("s", "the strengths", "list"),
            False,
            "Enter at least one of the strengths, one per line",
        ),
        (
            "must be at most 300 characters",
            Field("t", "what action 1 is"),
            False,
            "What action 1 is must be 300 characters or fewer",
        ),
        ("'' cannot be reassigned", Field("role", "who to reassign", "choice"), True, "Choose who to reassign"),
        (
            "must be true",
            Field("ack", "confirm that you have read the timeline", "confirm"),
            False,
            "Confirm that you have read the timeline",
        ),
    ],
)
def test_refusals_read_in_plain_words(rule: str, where: Field, left_empty: bool, expected: str) -> None:
    assert plain_words(rule, where, left_empty) == expected


def test_a_rule_about_a_field_the_form_does_not_show_still_leads_to_the_form() -> None:
    fields = {"body": Field("body", "the report")}
    errors = errors_from("format: must be report or summary; body: must not be empty", fields, fields["body"])
    assert errors.summary() == [
        {"text": "Format: must be report or summary", "href": "#body"},
    ], "one message per field: the first, and the unknown field's rule goes on the form's first input"
