"""The leaders' web page in a real browser: Debian's headless Chromium driven by Selenium.

Skipped when chromium or chromedriver is missing, unless ``DVK_REQUIRE_BROWSER=1`` (set by
``.ci/run``, which installs them) makes that a failure. ``DVK_DESK_SCREENSHOTS=DIR`` keeps the
screenshots of the page (the README's, in docs/) in DIR.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.desk import Desk
from bot.web import build_web_app
from handlers.core import Core
from tests.helpers import Clock, World, active_models_by_unit
from tests.test_desk import fill, sign_in_link

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRE = os.environ.get("DVK_REQUIRE_BROWSER") == "1"
SHOTS = os.environ.get("DVK_DESK_SCREENSHOTS")
T = TypeVar("T")

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs it
    webdriver = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def browser_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebDriver, Path]]:
    missing = [
        name
        for name, found in (
            ("chromium", CHROMIUM),
            ("chromedriver", CHROMEDRIVER),
            ("selenium", webdriver),
        )
        if not found
    ]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if REQUIRE:
            pytest.fail(f"{reason}; DVK_REQUIRE_BROWSER=1 makes the browser test mandatory")
        pytest.skip(reason)
    assert CHROMIUM is not None
    assert CHROMEDRIVER is not None
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager downloads nothing
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--lang=vi-VN",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver, downloads
    finally:
        driver.quit()


class Browser:
    """The blocking WebDriver, called from a thread: the web server runs on this loop."""

    def __init__(self, driver: WebDriver, base: str, downloads: Path) -> None:
        self.driver = driver
        self.base = base
        self.downloads = downloads

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def get(self, url: str) -> None:
        await self.run(self.driver.get, url if url.startswith("http") else self.base + url)

    async def text(self, css: str = "body") -> str:
        return await self.run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    def _click_and_wait(self, by: str, what: str) -> None:
        """Click, then wait for the next page to replace this one."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(by, what).click()

        def replaced(driver: WebDriver) -> bool:
            # Chromium may report the old page's node as "not in the document" rather than
            # stale while it swaps pages: either way the page was replaced.
            try:
                return bool(staleness_of(old)(driver))
            except WebDriverException:
                return True

        WebDriverWait(self.driver, 15).until(replaced)
        WebDriverWait(self.driver, 15).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    async def click(self, css: str) -> None:
        await self.run(self._click_and_wait, By.CSS_SELECTOR, css)

    async def click_here(self, css: str) -> None:
        """Click what does not leave the page (a download)."""
        await self.run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

    async def images_loaded(self, css: str) -> list[int]:
        """The natural widths of the images, once each has loaded (scrolled into view)."""

        def widths(driver: WebDriver) -> list[int] | Literal[False]:
            found: list[int] = driver.execute_script(
                "const imgs = [...document.querySelectorAll(arguments[0])];"
                "imgs.forEach(i => i.scrollIntoView());"
                "return imgs.every(i => i.complete) ? imgs.map(i => i.naturalWidth) : false;",
                css,
            )
            return found

        return await self.run(lambda: WebDriverWait(self.driver, 15).until(widths))

    async def click_link(self, text: str) -> None:
        await self.run(self._click_and_wait, By.LINK_TEXT, text)

    async def script(self, source: str) -> Any:
        return await self.run(self.driver.execute_script, source)

    async def shot(self, name: str, width: int, height: int) -> None:
        if not SHOTS:
            return
        await self.run(self.driver.set_window_size, width, height)
        full = await self.script("return document.documentElement.scrollHeight")
        await self.run(self.driver.set_window_size, width, max(height, int(full) + 140))
        await self.run(Path(SHOTS).mkdir, 0o777, True, True)
        await self.run(self.driver.save_screenshot, str(Path(SHOTS) / name))
        await self.run(self.driver.set_window_size, 1280, 900)


