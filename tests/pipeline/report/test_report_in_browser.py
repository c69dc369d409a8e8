"""The report opened in a real browser (headless Chromium): it renders, draws its charts, shows the run's numbers."""
import lxml.html
import numpy as np
from PIL import Image

from pipeline.report.builder import RunArtifacts, build_report
from pipeline.report.render import write_report


def drawn_share(png_path, box=None) -> float:
    """Share of pixels that are not page white (in the box: left, top, right, bottom)."""
    pixels = np.asarray(Image.open(png_path).convert("RGB").crop(box) if box else Image.open(png_path).convert("RGB"))
    return float((pixels.min(axis=2) < 235).mean())


def test_report_renders_in_chromium_with_charts_and_the_runs_numbers(chromium, record, model_run_dir, tmp_path,
                                                                     write_evaluation, trainer_settings):
    report = build_report(record, RunArtifacts(model_run=model_run_dir, evaluation=write_evaluation(tmp_path / "ev"),
                                                trainer_settings=trainer_settings))
    path = write_report(report, str(tmp_path / "report.html"))

    dom, screenshot, console = chromium(path, height=4200)

    assert console == []  # no script error, no console message at all
    page = lxml.html.fromstring(dom)
    assert page.findall(".//script") == []  # the page has no script: nothing can fail to run
    charts = page.findall(".//svg")
    assert len(charts) == 4 and all(len(c.findall(".//rect")) + len(c.findall(".//circle")) >= 4 for c in charts)
    assert [c.text_content() for c in page.get_element_by_id("confusion-matrix").find_class("cell")] == ["87", "3", "4", "89"]
    gate = [[td.text_content().strip() for td in row.findall("td")] for row in page.get_element_by_id("gate-checks").findall(".//tr")[1:]]
    assert ["overall", "accuracy", "value", "≥ 0.9", "0.9617", "", "pass"] in gate
    image = Image.open(screenshot)
    assert image.size == (1280, 4200)
    assert 0.02 < drawn_share(screenshot) < 0.6  # a page with text, tables and charts: neither blank nor a solid block
    assert drawn_share(screenshot, (0, 0, 1280, 260)) > 0.03  # the headline (title, cards) is drawn at the top
