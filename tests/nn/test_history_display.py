"""History._repr_html_: Jupyter's rich display of a training run (charts per metric, last values), no matplotlib."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from nn import History

SVG = "{http://www.w3.org/2000/svg}"


def _charts(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S)]


def test_one_chart_per_metric_with_train_and_val_lines_and_the_last_values() -> None:
    history = History(
        train={"loss": [0.9, 0.5, 0.3], "accuracy": [0.6, 0.8, 0.9]},
        val={"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.85]},
        lr=[0.1, 0.1, 0.05],
    )
    page = history._repr_html_()
    assert "History: 3 epochs" in page
    charts = _charts(page)  # each chart is well-formed SVG
    assert len(charts) == 2
    for chart in charts:
        lines = chart.findall(f"{SVG}polyline")
        assert len(lines) == 2 and lines[1].get("stroke-dasharray")  # validation dashed
        assert all(len(line.get("points").split()) == 3 for line in lines)
    texts = ["".join(t.itertext()) for t in charts[0].iter(f"{SVG}text")]
    assert {"loss", "train", "val", "epoch 3", "1", "0.3"} <= set(texts)  # title, legend, axes
    for value in ("0.3", "0.9", "0.4", "0.85", "learning rate (last epoch): 0.05"):
        assert value in page
    # larger values are drawn higher (SVG's y grows downward): the falling loss goes down the chart
    points = [tuple(map(float, p.split(","))) for p in charts[0].find(f"{SVG}polyline").get("points").split()]
    assert points[0][1] < points[-1][1]


def test_edge_cases_display_without_errors() -> None:
    assert "no epoch completed yet" in History()._repr_html_()
    single = History(train={"loss": [0.5]})
    assert len(_charts(single._repr_html_())[0].findall(f"{SVG}circle")) == 1  # one epoch: a dot
    flat = History(train={"loss": [0.5, 0.5]}, interrupted=True)
    assert "interrupted" in flat._repr_html_() and _charts(flat._repr_html_())
    diverged = History(train={"loss": [1.0, math.inf, math.nan, 2.0]})
    chart = _charts(diverged._repr_html_())[0]
    assert len(chart.find(f"{SVG}polyline").get("points").split()) == 2  # non-finite epochs are skipped
    blown = History(train={"loss": [math.nan, math.nan]})
    assert "no finite values" in blown._repr_html_()


def test_metric_names_are_escaped() -> None:
    history = History(train={"loss": [1.0, 0.5], "<b>f1 & co</b>": [0.1, 0.2]})
    page = history._repr_html_()
    assert "<b>f1" not in page and "&lt;b&gt;f1 &amp; co&lt;/b&gt;" in page
    assert len(_charts(page)) == 2
