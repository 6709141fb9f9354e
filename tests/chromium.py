"""Debian's headless Chromium, driven through chromedriver by Selenium, for the tests that
open what we publish as a reader's browser would."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MISSING = (
    None
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)
    else "chromium and chromedriver are missing (apt-get install chromium chromium-driver;"
    " .ci/run installs them)"
)


@contextlib.contextmanager
def chromium(profile: Path, *, window: str | None = None) -> Iterator[Any]:
    """A headless Chromium with an empty profile in `profile`, quit on leaving. The flags
    keep it off the network: this machine has none, and its refusals slow it down."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]
    if window:
        flags.append(f"--window-size={window}")
    for flag in flags:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
