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
from viz.labels import (
    caller_names,
    escape_html,
    format_array,
    format_number,
    format_shape,
    node_names,
    tensor_names,
    value_word,
)
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


def test_generated_names_are_words_read_from_the_op_label():
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    words = {
        "add": x + x,
        "sub": x - 1.0,
        "neg": -x,
        "mul": x * x,
        "div": x / 2.0,
        "pow": x**3,
        "matmul": x @ x,
        "transpose": x.T,
        "index": x[0, 1:],
        "sum": x.sum(axis=1),
        "reshape": x.reshape(4),
        "tanh": x.tanh(),
        "leaky_relu": engine.leaky_relu(x, 0.2),
    }
    for word, value in words.items():
        assert value_word(value.grad_fn) == word, (word, value.grad_fn.label)


def test_caller_names_take_tensors_from_a_locals_like_mapping():
    a = engine.tensor(1.0, requires_grad=True)
    loss = a * 2
    mapping = {"a": a, "loss": loss, "alias": loss, "_": loss, "_7": a, "n": 3, "model": object()}
    assert caller_names(mapping) == {id(a): "a", id(loss): "loss"}  # first variable wins; _ names skipped
    assert caller_names(None) == {}
    with pytest.raises(TypeError, match="mapping from variable names to tensors"):
        caller_names([a])


def test_when_sources_disagree_tensor_name_then_parameter_path_then_variable():
    w = engine.tensor([1.0, 2.0], requires_grad=True)
    v = engine.tensor([3.0, 4.0], requires_grad=True, name="v_given")
    x = engine.tensor([5.0, 6.0], requires_grad=True)
    out = (w * v * x).sum()
    p = w  # a loop variable left in locals() must not rename the parameter
    naming = tensor_names(engine.graph.walk(out), params={"layer.weight": w}, names={"p": p, "v": v, "x": x})
    assert naming.text[id(w)] == "layer.weight"
    assert naming.text[id(v)] == "v_given"
    assert naming.text[id(x)] == "x"
    assert naming.text[id(out)] == "sum"
    assert naming.given == {id(w), id(v), id(x)}


def test_a_models_unnamed_data_is_named_input_and_target(fake_net):
    x = engine.Tensor(np.ones((5, 2)))
    y = engine.Tensor(np.zeros((5, 1)))
    out = fake_net(x)
    loss = ((out.reshape(5, 1) - y) ** 2).mean()  # the target meets the model's output after a reshape
    names = node_names(engine.graph.walk(loss), params=fake_net)
    assert names[id(x)] == "input" and names[id(y)] == "target"
    assert names[id(fake_net.layers[0].weight)] == "layers.0.weight"
    without_model = node_names(engine.graph.walk(loss))
    assert without_model[id(x)] == "data" and without_model[id(y)] == "data_2"


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
