"""``cloudoptima report generate`` writes the monthly cost review from real rollup rows: the XLSX's total
formulas sum typed cells to the cost API's totals, to the cent; a failure leaves no file behind."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima_cli.app import app
from cloudoptima_cli.report import write_atomically
from tests.reports.cost_seeding import make_organisation, remove_organisation, two_months

START, END = date(2026, 11, 1), date(2026, 12, 1)
PREVIOUS_START = date(2026, 10, 2)


@pytest.fixture(scope="module")
def org(engine: Engine) -> Iterator[tuple[uuid.UUID, str]]:
    from tests.reports.cost_seeding import add_costs

    org_id, name = make_organisation(engine, "cli-report")
    add_costs(engine, org_id, two_months(PREVIOUS_START, START, END))
    yield org_id, name
    remove_organisation(engine, org_id)


@pytest.fixture
def database(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)


def _generate(tmp_path: Path, out: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["report", "generate", "--out", str(out), "--state-dir", str(tmp_path / "state"), *options]
    )
    return result.exit_code, result.output


def _total_by_formula(sheet_rows: list[tuple[object, ...]], column: str) -> tuple[str, Decimal]:
    """The ``Total`` row's formula in ``column`` and the exact sum of the typed cells it covers."""
    index = ord(column) - ord("A")
    total_row = next(row for row in sheet_rows if row[0] == "Total")
    formula = str(total_row[index])
    found = re.fullmatch(rf"=SUM\({column}(\d+):{column}(\d+)\)", formula)
    assert found, formula
    first, last = int(found.group(1)), int(found.group(2))
    cells = [sheet_rows[n - 1][index] for n in range(first, last + 1)]
    assert all(isinstance(cell, int | float) for cell in cells), cells
    return formula, sum((Decimal(repr(cell)) for cell in cells), Decimal(0))


def test_xlsx_totals_equal_the_cost_api(
    database: None, org: tuple[uuid.UUID, str], engine: Engine, tmp_path: Path
) -> None:
    org_id, name = org
    out = tmp_path / "review.xlsx"
    code, output = _generate(
        tmp_path, out, "--org", name, "--format", "xlsx", "--start", "2026-11-01", "--end", "2026-12-01",
        "--tag-key", "team",
    )  # fmt: skip
    assert code == 0, output
    with engine.connect() as connection:
        overview = CostAnalytics.for_organisation(connection, org_id).overview(START, END)
    assert f"total cost {overview.total_cost} USD" in output
    workbook = load_workbook(out)
    try:
        for sheet in ("By service", "By account", "By region", "By tag team"):
            rows = list(workbook[sheet].iter_rows(values_only=True))
            _formula, cost = _total_by_formula(rows, "B")
            _formula, previous = _total_by_formula(rows, "C")
            assert cost.quantize(Decimal("0.01")) == overview.total_cost.quantize(Decimal("0.01")), sheet
            assert cost == overview.total_cost, sheet
            assert previous == overview.period_comparison.previous_period, sheet
    finally:
        workbook.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_pdf_text_shows_the_cost_apis_numbers(
    database: None, org: tuple[uuid.UUID, str], engine: Engine, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    from cloudoptima.reports.money_format import display_money

    org_id, name = org
    out = tmp_path / "review.pdf"
    code, output = _generate(
        tmp_path, out, "--org", name, "--format", "pdf", "--start", "2026-11-01", "--end", "2026-12-01"
    )
    assert code == 0, output
    with engine.connect() as connection:
        api = CostAnalytics.for_organisation(connection, org_id)
        overview = api.overview(START, END)
        services = api.overview(START, END, group_by="service").breakdown
    pdf = pdfium.PdfDocument(out.read_bytes())
    texts = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    text = " ".join(" ".join(texts).split())
    # the PDF shows money rounded half-even to the cent (the CSV/JSON/XLSX cells keep every digit)
    assert display_money(overview.total_cost, "USD") in text
    assert display_money(overview.period_comparison.previous_period, "USD") in text
    for item in services:
        assert display_money(item.cost, "USD") in text, item.dimension


def test_an_unknown_organisation_fails_and_leaves_no_file(database: None, tmp_path: Path) -> None:
    out = tmp_path / "review.pdf"
    code, output = _generate(
        tmp_path, out, "--org", "no-such-organisation", "--start", "2026-11-01", "--end", "2026-12-01"
    )
    assert code == 1
    assert "no organisation named 'no-such-organisation'" in output
    assert [p.name for p in tmp_path.iterdir() if p.name != "state"] == []


def test_a_bad_period_fails_naming_the_field(
    database: None, org: tuple[uuid.UUID, str], tmp_path: Path
) -> None:
    out = tmp_path / "review.json"
    code, output = _generate(
        tmp_path, out, "--org", org[1], "--format", "json", "--start", "2026-12-01", "--end", "2026-11-01"
    )
    assert code == 1
    assert "end_date: 2026-11-01 must be after start_date 2026-12-01" in output
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--template", "weekly"], "--template must be one of "),
        (["--template", "weekly"], "(got 'weekly')"),
        (["--param", "top_n"], "--param must be NAME=VALUE (got 'top_n')"),
        (["--param", "colour=red"], "parameters.colour: monthly_cost_review takes no parameter 'colour'"),
        (["--format", "docx"], "--format must be one of pdf, xlsx, csv, json (got 'docx')"),
        (["--start", "2026-11-01"], "give both --start and --end"),
        (["--start", "11/01/2026", "--end", "2026-12-01"], "--start must be a date as YYYY-MM-DD"),
    ],
)
def test_bad_options_fail_naming_the_valid_ones(tmp_path: Path, options: list[str], message: str) -> None:
    code, output = _generate(tmp_path, tmp_path / "out.pdf", "--org", "any", *options)
    assert code == 1
    assert message in " ".join(output.split())


def test_the_short_template_name_excel_format_and_a_param(
    database: None, org: tuple[uuid.UUID, str], engine: Engine, tmp_path: Path
) -> None:
    """``--template monthly --format excel`` is the monthly cost review as XLSX; ``--param top_n=3`` reaches
    the template (its top-N chart sheet lists three services)."""
    out = tmp_path / "review.xlsx"
    code, output = _generate(
        tmp_path, out, "--org", org[1], "--template", "monthly", "--format", "excel",
        "--start", "2026-11-01", "--end", "2026-12-01", "--param", "top_n=3",
    )  # fmt: skip
    assert code == 0, output
    assert "monthly_cost_review" in output and "(xlsx," in output
    workbook = load_workbook(out)
    try:
        texts = [cell for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row]
    finally:
        workbook.close()
    assert "Chart data: Top 3 services" in texts
    assert "Chart data: Top 10 services" not in texts


def test_templates_lists_every_catalog_template() -> None:
    from cloudoptima.services.report_catalog import TEMPLATES

    result = CliRunner().invoke(app, ["report", "templates"])
    assert result.exit_code == 0, result.output
    for template_id in TEMPLATES:
        assert template_id in result.output
    assert "start_date (date)" in result.output


def test_a_failed_render_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "review.pdf"
    out.write_bytes(b"the previous report")

    def half_then_fail(stream: IO[bytes]) -> int:
        stream.write(b"half a report")
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError, match="renderer failed"):
        write_atomically(out, half_then_fail)
    assert out.read_bytes() == b"the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["review.pdf"]
    assert write_atomically(out, lambda stream: stream.write(b"new")) == 3
    assert out.read_bytes() == b"new"
