"""The web page at / in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

The page talks to a real uvicorn server on 127.0.0.1. Reads go to the shared `service` (real model,
bundled corpus); uploads go to a separate service over a temporary data folder, so other tests never see
them. Set POLICYQA_SCREENSHOTS=1 to also write the screenshots into docs/screenshots/.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent: `apt-get install chromium chromium-driver` (./run test does it as root)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from api.app import STATIC, create_app  # noqa: E402
from tests.servers import serve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
KEY = "k"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
GENRE_DOC = (
    "某某市人民政府办公室关于印发2024年重点工作责任分解的通知\n"
    "一、稳增长\n"
    "1．全市新建充电桩3000个以上。（责任单位：市能源局、市建设局）\n"
    # server text must reach the page as text, never as markup
    '2．推进<img src=x onerror="window.__pwned=1">标签测试工程。（责任单位：市测试局）\n'
)


# ----- servers ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(service):
    """The shared, read-only service (writes disabled: no API key)."""
    with serve(create_app(dataclasses.replace(service.config, api_key=None), service)) as url:
        yield url


@pytest.fixture(scope="module")
def writable_site(make_writable_service):
    """A separate service with an API key, over its own data folder, for uploads and deletes."""
    svc = make_writable_service(KEY)
    with serve(create_app(svc.config, svc)) as url:
        yield url


# ----- the browser -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver_path).exists():
        pytest.fail("chromium is installed but chromedriver is not: `apt-get install chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, timeout: float = 30):
    return WebDriverWait(driver, timeout)


_loads = iter(range(1, 1_000_000))


def open_tab(driver, base: str, tab: str) -> None:
    """A fresh load of the page on `tab` (the query string makes it a new document, not a hash change)."""
    driver.get(f"{base}/?load={next(_loads)}#{tab}")
    wait(driver).until(lambda d: d.find_element(By.ID, f"tab-{tab}").get_attribute("aria-selected") == "true")


def type_into(driver, element_id: str, text: str) -> None:
    el = driver.find_element(By.ID, element_id)
    el.clear()
    el.send_keys(text)


def ask(driver, base: str, question: str):
    open_tab(driver, base, "ask")
    type_into(driver, "ask-q", question)
    driver.find_element(By.ID, "ask-btn").click()
    return wait(driver).until(EC.presence_of_element_located((By.ID, "answer")))


def text_of(driver, css: str) -> str:
    return "\n".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def field(answer, label: str) -> str:
    """The text of the <dd> after the <dt> labelled `label` in an answer card."""
    return answer.find_element(By.XPATH, f".//dt[normalize-space()='{label}']/following-sibling::dd[1]").text


def api_json(base: str, path: str, body: dict | None = None) -> dict:
    """What the API itself says, to compare the page with."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def network_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            urls.append(msg["params"].get("request", {}).get("url") or msg["params"].get("url", ""))
    return urls


# ----- the page itself -------------------------------------------------------------------------
def test_page_is_one_self_contained_file():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//""", html, re.I) is None
    assert re.search(r"url\(\s*['\"]?(https?:)?//", html, re.I) is None
    assert "@import" not in html and "innerHTML" not in html and "insertAdjacentHTML" not in html
    assert 'lang="zh-CN"' in html


def test_tabs_and_labels(browser, site):
    open_tab(browser, site, "ask")
    tabs = browser.find_elements(By.CSS_SELECTOR, '[role="tab"]')
    assert [t.text for t in tabs] == ["问答", "检索", "台账", "文档"]
    wait(browser).until(lambda d: re.search(r"已收录 2 份文档 · \d+ 个条目", d.find_element(By.ID, "health").text))
    unlabelled = browser.execute_script(
        """return [...document.querySelectorAll('input, select, textarea')]
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
             .map(e => e.id || e.name);""")
    assert unlabelled == []
    tabs[1].click()
    assert browser.find_element(By.ID, "panel-search").is_displayed()
    assert not browser.find_element(By.ID, "panel-ask").is_displayed()


