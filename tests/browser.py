"""Driving Debian's chromium with Playwright, and the checks every page of a journey passes: axe-core finds no
serious or critical WCAG 2.2 AA violation, and nothing scrolls sideways on a 375-pixel phone."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, async_playwright

ROOT = Path(__file__).parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE: ViewportSize = {"width": 375, "height": 812}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def phone_page(browser: Browser) -> Page:
    """A page the size of a small phone: every check below then holds at 375 pixels."""
    return await browser.new_page(viewport=PHONE)


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2.2 AA violations on the page as it stands. The script goes in through
    the DevTools protocol (page.evaluate), which the page's Content-Security-Policy does not govern."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    results = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps([n['target'] for n in v['nodes']][:3])}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scroll)."""
    width: int = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return max(width, 0)


async def too_wide(page: Page) -> list[str]:
    """The elements reaching past the window's right edge, to say what makes a page scroll sideways."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest('.cis-table-scroll') || e.matches('.cis-table-scroll'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)"""
    )
    return found


async def checked(page: Page, name: str) -> None:
    """Screenshot the page under tests/artifacts/, then hold it to the bars: axe-core and no sideways scroll."""
    await page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert await sideways_overflow(page) == 0, f"{name} ({page.url}) scrolls sideways at 375 px: {await too_wide(page)}"
    violations = await serious_violations(page)
    assert not violations, f"{name} ({page.url}): {violations}"


async def tab_to(page: Page, selector: str, limit: int = 200) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if await page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never took the focus after {limit} presses of Tab")
