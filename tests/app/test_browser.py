"""The app in a real browser: headless Chromium (Debian's package; .ci/run installs it) driven by Playwright
opens the page, uploads a test clip, waits for the translation, checks it and saves a screenshot
(LSLM_APP_SCREENSHOT=assets/app.png keeps it: how the README's picture is made, docs/app.md)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lslm.data.convert import file_features
from lslm.model import LSLM

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What works on a closed network: no sandbox as root, no GPU, and none of Chromium's calls home.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 90_000  # a loaded 2-core machine: the page's scripts, the upload and the model


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


def test_page_translates_an_uploaded_clip(browser, app, app_models, examples, tmp_path):
    example = examples[0]
    model = LSLM.from_pretrained(app_models["translator"])
    expected = model.generate(file_features(example.path, model.motion_tokenizer.convert_options()), max_new_tokens=64)

    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(app.url, timeout=TIMEOUT_MS)
    page.locator("#translate-file input[type=file]").set_input_files(example.path, timeout=TIMEOUT_MS)
    page.locator("#translate-button").click(timeout=TIMEOUT_MS)
    english = page.locator("#translation textarea")
    page.wait_for_function("el => el.value.length > 0", arg=english.element_handle(), timeout=TIMEOUT_MS)
    page.locator("#translate-animation img").wait_for(timeout=TIMEOUT_MS)
    assert english.input_value() == expected
    page.wait_for_timeout(1000)  # the animation a second in: the signer's hands up
    shot = Path(os.environ.get("LSLM_APP_SCREENSHOT") or tmp_path / "app.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()
