import shutil
from pathlib import Path

import numpy as np
import pytest

from book.pdf import CHROMIUM_ARGS
from book.teacher import TransferSet


@pytest.fixture
def tiny_transfer():
    """A small synthetic transfer set: 20 non-negative features, logits linear in them."""
    rng = np.random.default_rng(0)

    def split(n):
        features = np.maximum(rng.normal(size=(n, 20)), 0).astype("float32")
        logits = (features @ mixing).astype("float32")
        return features, logits, logits.argmax(1).astype("int64")

    mixing = rng.normal(size=(20, 10))
    return TransferSet(*split(96), *split(64))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (which never downloads a browser of its
    own), with the flags this offline machine needs; the test is skipped without it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()
