"""bgfetch in the real DevTools: Chromium's own DevTools front end (Debian's chromium serves
it at /devtools/inspector.html on its remote-debugging port), pointed at bgfetch's CDP
endpoint with ``?ws=``, goes to Application -> Background fetch, presses Record, and lists
the events of a background fetch bgfetch then runs, read from the front end's DOM; a
screenshot is saved (and copied to $BGFETCH_DEVTOOLS_SCREENSHOT if set).

Skipped only where Chromium is not installed (``apt-get install chromium``; .ci/run
installs it)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import trio
import trio_websocket
from devtools_support import http_get

import bgfetch
from bgfetch.devtools.protocol import ServiceName
from bgfetch.testing import OriginServer, WorkerRecorder, open_window_with_worker

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)
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


class Chromium:
    """Headless Chromium with a fresh profile, over CDP (the browser's WebSocket)."""

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, params: dict | None = None, session: str | None = None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self.ws.send_message(json.dumps(message))
        while True:
            reply = json.loads(await self.ws.get_message())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    async def evaluate(self, session: str, expression: str):
        result = await self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")


def launch(profile: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Chromium as chromium-observed.md runs it; its DevTools port, once it listens."""
    (profile / "Default").mkdir(parents=True)
    process = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--window-size=1500,900",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, 0


async def chromium_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    active = profile / "DevToolsActivePort"
    with trio.fail_after(30):
        while not active.exists() or not active.read_text().strip():
            assert process.poll() is None, "Chromium exited at start"
            await trio.sleep(0.1)
    return int(active.read_text().split()[0])


async def test_devtools_lists_bgfetchs_background_fetch_events(tmp_path):
    network = bgfetch.VirtualNetwork()
    server = OriginServer()
    server.add("/episodes/5.mp3", b"m" * 400_000, throttle=400_000)
    server.add("/episodes/5.txt", b"Episode 5, the transcript.\n")
    network.serve(ORIGIN, server)
    profile = Path(tempfile.mkdtemp(prefix="bgfetch-chromium-"))
    process, _ = launch(profile)
    try:
        port = await chromium_port(profile, process)
        async with bgfetch.open_user_agent(network=network) as ua:
            endpoint = await ua.serve_devtools(port=0)
            recorder = WorkerRecorder.for_edition(ua)
            _, registration = await open_window_with_worker(ua, recorder, f"{ORIGIN}/")
            (page,) = (await http_get(endpoint.port, "/json/list"))[1]
            _, version = await http_get(port, "/json/version")
            with trio.fail_after(60):
                async with trio_websocket.open_websocket_url(
                    version["webSocketDebuggerUrl"], max_message_size=64 * 2**20
                ) as ws:
                    chromium = Chromium(ws)
                    target = await chromium.call("Target.createTarget", {"url": "about:blank"})
                    session = (
                        await chromium.call(
                            "Target.attachToTarget",
                            {"targetId": target["targetId"], "flatten": True},
                        )
                    )["sessionId"]
                    front_end = (
                        f"http://127.0.0.1:{port}/devtools/inspector.html"
                        f"?ws=127.0.0.1:{endpoint.port}/devtools/page/{page['id']}"
                    )
                    await chromium.call("Page.navigate", {"url": front_end}, session)
                    title = None
                    while title is None:  # until the front end has loaded and connected
                        await trio.sleep(0.5)
                        try:
                            title = await chromium.evaluate(session, DRIVE)
                        except RuntimeError:
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
                        texts = await chromium.evaluate(session, TEXTS)
                    # The pane's rows, in order (its data grid renders them twice: the
                    # visible rows and an accessible copy).
                    shown = [t for t in texts if t in set(names)]
                    assert shown[: len(names)] == names
                    assert shown == names * (len(shown) // len(names))
                    assert texts.count("episode-5") >= len(names)
                    assert texts.count(f"{ORIGIN}/") >= len(names)
                    assert await chromium.evaluate(session, SELECT_FIRST) >= 1
                    texts = await chromium.evaluate(session, TEXTS)
                    assert "Total Requests" in texts  # the first event's metadata, shown
                    shot = await chromium.call(
                        "Page.captureScreenshot", {"format": "png"}, session
                    )
        picture = tmp_path / "devtools-background-fetch.png"
        picture.write_bytes(base64.b64decode(shot["data"]))
        if os.environ.get("BGFETCH_DEVTOOLS_SCREENSHOT"):
            shutil.copy(picture, os.environ["BGFETCH_DEVTOOLS_SCREENSHOT"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