# ----- 台账 and the document view ----------------------------------------------------------------
def test_ledger_lists_every_task_of_a_unit_and_exports_it(browser, site):
    open_tab(browser, site, "tasks")
    # a name without its level names no unit: the page offers the units that contain it
    type_into(browser, "t-unit", "经信厅")
    browser.find_element(By.ID, "tasks-btn").click()
    offer = wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#tasks-suggest button")))
    assert offer.text.startswith("省经信厅")
    offer.click()
    total = wait(browser).until(EC.presence_of_element_located((By.ID, "tasks-total")))
    assert browser.find_element(By.ID, "t-unit").get_attribute("value") == "省经信厅"
    expected = api_json(site, "/tasks?unit=%E7%9C%81%E7%BB%8F%E4%BF%A1%E5%8E%85&limit=1")["total"]
    assert total.text.startswith(f"共 {expected} 项任务") and expected == 69
    rows = browser.find_elements(By.CSS_SELECTOR, "#tasks-table tbody tr")
    assert len(rows) == expected
    assert all("经信厅" in r.text or "经济和信息化厅" in r.text for r in rows)
    # lead-only narrows it to what the API counts
    browser.find_element(By.CSS_SELECTOR, "#t-role option[value='lead']").click()
    browser.find_element(By.ID, "tasks-btn").click()
    lead = api_json(site, "/tasks?unit=%E7%9C%81%E7%BB%8F%E4%BF%A1%E5%8E%85&role=lead&limit=1")["total"]
    wait(browser).until(lambda d: d.find_element(By.ID, "tasks-total").text.startswith(f"共 {lead} 项任务"))
    assert 0 < lead < expected
    # the export is the whole list as .xlsx, fetched with the page's key and handed to the browser as a file
    browser.execute_script("""
        window.__blobs = [];
        var make = URL.createObjectURL;
        URL.createObjectURL = function (b) { window.__blobs.push(b); return make.call(URL, b); };""")
    browser.find_element(By.ID, "tasks-xlsx").click()
    head = browser.execute_async_script("""
        var done = arguments[0];
        (function poll() {
          if (!window.__blobs.length) return setTimeout(poll, 50);
          window.__blobs[0].arrayBuffer().then(function (b) {
            done([window.__blobs[0].type, String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 2))), b.byteLength]);
          });
        })();""")
    assert "spreadsheetml" in head[0] and head[1] == "PK" and head[2] > 5000


def test_ledger_by_deadline_marks_the_past_ones(browser, site):
    open_tab(browser, site, "tasks")
    browser.execute_script("document.getElementById('t-before').value = '2023-06-30';")
    browser.find_element(By.CSS_SELECTOR, "#t-sort option[value='due']").click()
    browser.find_element(By.ID, "tasks-btn").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "tasks-total")))
    expected = api_json(site, "/tasks?due_before=2023-06-30&sort=due&limit=100")
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#tasks-table tbody td[data-label='完成时限']")]
    assert len(cells) == min(100, expected["total"]) and expected["total"] > 0
    assert [c.removesuffix("（已过）") for c in cells] == [t["deadline"] for t in expected["tasks"]]
    assert all(c.endswith("（已过）") for c in cells)  # every one of them is before today


def test_a_citation_opens_its_document_at_the_item(browser, site):
    ask(browser, site, "农村公路新改建由谁牵头？")
    first = browser.find_element(By.CSS_SELECTOR, "#citations details.cite")
    item_id = first.get_attribute("data-item-id")
    first.find_element(By.TAG_NAME, "summary").click()
    wait(browser).until(lambda d: first.find_elements(By.CSS_SELECTOR, "a.open-doc"))[0].click()
    target = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".doc-item.target-item")))
    assert target.get_attribute("data-item-id") == item_id
    assert "农村公路新改建" in target.text and "省交通运输厅" in target.text
    assert browser.find_element(By.ID, "panel-documents").is_displayed()
    assert not browser.find_element(By.ID, "docs-card").is_displayed()
    assert browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", target)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".doc-item.target-item")) == 1
    assert browser.find_element(By.ID, "doc-file").is_displayed()  # the original can be had
    browser.find_element(By.ID, "doc-back").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "docs-card")))
    # a title in the list opens the document from its start
    browser.find_element(By.CSS_SELECTOR, "#docs-table a.doc-link").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "doc-items")))
    assert not browser.find_elements(By.CSS_SELECTOR, ".doc-item.target-item")


