"""Development priorities name the indicators they are about, and plain text still reads everywhere:
old events, old files and the one-per-line forms."""

from datetime import UTC, datetime

import pytest

from domain.cycle_rules import check_review_findings
from domain.events import ReportPublished, ReviewFindingsRecorded, parse_event
from domain.refusals import Refusal, parse_as
from domain.submissions import DevelopmentPriority, Report, ReviewFindings
from tests import factories

MODEL = factories.SCHOOLS_MODEL


def test_a_priority_names_indicators_and_takes_its_themes_from_them() -> None:
    priority = DevelopmentPriority(
        text="Employer encounters for every year", indicator_ids=["encounters.1", "impact.2"]
    )
    assert MODEL.themes_of(priority.indicator_ids) == ("encounters", "impact")
    assert MODEL.themes_of(["leadership.2", "leadership.1"]) == ("leadership",)
    assert MODEL.themes_of(["not-an-indicator"]) == ()


def test_plain_text_is_a_priority_that_names_no_indicator() -> None:
    findings = parse_as(ReviewFindings, factories.review_findings())
    assert findings.development_priorities == [
        DevelopmentPriority(text="Map careers learning into every subject", indicator_ids=[])
    ]
    mixed = {
        **factories.report(),
        "development_priorities": ["Links", {"text": "Encounters", "indicator_ids": ["encounters.2"]}],
    }
    report = parse_as(Report, mixed)
    assert [p.indicator_ids for p in report.development_priorities] == [[], ["encounters.2"]]


def test_events_recorded_before_priorities_were_structured_still_read() -> None:
    at = datetime(2027, 2, 4, 15, tzinfo=UTC).isoformat()
    old_findings = {
        "cycle_id": "100001-test-2027",
        "at": at,
        "strengths": ["Governors"],
        "development_priorities": ["Employer encounters"],
        "agreed_levels": [],
        "recommendations": ["Champions"],
        "resources": [],
        "themes_in_scope": [],
        "actor": "reviewer@cec.example",
    }
    event = parse_event("ReviewFindingsRecorded", old_findings)
    assert isinstance(event, ReviewFindingsRecorded)
    assert event.development_priorities == [DevelopmentPriority(text="Employer encounters")]
    old_report = {
        **{k: old_findings[k] for k in ("cycle_id", "at", "strengths", "development_priorities", "actor")},
        "format": "report",
        "body": "Body",
        "summary_for_staff": "Summary",
        "recommendations": ["Champions"],
        "resources": [],
    }
    assert isinstance(parse_event("ReportPublished", old_report), ReportPublished)


@pytest.mark.parametrize(
    ("priority", "problem"),
    [
        ({"text": "Links", "indicator_ids": ["nope"]}, "development_priorities[0].indicator_ids[0]"),
        ({"text": "", "indicator_ids": []}, "development_priorities[0].text"),
        ({"text": "Links", "indicator_ids": ["encounters.1"] * 21}, "development_priorities[0].indicator_ids"),
        ({"text": "Links", "unknown": 1}, "development_priorities[0].unknown"),
    ],
)
def test_a_bad_priority_is_refused_naming_it(priority: dict[str, object], problem: str) -> None:
    data = {**factories.review_findings(), "development_priorities": [priority]}
    with pytest.raises(Refusal) as refused:
        check_review_findings(parse_as(ReviewFindings, data), MODEL)
    assert problem in str(refused.value)
