"""Reports render in headless Chromium without console errors (``make test-browser``).

Runs wherever Debian's ``chromium`` is installed (``make test-browser``
installs it, then runs only the tests marked ``browser``); elsewhere it is
skipped with the reason. ``GASCAR_CHROMIUM`` names another executable.
Chromium is driven through the DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages ending in NUL on fds 3 and 4),
with the standard library only.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import F0, SR, install_standins

from gascar.batch import BatchOptions, run_batch
from gascar.matching import MatchOptions
from gascar.synths import get_synth

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
                  "--remote-debugging-pipe")


@pytest.fixture()
def chromium() -> str:
    """Chromium's executable, or skip with the reason."""
    exe = os.environ.get("GASCAR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("headless Chromium is not installed: `make test-browser` installs it (apt-get install chromium) and runs this test")
    return exe


class Chromium:
    """A headless Chromium driven over the DevTools pipe; collects console errors of one page."""

    def __init__(self, exe: str, profile: Path):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds():  # the DevTools pipe is fd 3 (commands in) and fd 4 (replies out)
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_child_r)
        os.close(from_child_w)
        self._id = 0
        self._replies: dict[int, dict] = {}
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable", session=True)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        self._replies[msg["id"]] = msg
                        self._lock.notify_all()
                else:
                    self.events.put(msg)

    def call(self, method: str, *, session: bool = False, timeout: float = 30.0, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"Chromium did not answer {method}")
                self._lock.wait(left)
            reply = self._replies.pop(self._id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, path: Path, settle_s: float = 0.5) -> list[str]:
        """Load ``path``; return the console errors, exceptions and failed loads it caused."""
        while not self.events.empty():
            self.events.get_nowait()
        self.call("Page.navigate", session=True, url=path.resolve().as_uri())
        errors: list[str] = []
        loaded = False
        deadline = time.monotonic() + 30
        settle = None
        while time.monotonic() < deadline and (settle is None or time.monotonic() < settle):
            try:
                ev = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Page.loadEventFired" and not loaded:
                loaded = True
                settle = time.monotonic() + settle_s
            elif method == "Runtime.exceptionThrown":
                errors.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append("console: " + json.dumps(params.get("args", []))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                e = params["entry"]
                errors.append(f"log: {e.get('text')} {e.get('url', '')}")
        assert loaded, f"{path} did not finish loading"
        return errors

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)


@pytest.fixture()
def report_dir(tmp_path, monkeypatch):
    """A reported batch (stand-in objective): two good targets in two folders, one broken file."""
    install_standins(monkeypatch.setattr)
    lib = tmp_path / "lib"
    (lib / "sub dir").mkdir(parents=True)
    synth = get_synth("subtractive")
    for i, name in enumerate(["a.wav", "sub dir/C#3 b.wav"]):
        g = np.random.default_rng(i).random((1, synth.n_genes))
        sf.write(str(lib / name), synth.render(g, F0, int(0.3 * SR), SR, hold_s=0.2)[0], SR)
    (lib / "broken.wav").write_bytes(b"RIFF....WAVEfmt ")
    out = tmp_path / "out"
    opts = BatchOptions(match=MatchOptions(synth="subtractive", budget=150, seed=1), n_jobs=1, report=True)
    result = run_batch(lib, out, opts)
    assert result.count("ok") == 2 and len(result.failed) == 1
    return out


def test_reports_render_in_headless_chromium_without_console_errors(chromium, report_dir, tmp_path):
    browser = Chromium(chromium, tmp_path / "profile")
    try:
        pages = [report_dir / "index.html", *sorted(report_dir.rglob("*.report.html"))]
        assert len(pages) == 3
        for page in pages:
            errors = browser.open(page)
            assert errors == [], f"{page.name}: {errors}"
            images = browser.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
            assert all(ok for _, ok in images), f"{page.name}: images not shown: {images}"
            if page.name != "index.html":
                assert len(images) == 4
                assert browser.evaluate("document.querySelectorAll('audio').length") == 2
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    durations = browser.evaluate("Array.from(document.querySelectorAll('audio')).map(a => a.duration)")
                    if all(d and d > 0 for d in durations):
                        break
                    time.sleep(0.1)
                assert all(d and d > 0.2 for d in durations), f"{page.name}: audio not playable: {durations}"
        browser.open(report_dir / "index.html")
        col = browser.evaluate("Array.from(document.querySelectorAll('#targets th')).findIndex(th => th.textContent === 'fitness')")
        assert col >= 0
        browser.evaluate(f"document.querySelectorAll('#targets th')[{col}].click()")
        values = browser.evaluate(f"Array.from(document.querySelectorAll('#targets tbody tr')).map(r => r.cells[{col}].getAttribute('data-value'))")
        nums = [float(v) for v in values if v]
        assert nums == sorted(nums) and values[-1] == ""  # ascending, the failed target (no fitness) last
        browser.evaluate(f"document.querySelectorAll('#targets th')[{col}].click()")
        values = browser.evaluate(f"Array.from(document.querySelectorAll('#targets tbody tr')).map(r => r.cells[{col}].getAttribute('data-value'))")
        nums = [float(v) for v in values if v]
        assert nums == sorted(nums, reverse=True)
    finally:
        browser.close()