def test_answers_and_search_results_copy_and_export(browser, site):
    capture = """
        window.__copied = []; window.__blobs = [];
        Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {
            writeText: function (t) { window.__copied.push(t); return Promise.resolve(); }}});
        var make = URL.createObjectURL;
        URL.createObjectURL = function (b) { window.__blobs.push(b); return make.call(URL, b); };"""
    answer = ask(browser, site, "农村公路新改建由谁牵头？")
    browser.execute_script(capture)
    answer.find_element(By.ID, "answer-copy").click()
    wait(browser).until(lambda d: d.execute_script("return window.__copied.length"))
    copied = browser.execute_script("return window.__copied[0]")
    expected = api_json(site, "/ask", {"question": "农村公路新改建由谁牵头？", "top_k": 5})
    assert copied.startswith(expected["answer"]) and "出处：" in copied
    assert all(c["ref"] in copied for c in expected["citations"])
    assert "已复制" in browser.find_element(By.ID, "answer-copied").text

    open_tab(browser, site, "search")
    browser.execute_script(capture)
    type_into(browser, "s-q", "5G基站")
    browser.find_element(By.ID, "search-btn").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    shown = len(browser.find_elements(By.CSS_SELECTOR, "#results > li"))
    browser.find_element(By.ID, "search-csv").click()
    head, text = browser.execute_async_script("""
        var done = arguments[0];
        (function poll() {
          if (!window.__blobs.length) return setTimeout(poll, 50);
          window.__blobs[0].arrayBuffer().then(function (b) {
            window.__blobs[0].text().then(function (t) { done([Array.from(new Uint8Array(b.slice(0, 3))), t]); });
          });
        })();""")
    import csv
    import io

    assert head == [0xEF, 0xBB, 0xBF]  # the BOM that makes Excel read it as UTF-8
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["文件出处", "条目", "责任单位"] and len(rows) == shown + 1
    assert all("5G" in r[1] for r in rows[1:])


# ----- 问答 --------------------------------------------------------------------------------------
def test_ask_owner_with_citation_that_expands(browser, site):
    answer = ask(browser, site, "农村公路新改建由谁牵头？")
    assert answer.get_attribute("data-found") == "true"
    assert "张家胜" in answer.text
    assert "张家胜" in field(answer, "牵头领导")
    assert "省交通运输厅" in field(answer, "责任单位")
    expected = api_json(site, "/ask", {"question": "农村公路新改建由谁牵头？", "top_k": 5})
    for t in expected["fields"]["targets"]:
        assert t["value"] in field(answer, "目标") and t["unit"] in field(answer, "目标")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#citations > li")) == len(expected["citations"])

    first = browser.find_element(By.CSS_SELECTOR, "#citations details.cite")
    ref = first.find_element(By.CSS_SELECTOR, "summary .ref").text
    assert "浙政办发〔2023〕6号" in ref and "七、交通出行方面" in ref
    first.find_element(By.TAG_NAME, "summary").click()
    body = wait(browser).until(lambda d: first.find_element(By.CSS_SELECTOR, ".fulltext"))
    assert "农村公路新改建" in body.text and "张家胜" in body.text
    marks = [m.text for m in body.find_elements(By.TAG_NAME, "mark")]
    assert "农村公路新改建" in marks
    # the item's own fields, fetched from GET /items/{id}
    wait(browser).until(lambda d: first.find_elements(By.CSS_SELECTOR, "dl.fields"))
    crumbs = first.find_element(By.CSS_SELECTOR, ".crumbs").text
    assert "十方面民生实事责任分解" in crumbs and "七、交通出行方面" in crumbs
    assert "徐文光" in first.find_element(By.CSS_SELECTOR, "dl.fields").text


