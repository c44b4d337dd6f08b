"""The sweep HTML reports work in a real browser: headless Debian Chromium driven by Selenium
through /usr/bin/chromedriver (``.ci/run`` installs both). Each example's report (the
formats example in its small variant) is opened and screenshotted; its Pareto plot must be
drawn with the front joined, and hovering a point must show a tooltip naming that design
point and its values with units. The report must load nothing from the network. At 1280 pixels
its tables fit the page (design axes and objectives shown, other column groups behind
toggles), and a toggle shows its hidden group."""

import csv
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
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "sweep", str(example),
                        "--out", str(out)], capture_output=True, text=True, env=env,
                       timeout=3600)
    assert r.returncode == 0, r.stderr[-2000:]
    line = [s for s in r.stdout.splitlines() if "HTML report:" in s][-1]
    return Path(line.split("HTML report:")[1].strip())


def _hover_text(browser, figure_id, trace, point) -> str:
    """Move the mouse onto point ``point`` of scatter trace ``trace`` in figure
    ``figure_id`` and return the tooltip's text (empty when none shows)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    traces = browser.find_elements("css selector", f"#{figure_id} .scatterlayer .trace")
    dot = traces[trace].find_elements("css selector", ".points path")[point]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", dot)
    caption = browser.find_element(
        "css selector", f"#{figure_id.replace('plot-', 'figure-', 1)} figcaption")
    ActionChains(browser).move_to_element(caption).move_to_element(dot).perform()  # a new hover
    WebDriverWait(browser, 5).until(
        lambda b: b.find_elements("css selector", f"#{figure_id} .hoverlayer .hovertext"))
    return browser.execute_script(  # one line per <br> line of the tooltip (SVG tspans)
        "return Array.from(arguments[0].querySelectorAll('tspan.line'))"
        ".map(t => t.textContent).join('\\n')",
        browser.find_element("css selector", f"#{figure_id} .hoverlayer .hovertext"))


def _check_report(browser, page, tmp_path):
    """Common checks: no network, screenshot, Pareto plot drawn with its front trace."""
    browser.get(page.as_uri())
    fetched = browser.execute_script(  # self-contained: nothing loaded but the file itself
        "return [document.querySelectorAll('script[src], link[href], img[src]').length]"
        ".concat(performance.getEntriesByType('resource').map(e => e.name))")
    assert fetched == [0], fetched
    shot = tmp_path / "screenshot.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    names = browser.execute_script(
        "return document.getElementById('plot-pareto_png').data.map(t => t.name)")
    assert names[-1] == "Pareto front", names
    lines = browser.find_elements("css selector", "#plot-pareto_png .scatterlayer .js-line")
    assert lines, "the Pareto front is not joined by a line"


def test_toy_report_hover_names_the_point(browser, tmp_path):
    """Every point of the toy sweep's Pareto plot: its tooltip names its own design point
    (a_fmt, b_fmt as in the CSV) with SQNR in dB."""
    sweep = tmp_path / "toy.py"
    sweep.write_text('''
from lowbit.explore import Space, Sweep
sweep = Sweep(name="toy", space=Space({"a_fmt": ["int8", "fp8_e4m3", "mxfp4"],
              "b_fmt": ["int8", "mxfp4"], "k": 64, "tokens": 4, "n": 4},
              where=lambda p: (p["a_fmt"] == "mxfp4") == (p["b_fmt"] == "mxfp4")),
              stages=("gemm",), objectives={"sqnr_db": "max", "max_abs_error": "min"},
              plots=[("max_abs_error", "sqnr_db", "a_fmt")])
''')
    page = _report(sweep, tmp_path)
    _check_report(browser, page, tmp_path)
    with open(tmp_path / "toy.csv") as f:
        rows = list(csv.DictReader(f))
    seen = []
    data = browser.execute_script(
        "return document.getElementById('plot-pareto_png').data"
        ".map(t => [t.name, t.x.length])")
    for trace, (name, count) in enumerate(data[:-1]):  # the last trace is the front line
        for point in range(count):
            tip = _hover_text(browser, "plot-pareto_png", trace, point)
            lines = tip.splitlines()
            assert lines[0].startswith(f"a_fmt={name}, b_fmt="), tip
            row = next((r for r in rows if f"a_fmt={r['a_fmt']}, b_fmt={r['b_fmt']}" ==
                        lines[0]), None)
            assert row is not None, tip
            assert f"GEMM SQNR: {float(row['sqnr_db']):.4g} dB" in lines, tip
            seen.append(lines[0])
    assert sorted(seen) == sorted(f"a_fmt={r['a_fmt']}, b_fmt={r['b_fmt']}" for r in rows)
    # a click on a header sorts the table by that column, a second click reverses it
    header = browser.find_element("css selector", "#points-table th[title='sqnr_db']")
    column = int(header.get_attribute("data-col"))
    sqnr = sorted(float(r["sqnr_db"]) for r in rows)

    def shown():
        return [float(td.get_attribute("data-sort")) for td in browser.find_elements(
            "css selector", f"#points-table tbody td:nth-child({column + 1})")]
    header.click()
    assert shown() == sqnr
    header.click()
    assert shown() == sqnr[::-1]


@pytest.mark.parametrize("example, tables", [  # formats: every point has its measured
    ("formats_llm_decode.py", 2), ("accumulator_width.py", 2),  # energy: no left-out table
    ("array_dataflow.toml", 2)])
def test_example_report_renders_in_chromium(browser, tmp_path, example, tables):
    env = dict(os.environ, LOWBIT_SWEEP_SMALL="1")
    page = _report(EXAMPLES / example, tmp_path, env)
    _check_report(browser, page, tmp_path)
    assert len(browser.find_elements("tag name", "table")) == tables
    figures = browser.find_elements("css selector", "figure.plot .js-plotly-plot")
    assert len(figures) == 1 + page.read_text().count("<figure class='plot' id='figure-plot")
    title = browser.execute_script("return document.getElementById('plot-pareto_png')"
                                   ".layout.xaxis.title.text")  # "energy per token (mJ)"
    label, unit = title[:-1].split(" (") if title.endswith(")") else (title, "")
    tip = _hover_text(browser, "plot-pareto_png", 0, 0).splitlines()
    assert tip[1].startswith(f"{label}: ") and tip[1].endswith(f" {unit}"), (title, tip)
    assert "Pareto front" in browser.find_element("tag name", "body").text
    _check_tables_fit_and_toggle(browser)


def _check_tables_fit_and_toggle(browser):
    """At a 1280-pixel window no table scrolls sideways; ticking a group's toggle shows that
    group's columns (hidden before) in its table only."""
    browser.set_window_size(1280, 1000)
    try:
        browser.refresh()
        widths = browser.execute_script(
            "return Array.from(document.querySelectorAll('div.scroll'))"
            ".map(d => [d.firstElementChild.id, d.scrollWidth, d.clientWidth])")
        assert widths and all(scroll <= client for _, scroll, client in widths), widths
        box = browser.find_element("css selector", "input[data-table='points-table']")
        group = box.get_attribute("data-group")
        header = browser.find_element("css selector", f"#points-table th.sortable.g-{group}")
        assert not header.is_displayed() and not box.is_selected()
        box.click()
        assert header.is_displayed()
        assert "show-" + group in browser.find_element("id", "points-table").get_attribute(
            "class")
        other = browser.find_elements("css selector", f"#pareto-table th.sortable.g-{group}")
        assert not any(th.is_displayed() for th in other)  # each table has its own toggles
    finally:
        browser.set_window_size(1400, 1000)
