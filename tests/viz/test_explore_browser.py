"""The explorer and the playground in a real browser: Debian's headless chromium, driven by Selenium through
Debian's chromium-driver, against a server started on a free port. Skipped (with the reason) only when
chromium or its driver is not installed.

Screenshots of both pages are taken by this run's browser; with DAGRAD_SCREENSHOTS=DIR they are also written
to DIR (the README's pictures: DAGRAD_SCREENSHOTS=docs/images pytest tests/viz/test_explore_browser.py).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.viz.test_stepper import CHROMIUM_FLAGS
from viz.expr import build_program

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
    ),
]
# The stepper test's flags (without them chromium as root stalls on a closed network), minus its stderr logging.
FLAGS = [f for f in CHROMIUM_FLAGS if not f.startswith(("--enable-logging", "--v="))] + ["--window-size=1400,980"]
WAIT = 30  # seconds any one thing may take on a loaded 2-core machine


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from viz.explore.server import start

    explorer = start(port=0, open_browser=False)
    yield explorer.url
    explorer.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def wait_for(driver: object, condition, what: str) -> object:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(
        driver, WAIT, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    ).until(condition, message=f"waited {WAIT} s for {what}")


def open_page(driver: object, url: str) -> None:
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"), f"{url} to load")


def node(driver: object, name: str) -> object:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'g.node[data-name="{name}"]')


def error_text(driver: object) -> str:
    return driver.execute_script("const e = document.getElementById('error'); return e.hidden ? '' : e.textContent")


def script_errors(driver: object) -> list[dict]:
    """Errors the page's scripts logged (a refused request, answered 400 on purpose, is the network's entry)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]