def test_ask_investment(browser, site):
    answer = ask(browser, site, "杭衢铁路建德至衢州段今年计划投资多少？")
    inv = field(answer, "投资")
    assert "总投资 236.3 亿元" in inv and "计划投资 17 亿元" in inv


def test_ask_list_shows_every_citation(browser, site):
    answer = ask(browser, site, "王文序副省长牵头哪些重点工作？")
    assert answer.get_attribute("data-intent") == "list"
    items = answer.find_elements(By.CSS_SELECTOR, "ol#citations > li")
    count = re.search(r"王文序共涉及(\d+)项", answer.text)
    assert count, answer.text
    assert len(items) == int(count.group(1)) >= 2
    assert all("王文序副省长牵头重点工作" in i.text or "方面" in i.text for i in items)


def test_ask_not_found(browser, site):
    answer = ask(browser, site, "火星基地建设目标是多少？")
    assert answer.get_attribute("data-found") == "false"
    expected = api_json(site, "/ask", {"question": "火星基地建设目标是多少？", "top_k": 5})
    assert answer.find_element(By.TAG_NAME, "h2").text == "未找到"
    assert expected["answer"] in answer.text and expected["reason"] in answer.text
    assert not browser.find_elements(By.ID, "citations")


def test_ask_empty_question(browser, site):
    open_tab(browser, site, "ask")
    browser.find_element(By.ID, "ask-btn").click()
    assert "请输入问题" in wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#ask-error .msg")).text


# ----- 检索 --------------------------------------------------------------------------------------
def test_search_with_unit_filter(browser, site):
    open_tab(browser, site, "search")
    # alias-aware suggestions: the datalist offers 省发改委 as well as the corpus's 省发展改革委
    options = wait(browser).until(lambda d: [o.get_attribute("value")
                                             for o in d.find_elements(By.CSS_SELECTOR, "#unit-options option")])
    assert "省发改委" in options and "省发展改革委" in options and "省经信厅" in options
    docs = wait(browser).until(lambda d: [o.text for o in d.find_elements(By.CSS_SELECTOR, "#s-doc option")][1:])
    assert any("浙政办发〔2023〕6号" in t for t in docs)

    type_into(browser, "s-q", "5G")
    type_into(browser, "s-unit", "省经信厅")
    browser.find_element(By.ID, "search-btn").click()
    results = wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    hits = results.find_elements(By.CSS_SELECTOR, "li.hit")
    assert hits and all("省经信厅" in h.find_element(By.CSS_SELECTOR, ".meta").text for h in hits)
    assert "5G" in [m.text for m in results.find_elements(By.TAG_NAME, "mark")]
    assert "【" not in text_of(browser, "#results .hl")
    nums = [n.text for n in results.find_elements(By.CSS_SELECTOR, ".target .num")]
    assert any(n.startswith("20") and "万个" in n for n in nums), nums


def test_search_alias_filter(browser, site):
    open_tab(browser, site, "search")
    type_into(browser, "s-q", "高能级战略平台")
    type_into(browser, "s-unit", "省发改委")
    browser.find_element(By.ID, "search-btn").click()
    results = wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    assert "省发展改革委" in results.text


