"""The board in a real headless Chromium (Debian's), driven by Playwright, JavaScript off."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Rendered:
    """What the browser showed."""

    text: str
    requested: list[str]
    screenshot: Path


def chromium_or_skip() -> str:
    """Debian's Chromium, or skip naming the package."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("no Chromium for the board test: apt-get install chromium (.ci/run does)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (Python) is not installed: pip install -e '.[test]'")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


async def render_board(url: str, screenshot: Path) -> Rendered:
    """Open `url` with JavaScript disabled; the page's text, every URL it asked for, a PNG."""
    from playwright.async_api import async_playwright

    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                java_script_enabled=False, viewport={"width": 1500, "height": 900}
            )
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            response = await page.goto(url, wait_until="load")
            assert response is not None and response.status == 200
            await page.screenshot(path=str(screenshot), full_page=True)
            text = await page.inner_text("body")
        finally:
            await browser.close()
    return Rendered(text, requested, screenshot)
