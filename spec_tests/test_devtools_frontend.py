"""bgfetch in the real DevTools: Chromium's own DevTools front end (Debian's chromium serves
it at /devtools/inspector.html on its remote-debugging port), pointed at bgfetch's CDP
endpoint with ``?ws=``, goes to Application -> Background fetch, presses Record, and lists
the events of a background fetch bgfetch then runs, read from the front end's DOM; a
screenshot is saved (and copied to $BGFETCH_DEVTOOLS_SCREENSHOT if set).

Skipped only where Chromium is not installed (``apt-get install chromium``; .ci/run
installs it)."""

from __future__ import annotations

import base64
import os
import shutil
from functools import partial
from urllib.parse import urlsplit

import pytest
import trio
from devtools_support import http_get

import bgfetch
from bgfetch.devtools.protocol import ServiceName
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker
from conformance.chromium import cdp
from conformance.chromium.browser import Chromium, ChromiumNotAvailable, executable


def _missing() -> str | None:
    try:
        executable()
    except ChromiumNotAvailable as error:
        return str(error)
    return None


# The conformance suite's launcher (conformance/chromium/browser.py): a fresh profile,
# only loopback names resolve; its process group and profile are gone when it closes.
pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))
ORIGIN = "https://podcast.example"

# DevTools' front end, driven from its own page: the Application panel, its Background
# fetch pane, and the pane's Record button (its action).
DRIVE = """(async () => {
  // No screencast of the page (bgfetch draws none): all room to the panel.
  const Common = await import('./core/common/common.js');
  Common.Settings.Settings.instance().createSetting('screencast-enabled', true).set(false);
  const UI = await import('./ui/legacy/legacy.js');
  await UI.ViewManager.ViewManager.instance().showView('resources');
  const Application = await import('./panels/application/application.js');
  const sidebar = Application.ResourcesPanel.ResourcesPanel.instance().sidebar;
  sidebar.backgroundFetchTreeElement.select();
  await new Promise(resolve => setTimeout(resolve, 300));
  await UI.ActionRegistry.ActionRegistry.instance()
      .getAction('background-service.toggle-recording').execute();
  return sidebar.backgroundFetchTreeElement.title;
})()"""

# Click the pane's first row, so its metadata shows beneath the table.
SELECT_FIRST = """(async () => {
  const cells = [];
  const walk = node => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children) {
      if (child.tagName === 'TD' && child.textContent.trim() === 'Background Fetch registered')
        cells.push(child);
      walk(child);
    }
  };
  walk(document.body);
  const cell = cells.find(c => c.offsetParent !== null) || cells[0];
  for (const type of ['mousedown', 'mouseup', 'click'])
    cell.dispatchEvent(new MouseEvent(type, {bubbles: true, composed: true, view: window}));
  await new Promise(resolve => setTimeout(resolve, 300));
  return cells.length;
})()"""

# Every text of the front end's DOM, shadow roots included.
TEXTS = """(() => {
  const texts = [];
  const walk = node => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        const text = child.textContent.trim();
        if (text) texts.push(text);
      } else walk(child);
    }
  };
  walk(document.body);
  return texts;
})()"""


async def test_devtools_lists_bgfetchs_background_fetch_events(tmp_path):
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    server.add("/episodes/5.mp3", b"m" * 400_000, throttle=400_000)
    server.add("/episodes/5.txt", b"Episode 5, the transcript.\n")
    network.serve(ORIGIN, server)
    chromium = await trio.to_thread.run_sync(
        partial(Chromium.start, flags=["--window-size=1500,900"])
    )
    try:
        port = urlsplit(chromium.url).port  # the front end is served on DevTools' port
        async with bgfetch.open_user_agent(network=network) as ua:
            endpoint = await ua.serve_devtools(port=0)
            recorder = WorkerRecorder.for_edition(ua)
            _, registration = await open_window_with_worker(ua, recorder, f"{ORIGIN}/")
            (page,) = (await http_get(endpoint.port, "/json/list"))[1]
            with trio.fail_after(60):
                async with chromium.connect() as connection:
                    session = await cdp.open_page(connection, "about:blank")
                    front_end = (
                        f"http://127.0.0.1:{port}/devtools/inspector.html"
                        f"?ws=127.0.0.1:{endpoint.port}/devtools/page/{page['id']}"
                    )
                    await session.send("Page.navigate", {"url": front_end})
                    title = None
                    while title is None:  # until the front end has loaded and connected
                        await trio.sleep(0.5)
                        try:
                            title = await session.evaluate(DRIVE)
                        except (cdp.JavaScriptError, cdp.CDPError):
                            continue
                    assert title == "Background fetch"
                    # Record, pressed in DevTools, reached bgfetch over CDP.
                    context = ua.devtools.context
                    while not context.is_recording(ServiceName.BACKGROUND_FETCH):
                        await trio.sleep(0.1)

                    await registration.background_fetch.fetch(
                        "episode-5", ["/episodes/5.mp3", "/episodes/5.txt"]
                    )
                    await recorder.settled("episode-5")
                    names = [e.event_name for e in ua.devtools.events()]
                    assert names[-1] == "Background Fetch completed" and len(names) == 7
                    texts: list[str] = []
                    while texts.count("Background Fetch completed") < 1:
                        await trio.sleep(0.2)
                        texts = await session.evaluate(TEXTS)
                    # The pane's rows, in order (its data grid renders them twice: the
                    # visible rows and an accessible copy).
                    shown = [t for t in texts if t in set(names)]
                    assert shown[: len(names)] == names
                    assert shown == names * (len(shown) // len(names))
                    assert texts.count("episode-5") >= len(names)
                    assert texts.count(f"{ORIGIN}/") >= len(names)
                    assert await session.evaluate(SELECT_FIRST) >= 1
                    texts = await session.evaluate(TEXTS)
                    assert "Total Requests" in texts  # the first event's metadata, shown
                    shot = await session.send("Page.captureScreenshot", {"format": "png"})
        picture = tmp_path / "devtools-background-fetch.png"
        picture.write_bytes(base64.b64decode(shot["data"]))
        if os.environ.get("BGFETCH_DEVTOOLS_SCREENSHOT"):
            shutil.copy(picture, os.environ["BGFETCH_DEVTOOLS_SCREENSHOT"])
    finally:
        chromium.close()