def keep_screenshot(driver: object, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 20_000  # a real picture, not a blank page
    target = os.environ.get("DAGRAD_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)
    return path


def test_explorer_click_slide_nudge_and_step(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_page(browser, server)
    assert float(node(browser, "e").get_attribute("data-value")) == 4.5  # micrograd's example, drawn at once
    node(browser, "a").click()
    shown = wait_for(browser, lambda d: d.find_element(By.ID, "detail-grad"), "the gradient of a")
    assert float(shown.get_attribute("data-value")) == pytest.approx(-0.5)
    assert (
        "a.grad = -1.0 (via arg0 of mul) + 0.5 (via arg0 of c) = -0.5" in browser.find_element(By.ID, "chain-sum").text
    )

    # Drag b's slider: the page shows the gradients dagrad computes at the new value.
    slider = browser.find_element(By.ID, "slider-b")
    ActionChains(browser).click_and_hold(slider).move_by_offset(30, 0).release().perform()
    wait_for(browser, lambda d: float(d.find_element(By.ID, "value-b").get_attribute("value")) != 2.0, "b to move")
    b = float(browser.find_element(By.ID, "value-b").get_attribute("value"))
    program = build_program(browser.find_element(By.ID, "program").get_attribute("value"), {"b": b})
    program.root.backward()
    expected = program.leaves["a"].grad.item()
    wait_for(
        browser,
        lambda d: abs(float(d.find_element(By.ID, "detail-grad").get_attribute("data-value")) - expected) < 1e-9,
        f"∂e/∂a = {expected} at b = {b}",
    )
    assert float(node(browser, "b").get_attribute("data-grad")) == pytest.approx(program.leaves["b"].grad.item())

    # Nudge a: (L(a+h) - L(a)) / h lands beside ∂L/∂a.
    browser.find_element(By.ID, "nudge").click()
    result = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#nudge-result[data-slope]"), "the nudge")
    assert float(result.get_attribute("data-slope")) == pytest.approx(expected, rel=1e-4, abs=1e-6)

    # Step through backward from the seed to the leaves.
    browser.find_element(By.ID, "step-first").click()
    label = browser.find_element(By.ID, "step-label")
    assert label.get_attribute("data-position") == "0" and node(browser, "a").get_attribute("data-grad") is None
    total = int(label.get_attribute("data-total"))
    for k in range(1, total + 1):
        browser.find_element(By.ID, "step-next").click()
        assert browser.find_element(By.ID, "step-label").get_attribute("data-position") == str(k)
        current = browser.find_elements(By.CSS_SELECTOR, "g.node.current")
        assert len(current) == 1 and "op" in current[0].get_attribute("class")
    assert browser.find_element(By.ID, "step-label").text.endswith("backward is complete")
    assert float(node(browser, "a").get_attribute("data-grad")) == pytest.approx(expected)
    browser.find_element(By.ID, "step-back").click()
    assert browser.find_element(By.ID, "step-label").get_attribute("data-position") == str(total - 1)
    browser.find_element(By.ID, "step-last").click()

    # The README's picture: back to the example's values, b selected and nudged, three steps before the end.
    browser.find_element(By.ID, "reset").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "value-b").get_attribute("value") == "2", "the reset")
    node(browser, "b").click()
    browser.find_element(By.ID, "nudge").click()
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#nudge-result[data-slope]"), "the nudge of b")
    for _ in range(3):
        browser.find_element(By.ID, "step-back").click()
    keep_screenshot(browser, tmp_path, "explorer.png")
    assert script_errors(browser) == []


def test_a_malformed_expression_shows_an_error_and_the_next_one_works(server, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, server)
    box = browser.find_element(By.ID, "program")
    box.clear()
    box.send_keys("a = 1\n(a + ")
    browser.find_element(By.ID, "run").click()
    wait_for(browser, lambda d: "cannot parse" in error_text(d), "the parse error")
    assert node(browser, "e")  # the last good graph stays on screen
    box.clear()
    box.send_keys("x = 3\ny = x * x + x")
    browser.find_element(By.ID, "run").click()
    wait_for(browser, lambda d: error_text(d) == "", "the error to clear")
    assert float(node(browser, "y").get_attribute("data-value")) == 12.0
    assert float(node(browser, "x").get_attribute("data-grad")) == 7.0


def test_playground_learns_xor_and_opens_a_step_in_the_explorer(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, server + "playground")
    status = browser.find_element(By.ID, "status")
    assert status.get_attribute("data-step") == "0"
    before = browser.execute_script("return document.getElementById('boundary-0').toDataURL()")

    lr = browser.find_element(By.ID, "lr")  # an absurd learning rate: one message, nothing breaks
    lr.clear()
    lr.send_keys("1e9")
    browser.find_element(By.ID, "new").click()
    wait_for(browser, lambda d: "learning rate must be" in error_text(d), "the learning-rate message")
    lr.clear()
    lr.send_keys("0.03")
    browser.find_element(By.ID, "new").click()
    wait_for(browser, lambda d: error_text(d) == "", "the message to clear")

    browser.find_element(By.ID, "start").click()
    wait_for(
        browser,
        lambda d: float(d.find_element(By.ID, "status").get_attribute("data-train-accuracy")) >= 0.95,
        "95% training accuracy on xor",
    )
    browser.find_element(By.ID, "start").click()  # pause
    steps = int(browser.find_element(By.ID, "status").get_attribute("data-step"))
    assert 0 < steps <= 2000
    after = browser.execute_script("return document.getElementById('boundary-0').toDataURL()")
    assert after != before  # the decision boundary moved

    # The vanishing-gradient lesson: ten sigmoid and ten ReLU layers side by side (and the README's picture).
    browser.find_element(By.ID, "preset-vanishing").click()
    wait_for(browser, lambda d: len(d.find_elements(By.ID, "boundary-1")) == 1, "the second network")
    browser.find_element(By.ID, "start").click()
    wait_for(browser, lambda d: int(d.find_element(By.ID, "status").get_attribute("data-step")) >= 150, "150 steps")
    browser.find_element(By.ID, "start").click()
    time.sleep(0.5)  # let an update already on its way land
    norms = browser.execute_script("return JSON.parse(document.getElementById('grad-chart').dataset.norms)")
    sigmoid, relu = norms
    assert len(sigmoid) == len(relu) == 11 and sigmoid[0] / sigmoid[-1] < 1e-3 < relu[0] / relu[-1]
    keep_screenshot(browser, tmp_path, "playground.png")
    browser.find_element(By.ID, "preset-xor").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "status").get_attribute("data-step") == "0", "xor again")
    browser.find_element(By.ID, "one-step").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "status").get_attribute("data-step") == "1", "one step")

    # A second tab has its own session: it starts from nothing and does not disturb this one.
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    open_page(browser, server + "playground")
    assert browser.find_element(By.ID, "status").get_attribute("data-step") == "0"
    for k in range(1, 4):
        browser.find_element(By.ID, "one-step").click()
        wait_for(browser, lambda d, k=k: d.find_element(By.ID, "status").get_attribute("data-step") == str(k), "a step")
    browser.close()
    browser.switch_to.window(first)
    open_page(browser, server + "playground")  # reloaded: the tab's own training, still at its one step
    assert browser.find_element(By.ID, "status").get_attribute("data-step") == "1"

    browser.find_element(By.ID, "open-graph").click()
    wait_for(browser, lambda d: d.execute_script("return location.pathname") == "/", "the explorer")
    open_page(browser, browser.current_url)
    assert "training step" in browser.find_element(By.ID, "source-title").text
    boxes = browser.find_elements(By.CSS_SELECTOR, "g.node.module")
    assert len(boxes) == 3  # Linear, Tanh, Linear, each collapsed
    boxes[0].click()
    browser.find_element(By.ID, "open-module").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'g.frame[data-module="0"]'), "module 0 to open")
    assert node(browser, "0.weight")
    assert script_errors(browser) == []
