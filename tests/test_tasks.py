"""The 台账: deadlines as dates, every task of a unit / official / deadline range, and its export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from corpus.due import due
from qa.tasks import TaskQuery, list_tasks


class TestDeadlineDates:
    @pytest.mark.parametrize("text, start, end", [
        ("2023年6月底前", date(2023, 6, 1), date(2023, 6, 30)),
        ("6月底前", date(2024, 6, 1), date(2024, 6, 30)),  # the document's year
        ("年底前", date(2024, 1, 1), date(2024, 12, 31)),
        ("上半年", date(2024, 1, 1), date(2024, 6, 30)),
        ("三季度", date(2024, 7, 1), date(2024, 9, 30)),
        ("一季度末", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024—2026年", date(2024, 1, 1), date(2026, 12, 31)),
        ("5-7月", date(2024, 5, 1), date(2024, 7, 31)),
        ("2025年12月31日", date(2025, 12, 31), date(2025, 12, 31)),
        ("到2025年", date(2025, 1, 1), date(2025, 12, 31)),
        ("2023年3月至6月", date(2023, 3, 1), date(2023, 6, 30)),
        ("12月中旬", date(2024, 12, 11), date(2024, 12, 20)),
        ("二〇二五年十月底", date(2025, 10, 1), date(2025, 10, 31)),  # a year in Chinese numerals
    ])
    def test_the_genres_forms(self, text, start, end):
        got = due(text, 2024)
        assert got.text == text and (got.start, got.end) == (start, end)

    @pytest.mark.parametrize("text", ["长期坚持", "持续推进", "常态化推进"])
    def test_open_ended(self, text):
        got = due(text, 2024)
        assert got.open_ended and got.end is None and not got.overdue(date(2030, 1, 1))

    def test_no_year_no_date(self):
        assert due("6月底前", None).end is None
        assert due("疫情解除后三个月内", 2024).end is None  # relative to an event the document does not date

    def test_overdue_against_a_given_day(self):
        assert due("6月底前", 2024).overdue(date(2024, 7, 1))
        assert not due("6月底前", 2024).overdue(date(2024, 6, 30))

    def test_recurring(self):
        assert due("每年3月底前", 2024).recurring


class TestTaskList:
    def test_every_item_of_a_unit_as_units_counts_them(self, service):
        counts = {u["unit"]: u["items"] for u in service.units()}
        for unit in ("省经信厅", "省发展改革委", "省交通运输厅"):
            page = list_tasks(service.index, TaskQuery(unit=unit, limit=None))
            assert page.total == counts[unit] == len(page.tasks)
        assert counts["省经信厅"] == 69

    def test_an_alias_finds_the_same_tasks(self, service):
        by_name = list_tasks(service.index, TaskQuery(unit="省经信厅", limit=None))
        by_alias = list_tasks(service.index, TaskQuery(unit="省经济和信息化厅", limit=None))
        assert [t.item.item_id for t in by_alias.tasks] == [t.item.item_id for t in by_name.tasks]

    def test_lead_only(self, service):
        lead = list_tasks(service.index, TaskQuery(unit="省经信厅", role="lead", limit=None))
        assert 0 < lead.total < 69
        assert all(any("经信" in u for u in t.item.lead_units) for t in lead.tasks)

    def test_due_before_sorted_by_date(self, service):
        page = list_tasks(service.index, TaskQuery(due_before=date(2023, 6, 30), sort="due", limit=None))
        ends = [t.due.end for t in page.tasks]
        assert page.total and ends == sorted(ends) and all(e <= date(2023, 6, 30) for e in ends)

    def test_overdue_on_a_day(self, service):
        page = list_tasks(service.index, TaskQuery(overdue_on=date(2023, 4, 1), limit=None))
        assert page.total and all(t.due.end < date(2023, 4, 1) for t in page.tasks)

    def test_official_and_paging(self, service):
        every = list_tasks(service.index, TaskQuery(official="王文序", limit=None))
        second = list_tasks(service.index, TaskQuery(official="王文序", offset=5, limit=5))
        assert second.total == every.total > 5
        assert [t.item.item_id for t in second.tasks] == [t.item.item_id for t in every.tasks[5:10]]


@pytest.fixture(scope="module")
def client(service):
    with TestClient(create_app(service.config, service)) as c:
        yield c


class TestTasksApi:
    def test_json_page(self, client):
        r = client.get("/tasks", params={"unit": "省经信厅", "limit": 10})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == 69 and len(body["tasks"]) == 10
        first = body["tasks"][0]
        assert first["ref"].startswith("〔") and "省经信厅" in first["units"]

    def test_no_keyword_needed_and_dates_given(self, client):
        r = client.get("/tasks", params={"due_before": "2023-06-30", "sort": "due"})
        tasks = r.json()["tasks"]
        assert r.status_code == 200 and tasks and all(t["due_end"] <= "2023-06-30" for t in tasks)

    def test_csv_opens_as_utf8(self, client):
        r = client.get("/tasks", params={"unit": "省经信厅", "format": "csv"})
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:4] == ["文件", "章节", "序号", "任务"] and len(rows) == 1 + 69

    def test_xlsx_opens_with_the_right_rows(self, client):
        import openpyxl

        r = client.get("/tasks", params={"unit": "省经信厅", "format": "xlsx"})
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][5] == "牵头单位" and len(rows) == 1 + 69 and sheet.freeze_panes == "A2"
        assert all("省经信厅" in (row[6] or "") for row in rows[1:])

    def test_a_bad_date_is_422(self, client):
        assert client.get("/tasks", params={"due_before": "6月底"}).status_code == 422


class TestDeadlineQuestions:
    def test_due_by_a_date_is_a_list_of_every_task(self, service):
        answer = service.ask("2023年6月底前要完成哪些工作？")
        assert answer.found and answer.intent == "list" and "共" in answer.answer
        items = [service.index.items[c.item_id] for c in answer.citations]
        want = list_tasks(service.index, TaskQuery(due_before=date(2023, 6, 30), limit=None))
        assert {i.item_id for i in items} == {t.item.item_id for t in want.tasks}

    def test_overdue_on_the_day_the_question_gives(self, service):
        answer = service.ask("截至2023年4月1日，哪些任务已经过期？")
        assert answer.found
        assert all(due(service.index.items[c.item_id].deadline, 2023).end < date(2023, 4, 1) for c in answer.citations)

    def test_a_unit_named_narrows_the_list(self, service):
        answer = service.ask("省发展改革委有哪些任务要在5月底前完成？")
        assert answer.found and answer.citations
        assert all(any("发展改革委" in u for u in service.index.items[c.item_id].units) for c in answer.citations)

    def test_other_questions_are_not_deadline_lists(self):
        from qa.tasks import due_question

        today = date(2026, 12, 4)
        assert due_question("农村公路新改建由谁牵头？", today) is None
        assert due_question("惠民保赔付率要在什么时候完成？", today) is None
        assert due_question("6月底前要完成哪些工作？", today).due_by == "6月底前"
