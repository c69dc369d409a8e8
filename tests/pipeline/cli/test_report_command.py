"""`transfer-pipeline report OUTPUT_DIR` (pipeline/local/report_file.py): rewrites report.html from what a run left."""

import lxml.html

import pipeline.local.runner  # noqa: F401  (heavy TFX imports and their warnings happen here, not in captured output)
from pipeline.cli.main import main


def test_report_of_a_folder_without_a_run_exits_2_naming_it(tmp_path, capsys):
    code = main(["report", str(tmp_path)])

    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {tmp_path}: no run here")


def test_report_is_rewritten_from_the_run_summary_alone(tmp_path, capsys, record):
    record.status, record.error = "failed", "RuntimeError: Trainer ran out of memory"
    record.components[1].state = "failed"
    record.write(str(tmp_path / "run_summary.json"))

    assert main(["report", str(tmp_path)]) == 0

    assert capsys.readouterr().out.strip() == str(tmp_path / "report.html")
    page = lxml.html.fromstring((tmp_path / "report.html").read_text())
    stopped = page.get_element_by_id("stopped").text_content()
    assert "Stopped at Trainer." in stopped and "ran out of memory" in stopped
