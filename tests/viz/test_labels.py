"""Label text: number and statistics formatting, and escaping that survives any user string."""

from __future__ import annotations

import html

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import viz
from tests.viz import svgtext
from viz.labels import escape_html, format_array, format_number, format_shape, node_names
from viz.render import find_pure_binary, pipe


def test_numbers_and_arrays():
    assert format_number(2.0) == "2.0000" and format_number(-0.0) == "0.0000"
    assert format_number(1.5e-7) == "1.500e-07" and format_number(3e6) == "3.000e+06"
    assert format_number(np.int64(7)) == "7" and format_number(np.nan) == "nan"
    assert format_shape(()) == "scalar" and format_shape((3,)) == "(3,)" and format_shape((2, 3)) == "(2, 3)"
    assert format_array(np.array([1.0, 2.0])) == "[1.0000, 2.0000]"
    assert format_array(np.arange(10.0)).startswith("μ 4.5000")
    assert format_array(np.arange(30.0), show_data=True).endswith("… (30 values)]")
    assert format_array(np.array([True, False, True, True, False, True, True])) == "5 true of 7"


def test_escape_html_entities_newlines_and_control_characters():
    assert escape_html("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;"
    assert escape_html("a\nb") == 'a<BR ALIGN="CENTER"/>b'
    assert escape_html("\x00\t\r\x7f") == "\\x00\\x09\\x0d\\x7f"
    assert escape_html("\ud800\uffff") == "\\ud800\\uffff"
    assert escape_html("{|}\\ σ→∂ 日本") == "{|}\\ σ→∂ 日本"


def test_node_names_prefer_user_names_then_ops_then_values():
    a = engine.tensor(1.0, requires_grad=True, name="mul")  # a user name that an op would also get
    out = a * 2 * a
    names = node_names(engine.graph.walk(out))
    assert sorted(names.values()) == sorted(["mul", "2", "mul_2", "mul_3"])


@pytest.mark.skipif(find_pure_binary() is None, reason="graphviz-pure is not installed")
@settings(max_examples=15, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=()), min_size=1, max_size=24))
def test_any_name_renders_and_reads_back_literally(name):
    a = engine.tensor(1.0, requires_grad=True, name=name)
    svg = pipe(viz.draw_graph(a.exp(), show_shape=False), "svg")
    texts = svgtext.texts(svg)
    for line in name.split("\n"):
        visible = html.unescape(escape_html(line)).strip()  # what a reader should see (Graphviz trims spaces)
        if visible:
            assert any(visible in t for t in texts), (visible, texts)
