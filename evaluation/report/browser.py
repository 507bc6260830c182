"""Open a report page in headless Chromium (Debian's /usr/bin/chromium) with the network blocked; time it.

Playwright drives the system Chromium: no browser is downloaded (never `playwright install`).
Every request but the page's own file is aborted, so a page that needs the network shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Rendered: every plotly figure drew its SVG (``.main-svg`` inside ``.js-plotly-plot``).
ALL_DRAWN = """(n) => {
  const plots = document.querySelectorAll('.js-plotly-plot');
  return plots.length >= n && [...plots].every(p => p.querySelector('.main-svg'));
}"""


@dataclass
class Rendered:
    """What the browser saw: how long the page took, its plots, its text, what it tried to fetch."""

    load_ms: float  # navigation start to the load event (the inlined JavaScript parsed and run)
    rendered_ms: float  # navigation start to every figure drawn
    plots: int
    drawn: int  # plots with an SVG inside
    text: str
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def render(page_file: Path, figures: int, screenshot: Path | None = None) -> Rendered:
    """Open ``page_file`` offline, wait until ``figures`` plots are drawn, and measure."""
    url = page_file.resolve().as_uri()
    blocked: list[str] = []
    errors: list[str] = []

    def only_the_file(route: Route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_the_file)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url, wait_until="load", timeout=60_000)
            page.wait_for_function(ALL_DRAWN, arg=figures, timeout=60_000)
            rendered_ms = page.evaluate("performance.now()")  # since navigation start
            load_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            drawn = page.evaluate(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length ? "
                "[...document.querySelectorAll('.js-plotly-plot')]"
                ".filter(p => p.querySelector('.main-svg')).length : 0"
            )
            text = page.inner_text("body")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return Rendered(float(load_ms), float(rendered_ms), plots, drawn, text, blocked, errors)
