"""The operator's dashboard in a real browser: Debian's chromium, driven by Playwright."""

import shutil

import pytest
import requests

from client.connector import Connector
from client.errors import HubFault
from tests.builders import G12, H31, H49, document
from tests.hubprocess import start_hub, stop_hub

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
)
OPERATOR, PASSWORD = "Quản trị viên", "mật khẩu dài"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    running = start_hub(tmp, f"sqlite:///{tmp / 'hub.db'}")
    added = running.admin("operator", "add", OPERATOR, "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert running.admin("agency", "set-quota", H49, "--per-minute", "30").returncode == 0
    assert running.admin("agency", "set-networks", H49, "10.0.0.0/8").returncode == 0
    sender = Connector(running.url, G12, running.passwords[G12])
    for n in range(3):
        sender.send(document(document_id=f"G12,dashboard,{n}"))
    with pytest.raises(HubFault):
        sender.send(b"<not-edxml")
    yield running
    stop_hub(running)


def test_nothing_is_public(hub):
    base = hub.url.removesuffix("/soap")
    page = requests.get(base + "/dashboard", allow_redirects=False, timeout=10)
    assert (page.status_code, page.headers["Location"]) == (303, "/dashboard/login")
    assert "Cơ quan" not in requests.get(base + "/dashboard/login", timeout=10).text


def test_an_operator_signs_in_and_sees_what_was_sent(hub, tmp_path):
    base = hub.url.removesuffix("/soap")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.goto(base + "/dashboard")
        assert page.url.endswith("/dashboard/login")
        page.fill("#name", OPERATOR)
        page.fill("#password", "wrong")
        page.click("#sign-in")
        assert page.is_visible("#error")
        page.fill("#name", OPERATOR)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url(base + "/dashboard")

        assert page.inner_text("#today-messages") == "3"
        assert page.inner_text(f'#volume tr[data-agency="{G12}"] .total') == "3"
        assert f"Cơ quan {G12}" in page.inner_text("#volume")
        for recipient in (H31, H49):
            assert page.inner_text(f'#backlog tr[data-inbox="{recipient}"] .pending') == "3"
        assert "Client.XMLSyntax" in page.inner_text("#refusals")
        limits = f'#limits tr[data-agency="{H49}"]'
        assert page.inner_text(f"{limits} .n") == "30"
        assert page.inner_text(f"{limits} .networks") == "10.0.0.0/8"
        assert f"Signed in as {OPERATOR}" in page.inner_text("body")
        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=str(screenshot), full_page=True)

        page.fill("#find-id", "G12,dashboard,1")
        page.click("#find-button")
        page.wait_for_url(base + "/dashboard/document?*")
        found = f'section[data-sender="{G12}"]'
        assert "triển khai liên thông" in page.inner_text(f"{found} .subject")
        for recipient in (H31, H49):
            assert page.inner_text(f'{found} tr[data-recipient="{recipient}"] .state') == "pending"
        page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