# ----- 文档: upload, ask, delete, errors -----------------------------------------------------------
def test_upload_then_ask_then_delete(browser, writable_site, tmp_path):
    path = tmp_path / "mycity.txt"
    path.write_bytes(GENRE_DOC.encode("gb18030"))
    open_tab(browser, writable_site, "documents")
    wait(browser).until(EC.presence_of_element_located((By.ID, "docs-table")))
    type_into(browser, "api-key", KEY)
    browser.find_element(By.ID, "up-file").send_keys(str(path))
    type_into(browser, "up-id", "mycity-2024")
    browser.find_element(By.ID, "upload-btn").click()
    ok = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#upload-msg .msg"))
    assert "已收录" in ok.text and "2 个条目" in ok.text, ok.text
    row = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-doc-id="mycity-2024"]'))
    assert "某某市人民政府办公室" in row.text

    answer = ask(browser, writable_site, "新建充电桩由哪个单位负责？")
    assert "市能源局" in field(answer, "责任单位")
    assert "一、稳增长" in browser.find_element(By.CSS_SELECTOR, "#citations .ref").text

    # the markup inside the document shows as text and never runs
    open_tab(browser, writable_site, "search")
    type_into(browser, "s-q", "标签测试")
    browser.find_element(By.ID, "search-btn").click()
    results = wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    assert "<img src=x" in results.text
    assert not results.find_elements(By.TAG_NAME, "img")
    assert browser.execute_script("return window.__pwned") is None

    # the key stays for this tab's session; delete asks for confirmation first
    open_tab(browser, writable_site, "documents")
    assert browser.find_element(By.ID, "api-key").get_attribute("value") == KEY
    delete = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-doc-id="mycity-2024"] button'))
    delete.click()
    wait(browser, 5).until(EC.alert_is_present())
    alert = browser.switch_to.alert
    assert "mycity-2024" in alert.text
    alert.accept()
    wait(browser).until(lambda d: "已删除" in d.find_element(By.ID, "docs-msg").text)
    wait(browser).until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-doc-id="mycity-2024"]'))


def test_upload_errors_are_clear(browser, writable_site, tmp_path):
    path = tmp_path / "mycity.txt"
    path.write_bytes(GENRE_DOC.encode("gb18030"))
    open_tab(browser, writable_site, "documents")
    type_into(browser, "api-key", "wrong")
    browser.find_element(By.ID, "up-file").send_keys(str(path))
    browser.find_element(By.ID, "upload-btn").click()
    err = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#upload-msg .msg.err"))
    assert "API 密钥无效" in err.text and "X-API-Key" in err.text

    bad = tmp_path / "note.txt"
    bad.write_text("没有编号的一段话。", encoding="utf-8")
    type_into(browser, "api-key", KEY)
    browser.find_element(By.ID, "up-file").send_keys(str(bad))
    browser.find_element(By.ID, "upload-btn").click()
    err = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#upload-msg .msg.err"))
    assert "无法解析" in err.text and "no numbered items" in err.text
    assert not browser.find_elements(By.CSS_SELECTOR, 'tr[data-doc-id="note"]')


