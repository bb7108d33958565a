"""End-to-end fixtures: the real app on a free port, driven by Chromium.

The app is started as `scripts/run-app.sh` starts it (the launcher ``python -m
resnet_explorer.ui.serve``, Streamlit's server with the warm-up); `serve(plain=True)` starts
a bare ``streamlit run app.py`` instead.

Chromium is Debian's package (/usr/bin/chromium), installed by scripts/setup.sh --dev;
Playwright cannot download its own browser on this network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.browser import CHROMIUM, CHROMIUM_ARGS, ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    home: Path, log_path: Path, *, plain: bool = False
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run the app on a free port with ``RESNET_EXPLORER_HOME=home`` (``plain``: as ``streamlit
    run app.py``); yields its base URL and process, and stops it (SIGTERM, then SIGKILL)."""
    port = _free_port()
    env = {**os.environ, "RESNET_EXPLORER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    log = log_path.open("w")
    start = ["streamlit", "run", "app.py"] if plain else ["resnet_explorer.ui.serve"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *start,
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise RuntimeError(f"streamlit did not start; see {log.name}")
        time.sleep(0.5)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Start the app once per test session; yields its base URL."""
    home = tmp_path_factory.mktemp("home")
    with serve(home, tmp_path_factory.mktemp("log") / "streamlit.log") as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/setup.sh --dev")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    context.close()