@pytest.fixture
async def browser(
    browser_setup: tuple[WebDriver, Path],
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> AsyncIterator[tuple[Browser, Core]]:
    driver, downloads = browser_setup
    core = Core(sessionmaker, clock=clock, files_dir=tmp_path / "files")
    desk = Desk(core, b"s" * 32, secure=False)
    server = TestServer(build_web_app("w" * 20, (), None, clock=core.clock, desk=desk))
    await server.start_server()
    core.web_base_url = str(server.make_url("")).rstrip("/")
    await asyncio.to_thread(driver.delete_all_cookies)
    try:
        yield Browser(driver, core.web_base_url, downloads), core
    finally:
        await server.close()


def _downloaded(folder: Path, suffix: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix == suffix]


async def wait_for_file(folder: Path, suffix: str) -> Path:
    for _ in range(100):
        done = await asyncio.to_thread(_downloaded, folder, suffix)
        if done:
            return done[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {suffix} downloaded in {folder}")


async def test_a_leader_signs_in_reads_drills_down_and_downloads(
    browser: tuple[Browser, Core],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    page, core = browser
    await fill(sessionmaker, world, tmp_path / "files", clock)
    link = await sign_in_link(core)

    await page.get(link)
    assert "Đăng nhập trang tổng hợp" in await page.text("h1")
    await page.click("#sign-in")
    assert (await page.script("return location.pathname")) == "/desk"
    by_unit = await active_models_by_unit(sessionmaker, world.ward)
    # The ward itself has no quota: its 3 lower units are the ones that must register.
    models, registered = sum(by_unit.values()), len(set(by_unit) - {world.ward.id})
    assert await page.text("#fig-models") == str(models) == "3"
    assert await page.text("#fig-units-registered") == f"{registered}/3"
    assert "Trần Văn Hùng" in await page.text("header")
    body = await page.text()
    assert "Chi bộ thôn Đồng Tâm" not in body
    # The chart is there and drawn.
    assert await page.images_loaded("img.chart") == [1200]
    await page.shot("desk.png", 1280, 900)
    await page.shot("desk-phone.png", 420, 900)

    # Filters: the review state keeps the women's union only.
    await page.run(
        lambda: page.driver.find_element(
            By.CSS_SELECTOR, "select[name=state] option[value=proposed]"
        ).click()
    )
    await page.click("#filter")
    table = await page.text("table")
    assert "Hội LHPN phường" in table
    assert "Chi bộ Tổ dân phố 1" not in table

    # Drill down to a unit: its models with results, points, review and evidence.
    await page.get("/desk?year=2026")
    await page.click_link("Chi bộ Tổ dân phố 1")
    unit = await page.text()
    assert "Tuyến phố <xanh> & sạch" in unit  # shown as typed, not as markup
    assert "Kết quả đạt được: 120 hộ tham gia" in unit
    assert "Tình trạng: chưa đề xuất công nhận" in unit
    assert await page.images_loaded(".thumbs img") == [240]
    await page.shot("desk-unit.png", 1280, 900)

    # A workbook of the subtree, downloaded by the browser, opens with openpyxl.
    await page.get("/desk?year=2026")
    await page.click_here("#export-pl1")
    saved = await wait_for_file(page.downloads, ".xlsx")
    assert saved.name == "Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx"
    workbook = load_workbook(io.BytesIO(saved.read_bytes()))
    cells = [
        str(v) for ws in workbook.worksheets for r in ws.iter_rows(values_only=True) for v in r
    ]
    assert "Tổ hòa giải giỏi" in cells
    assert "Mô hình xã khác" not in cells

    # Another subtree's URL: nothing of it.
    await page.get(f"/desk/unit/{world.other_cell.id}")
    assert "Đồng Tâm" not in await page.text()
    assert "Không tìm thấy" in await page.text()

    # Signed out: the page asks for a new link.
    await page.get("/desk")
    await page.click("#sign-out")
    assert "Đồng chí đã đăng xuất" in await page.text()
    await page.get("/desk")
    assert "chưa đăng nhập" in await page.text()


async def test_a_reused_or_forged_link_is_refused(
    browser: tuple[Browser, Core], world: World
) -> None:
    page, core = browser
    link = await sign_in_link(core)
    await page.get(link)
    await page.click("#sign-in")
    assert (await page.script("return location.pathname")) == "/desk"
    await page.run(page.driver.delete_all_cookies)
    # The same link again.
    await page.get(link)
    await page.click("#sign-in")
    assert "Đường dẫn không dùng được" in await page.text("h1")
    await page.get("/desk")
    assert "chưa đăng nhập" in await page.text()
    # A made-up one.
    await page.get(link[:-6] + "abcdef")
    await page.click("#sign-in")
    assert "Đường dẫn không dùng được" in await page.text("h1")
