"""The sweep HTML reports render in a real browser: headless Debian Chromium driven by Selenium
through /usr/bin/chromedriver (``.ci/run`` installs both). Each example's report (the
formats example in its small variant) is opened, screenshotted, and must show its tables and
every plot decoded (``naturalWidth > 0``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
EXAMPLES = Path(__file__).parents[2] / "examples"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("rtl"),
              pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()),
                                 reason="no /usr/bin/chromium and /usr/bin/chromedriver "
                                        "(Debian packages chromium, chromium-driver)")]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(DRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def _report(example, out, env=None) -> Path:
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "sweep", str(EXAMPLES / example),
                        "--out", str(out)], capture_output=True, text=True, env=env,
                       timeout=3600)
    assert r.returncode == 0, r.stderr[-2000:]
    line = [s for s in r.stdout.splitlines() if "HTML report:" in s][-1]
    return Path(line.split("HTML report:")[1].strip())


@pytest.mark.parametrize("example, tables, images", [  # formats: NVFP4's energy is n/a, so a
    ("formats_llm_decode.py", 3, 3), ("accumulator_width.py", 2, 2),  # left-out table
    ("array_dataflow.toml", 2, 2)])
def test_example_report_renders_in_chromium(browser, tmp_path, example, tables, images):
    env = dict(os.environ, LOWBIT_SWEEP_SMALL="1")
    page = _report(example, tmp_path, env)
    browser.get(page.as_uri())
    shot = tmp_path / "screenshot.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    assert len(browser.find_elements("tag name", "table")) == tables
    widths = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == images and all(w > 0 for w in widths), widths
    assert "Pareto front" in browser.find_element("tag name", "body").text