def test_writes_disabled_message(browser, site, tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(GENRE_DOC.encode("utf-8"))
    open_tab(browser, site, "documents")
    type_into(browser, "api-key", "anything")
    browser.find_element(By.ID, "up-file").send_keys(str(path))
    browser.find_element(By.ID, "upload-btn").click()
    err = wait(browser).until(lambda d: d.find_element(By.CSS_SELECTOR, "#upload-msg .msg.err"))
    assert "未开放文档修改" in err.text


# ----- no request leaves the machine ----------------------------------------------------------
def test_no_request_leaves_loopback(browser, site):
    network_urls(browser)  # drop what earlier tests logged; this test makes its own tour
    browser.get_log("browser")
    ask(browser, site, "农村公路新改建由谁牵头？")
    browser.find_element(By.CSS_SELECTOR, "#citations summary").click()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#citations dl.fields"))
    open_tab(browser, site, "search")
    type_into(browser, "s-q", "5G")
    browser.find_element(By.ID, "search-btn").click()
    wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
    open_tab(browser, site, "documents")
    wait(browser).until(EC.presence_of_element_located((By.ID, "docs-table")))
    # the API docs are Swagger UI from the service itself: they render with no network beyond it
    browser.get(f"{site}/docs")
    title = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title")))
    assert title.text.startswith("policyqa")
    assert browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path[data-path='/tasks']")
    urls = network_urls(browser)
    assert any(u.endswith("/ask") for u in urls) and any("/search?" in u for u in urls)
    assert any(u.endswith("/docs/assets/swagger-ui-bundle.js") for u in urls)
    # chrome:// pages are the browser's own (its download bubble after the 台账 export), not the network
    outside = [u for u in urls if not u.startswith(("data:", "blob:", "chrome:", "chrome-extension:"))
               and urlsplit(u).hostname not in LOOPBACK]
    assert outside == []
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


# ----- screenshots, and the layout at phone width ---------------------------------------------
def _viewport(driver, width: int, height: int, mobile: bool = False) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def test_screenshots_and_phone_layout(browser, site, tmp_path):
    out = SCREENSHOTS if os.environ.get("POLICYQA_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    try:
        _viewport(browser, 1280, 900)
        ask(browser, site, "农村公路新改建由谁牵头？")
        browser.find_element(By.CSS_SELECTOR, "#citations summary").click()
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#citations dl.fields"))
        browser.execute_script("const a = document.getElementById('answer');"
                               "window.scrollTo(0, a.getBoundingClientRect().top + window.scrollY - 70);")
        browser.save_screenshot(str(out / "ask.png"))

        open_tab(browser, site, "search")
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#unit-options option"))
        type_into(browser, "s-q", "5G基站")
        type_into(browser, "s-unit", "省经信厅")
        browser.find_element(By.ID, "search-btn").click()
        wait(browser).until(EC.presence_of_element_located((By.ID, "results")))
        browser.find_element(By.ID, "s-unit").click()  # close the suggestion list before the picture
        browser.find_element(By.TAG_NAME, "h1").click()
        browser.save_screenshot(str(out / "search.png"))

        browser.execute_script("sessionStorage.clear()")  # no key left over from the upload tests
        open_tab(browser, site, "documents")
        wait(browser).until(EC.presence_of_element_located((By.ID, "docs-table")))
        browser.save_screenshot(str(out / "documents.png"))

        open_tab(browser, site, "tasks")
        type_into(browser, "t-unit", "省经信厅")
        browser.find_element(By.ID, "tasks-btn").click()
        wait(browser).until(EC.presence_of_element_located((By.ID, "tasks-table")))
        browser.find_element(By.TAG_NAME, "h1").click()
        browser.save_screenshot(str(out / "tasks.png"))

        _viewport(browser, 390, 844, mobile=True)
        ask(browser, site, "农村公路新改建由谁牵头？")
        for tab in ("ask", "search", "tasks", "documents"):
            open_tab(browser, site, tab)
            if tab == "tasks":  # with its table filled
                type_into(browser, "t-unit", "省经信厅")
                browser.find_element(By.ID, "tasks-btn").click()
                wait(browser).until(EC.presence_of_element_located((By.ID, "tasks-table")))
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"the {tab} tab scrolls sideways at phone width"
        browser.get(f"{site}/?load={next(_loads)}#doc/{api_json(site, '/documents')[0]['doc_id']}")
        wait(browser).until(EC.presence_of_element_located((By.ID, "doc-items")))
        assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
        open_tab(browser, site, "tasks")
        type_into(browser, "t-unit", "省经信厅")
        browser.find_element(By.ID, "tasks-btn").click()
        wait(browser).until(EC.presence_of_element_located((By.ID, "tasks-table")))
        browser.execute_script("document.getElementById('tasks-card').scrollIntoView();")
        browser.save_screenshot(str(out / "tasks-phone.png"))
        ask(browser, site, "农村公路新改建由谁牵头？")
        browser.save_screenshot(str(out / "ask-phone.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    for name in ("ask.png", "search.png", "documents.png", "tasks.png", "ask-phone.png", "tasks-phone.png"):
        assert (out / name).stat().st_size > 10_000
