"""The pages are built on GOV.UK Frontend with this service's own name and colours: the stylesheet is compiled
from the npm package by `make`, served by the app, and carries neither the GOV.UK typeface nor the Crown."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from stack.addresses import StackAddresses
from web.app import create_app
from web.templating import STATIC, TEMPLATES, clock_time, date_and_time, long_date

ROOT = Path(__file__).parent.parent


def test_the_stylesheet_is_compiled_from_govuk_frontend_without_its_typeface() -> None:
    css = STATIC / "cis.css"
    assert css.is_file(), "web/static/cis.css is missing: run `make .venv/.installed` (npm ci and sass)"
    text = css.read_text()
    assert ".govuk-task-list" in text and ".govuk-error-summary" in text and ".govuk-generic-header" in text
    assert "GDS Transport" not in text and "@font-face" not in text
    assert "system-ui" in text
    assert "#1d3557" in text.lower(), "the service's own brand colour"


def test_built_files_and_node_modules_are_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "node_modules/" in ignored and "web/static/" in ignored
    assert (ROOT / "package-lock.json").is_file()
    package = json.loads((ROOT / "package.json").read_text())
    assert "govuk-frontend" in package["dependencies"] and "axe-core" in package["devDependencies"]


def test_the_image_builds_the_assets_in_a_node_stage() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm run --silent build" in dockerfile
    assert "COPY --from=assets /assets/web/static ./web/static" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'web = ["templates/*.html", "static/*"]' in pyproject, "the wheel carries the templates and the assets"


def test_every_page_has_a_skip_link_the_service_name_and_no_crown() -> None:
    html = TEMPLATES.get_template("message.html").render(title="Signed out", message="Bye", principal=None)
    assert 'class="govuk-skip-link"' in html and 'href="#main-content"' in html and 'id="main-content"' in html
    assert "Careers Impact System" in html and "govuk-generic-header" in html
    assert "crown" not in html.lower() and "GOV.UK" not in html
    assert '<link rel="stylesheet" href="/static/cis.css">' in html


@pytest.mark.parametrize("path", ["/static/cis.css", "/static/cis.js", "/static/govuk-frontend.min.js"])
async def test_the_app_serves_the_assets(path: str) -> None:
    app = create_app(StackAddresses(temporal_address="unused:7233", database_url="unused"), "test-secret")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cis.test") as client:
        response = await client.get(path)
    assert response.status_code == 200, f"{path} is not served: run `make .venv/.installed`"


def test_dates_and_times_read_in_full() -> None:
    assert long_date(date(2027, 1, 4)) == "Monday 4 January 2027"
    assert long_date(datetime(2027, 1, 4, 23, 30, tzinfo=UTC)) == "Monday 4 January 2027"
    assert long_date(datetime(2027, 6, 30, 23, 30, tzinfo=UTC)) == "Thursday 1 July 2027", "London summer time"
    assert clock_time(datetime(2027, 1, 4, 9, 0, tzinfo=UTC)) == "9am"
    assert clock_time(datetime(2027, 1, 4, 14, 15, tzinfo=UTC)) == "2:15pm"
    assert clock_time(datetime(2027, 1, 4, 12, 0, tzinfo=UTC)) == "midday"
    assert date_and_time(datetime(2027, 1, 4, 10, 30, tzinfo=UTC)) == "Monday 4 January 2027 at 10:30am"
