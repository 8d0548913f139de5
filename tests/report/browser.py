"""Start Debian's headless Chromium through selenium, the same way for the tests and the benchmark."""

from __future__ import annotations

import os
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1800",
)


def binary(*names: str) -> str:
    """Return the path of the first installed program of ``names``."""
    found = next((p for n in names if (p := shutil.which(n))), None)
    assert found, f"{names[0]} not installed (tools/test.sh installs Debian's chromium and chromium-driver)"
    return found


def start(profile: str, logs: bool = False) -> WebDriver:
    """Start chromium with a throw-away profile folder; selenium never looks for drivers online."""
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = binary("chromium", "chromium-browser")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(binary("chromedriver")), options=options)
