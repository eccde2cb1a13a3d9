"""Headless Chromium for end-to-end tests, driven by Playwright's sync API.

Why ``executable_path``: ``playwright install`` downloads Playwright's own browser builds from a
server that the project's machines (developers' and CI's alike) cannot reach: the network here
reaches only PyPI, Debian and npm. So the tests never download a browser; they launch Debian's
``chromium`` package (``apt-get install chromium``, which ``.ci/run`` does) through
``executable_path``. The binary is ``$TESSERA_TEST_CHROMIUM`` when set, else ``chromium`` on
``PATH``, else ``/usr/bin/chromium``; when there is none, ``open_browser`` raises (it never skips).

The ``playwright`` pin in pyproject.toml was checked against Debian's Chromium 156 (playwright
1.65.2 is built for Chromium 159 and drives 156 fine). If a Debian update ever breaks the pair,
move the pin: do not reach for a downloaded browser.

Use it from plain synchronous tests (``def test_...``): pytest-trio runs ``async def`` tests
inside trio, and the sync API would block that loop. Screenshots go under ``test-artifacts/``
(git-ignored), one folder per test, see ``artifacts_dir``.

trio_asyncio (imported by storage/, so by every test session) makes ``asyncio.new_event_loop()``
return its greenlet-driven ``SyncTrioEventLoop`` outside trio. Playwright's sync API makes its
loop that way and runs it from greenlets of its own; on that loop it fails ("You can't nest
calls to run_until_complete()"), and leaves the thread looking as if an asyncio loop were
running, so every later browser test fails too. ``open_browser`` therefore runs Playwright
under asyncio's stock policy (see ``_stock_asyncio_policy``).
"""

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.support import ROOT

# Root needs --no-sandbox; the rest keep Chromium off the (closed) network: without the
# background-networking flags it keeps trying to reach Google's update and sync services.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1000, "height": 900}
INSTALL_HINT = "install Debian's chromium: apt-get update && apt-get install -y chromium"


def find_chromium() -> str:
    """The Chromium binary to launch; RuntimeError, with how to install it, if there is none."""
    configured = os.environ.get("TESSERA_TEST_CHROMIUM")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise RuntimeError(
                f"TESSERA_TEST_CHROMIUM={configured!r} is not an executable file; "
                f"unset it or {INSTALL_HINT}"
            )
        return configured
    found = shutil.which("chromium")
    if found:
        return found
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    raise RuntimeError(
        f"The end-to-end tests need Chromium and found none ($TESSERA_TEST_CHROMIUM unset, no "
        f"`chromium` on PATH, no /usr/bin/chromium): {INSTALL_HINT}. "
        "(`playwright install` cannot download a browser here and is not used.)"
    )


def artifacts_dir(name: str) -> Path:
    """``<repo>/test-artifacts/<name>``, created if missing (the folder is git-ignored)."""
    path = ROOT / "test-artifacts" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, artifacts_dir: Path, name: str) -> Path:
    """Save a full-page screenshot as ``<artifacts_dir>/<name>.png`` and return its path."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    path = artifacts_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def _stock_asyncio_policy() -> Iterator[None]:
    """Make ``asyncio.new_event_loop()`` give a plain asyncio loop in this thread meanwhile.

    Under trio_asyncio a policy set with ``set_event_loop_policy`` is thread-local and wins over
    its own; ``None`` afterwards puts back "no policy set" (the suite sets none of its own).
    """
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(None)


@contextmanager
def open_browser(artifacts_dir: Path) -> Iterator[Page]:
    """A fresh page (new context, 1000x900) in headless Debian Chromium; all closed on exit.

    If the body raises, a ``failure.png`` of the page is saved in ``artifacts_dir`` first.
    """
    executable = find_chromium()
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    with _stock_asyncio_policy(), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport=VIEWPORT)
            try:
                page = context.new_page()
                try:
                    yield page
                except BaseException:
                    with suppress(Exception):
                        screenshot(page, artifacts_dir, "failure")
                    raise
            finally:
                context.close()
        finally:
            browser.close()
