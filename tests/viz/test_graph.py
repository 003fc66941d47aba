"""draw_graph: DOT content (labels, edges per operand slot, clusters, collapse, highlight), guards and escaping."""

from __future__ import annotations

import re

import numpy as np
import pytest

import engine
import viz
from tests.viz import svgtext
from viz.graph import build_graph
from viz.render import pipe


def _nodes(source: str) -> dict[str, str]:
    """node id -> its full DOT statement (tensor nodes t*, op nodes op*, module boxes m*)."""
    found = {}
    for line in source.splitlines():
        match = re.match(r"\s*((?:t|op|m)\d+) \[", line)
        if match:
            found[match.group(1)] = line
    return found


def _edges(source: str) -> list[tuple[str, str, str]]:
    """(source, target, attribute text) of every edge statement."""
    return [
        (m.group(1), m.group(2), m.group(3))
        for m in re.finditer(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", source, flags=re.M)
    ]


def test_scalar_graph_shows_values_names_and_op_nodes(scalar_expression):
    graph = viz.draw_graph(scalar_expression["out"])
    nodes = _nodes(graph.source)
    ops = [line for key, line in nodes.items() if key.startswith("op")]
    tensors = [line for key, line in nodes.items() if key.startswith("t")]
    assert len(ops) == 3 and len(tensors) == 6
    assert all("shape=ellipse" in line for line in ops) and all("shape=plain" in line for line in tensors)
    assert {re.search(r"<B>([^<]+)</B>", line).group(1) for line in ops} == {"×", "+", "tanh"}  # the math
    assert "<B>a</B>" in graph.source and "data 2.0000" in graph.source and "data -3.0000" in graph.source
    assert "grad —" in graph.source  # before backward: grads shown as absent
    assert "grad 1.0000" not in graph.source


def test_grads_appear_after_backward(scalar_expression):
    out = scalar_expression["out"]
    out.backward()
    source = viz.draw_graph(out).source
    a_grad = scalar_expression["a"].grad.item()
    assert f"grad {viz.labels.format_number(a_grad)}" in source
    # Intermediates keep no .grad (PyTorch semantics), but backward recorded their gradients for the picture
    assert source.count("grad —") == 0 and scalar_expression["out"].grad is None


def test_a_plus_a_draws_two_labelled_edges():
    a = engine.tensor(3.0, requires_grad=True, name="a")
    b = a + a
    edges = _edges(viz.draw_graph(b).source)
    into_op = [e for e in edges if e[1].startswith("op")]
    assert len(into_op) == 2
    assert into_op[0][0] == into_op[1][0]  # both from a
    assert sorted(re.search(r"label=(\w+)", e[2]).group(1) for e in into_op) == ["arg0", "arg1"]


def test_single_input_edges_are_unlabelled():
    a = engine.tensor(3.0, requires_grad=True)
    edges = _edges(viz.draw_graph(a.exp()).source)
    assert len(edges) == 2 and not any("label" in e[2] for e in edges)


def test_large_tensors_show_shape_dtype_and_statistics():
    x = engine.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    source = viz.draw_graph(y).source
    assert "(3, 4) float64" in source
    assert "data μ 5.5000  σ 3.4521" in source and "min 0.0000  max 11.0000" in source
    assert "grad μ 2.0000  σ 0.0000" in source
    assert "data 2.0000" in source  # the scalar constant 2 shows its value


def test_show_flags_remove_rows(scalar_expression):
    source = viz.draw_graph(scalar_expression["out"], show_data=False, show_grad=False, show_shape=False).source
    assert ">data " not in source and ">grad " not in source and "float64" not in source
    values = viz.draw_graph(scalar_expression["out"], show_data=True).source
    assert "data 10.0000" in values


def test_show_saved_lists_what_ops_keep(scalar_expression):
    source = viz.draw_graph(scalar_expression["out"], show_saved=True).source
    assert "saved input 0: scalar float64" in source  # Mul saves x and y
    assert "saved output: scalar float64" in source  # Tanh saves its output


def test_params_dict_names_leaves():
    w = engine.randn(2, 3, requires_grad=True)
    x = engine.randn(4, 3)
    source = viz.draw_graph(engine.linear(x, w), params={"encoder.weight": w}).source
    assert "<B>encoder.weight</B>" in source


def test_module_clusters_are_nested_and_labelled(fake_net):
    x = engine.Tensor(np.ones((5, 2)))
    out = fake_net(x).sum()
    source = viz.draw_graph(out, params=fake_net).source
    assert source.count("subgraph cluster_") == 4  # the net and its three layers
    assert "layers.0: FakeLinear(2→3)" in source and "layers.2: FakeLinear(3→1)" in source
    assert "layers.1: FakeTanh" in source
    assert "<B>layers.0.weight</B>" in source
    # the Sum op was created outside the net: it is drawn outside every cluster, after them
    sum_line = next(line for line in source.splitlines() if "<B>sum</B>" in line)
    assert sum_line.startswith("\top") and not sum_line.startswith("\t\t")  # top level, not in a subgraph
    linear_cluster = source[source.index("layers.0: FakeLinear") :].split("}")[0]
    assert "<B>linear</B>" in linear_cluster and "<B>layers.0.bias</B>" in linear_cluster


def test_collapse_draws_modules_as_boxes_with_shapes_and_parameter_counts(fake_net):
    x = engine.Tensor(np.ones((5, 2)))
    out = fake_net(x).sum()
    source = viz.draw_graph(out, params=fake_net, collapse=0).source
    boxes = {k: v for k, v in _nodes(source).items() if k.startswith("m")}
    assert len(boxes) == 3
    text = " ".join(boxes.values())
    assert "in (5, 2)" in text and "out (5, 3)" in text and "out (5, 1)" in text
    assert "9 parameters" in text and "4 parameters" in text and "0 parameters" in text
    assert "<B>linear</B>" not in source  # the ops are inside the boxes
    assert "layers.0.weight" not in source
    # the chain x -> box -> tensor -> box -> tensor -> box -> tensor -> Sum
    assert len(_edges(source)) == 8


def test_collapse_needs_the_model(scalar_expression):
    with pytest.raises(ValueError, match="collapse= needs the model"):
        viz.draw_graph(scalar_expression["out"], collapse=1)


def test_highlight_marks_every_path_to_the_root():
    a = engine.tensor(1.0, requires_grad=True, name="a")
    b = engine.tensor(2.0, requires_grad=True, name="b")
    c = a * b
    d = c + a
    out = d * b
    source = viz.draw_graph(out, highlight=a).source
    red = [e for e in _edges(source) if "#dc2626" in e[2]]
    # a->Mul(c), Mul->c, c->Add, a->Add, Add->d, d->Mul(out), Mul->out
    assert len(red) == 7
    nodes = _nodes(source)
    b_line = next(line for line in nodes.values() if "<B>b</B>" in line)
    assert "#dc2626" not in b_line
    with pytest.raises(ValueError, match="not part of the graph"):
        viz.draw_graph(out, highlight=engine.tensor(5.0))


def test_max_nodes_refuses_a_huge_graph_quickly():
    x = engine.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(50_000):  # 100,000 drawn nodes
        y = y * 1.0
    with pytest.raises(ValueError, match=r"max_nodes=2000.*collapse"):
        viz.draw_graph(y)
    # and the limit is exact: a graph of max_nodes nodes is drawn
    small = x.exp()
    assert len(_nodes(viz.draw_graph(small, max_nodes=3).source)) == 3
    with pytest.raises(ValueError, match="max_nodes=2"):
        viz.draw_graph(small, max_nodes=2)


def test_bad_arguments_have_clear_errors(scalar_expression):
    out = scalar_expression["out"]
    with pytest.raises(TypeError, match="root 0 is a float"):
        viz.draw_graph(1.0)
    with pytest.raises(ValueError, match="at least one Tensor"):
        viz.draw_graph()
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(out, rankdir="sideways")
    with pytest.raises(ValueError, match="show_data"):
        viz.draw_graph(out, show_data="yes")
    with pytest.raises(TypeError, match="params must be a Module"):
        viz.draw_graph(out, params=[1, 2])


HOSTILE = "q\"uo'te {br|ace} <b>x</b> & back\\slash\\ \\n日本語 σ→∂\nsecond line"


def test_hostile_names_are_escaped_and_rendered_literally():
    a = engine.tensor(2.0, requires_grad=True, name=HOSTILE)
    b = engine.tensor(3.0, requires_grad=True, name="}; digraph evil { x")
    out = a * b
    out.name = '"]; evil [label="pwned'
    graph = viz.draw_graph(out)
    assert len(_nodes(graph.source)) == 4  # nothing injected
    texts = svgtext.texts(pipe(graph, "svg"))  # the DOT parses and renders
    joined = "\n".join(texts)
    first, second = HOSTILE.split("\n")
    assert first in joined and second in joined
    assert "}; digraph evil { x" in joined and '"]; evil [label="pwned' in joined
    assert len(svgtext.groups(pipe(graph, "svg"), "node")) == 4


def test_control_characters_cannot_break_the_svg():
    a = engine.tensor(1.0, requires_grad=True, name="bell\x07tab\tnul\x00")
    svg = pipe(viz.draw_graph(a.exp()), "svg")
    assert "bell\\x07tab\\x09nul\\x00" in "".join(svgtext.texts(svg))


def test_graph_ids_map_tensors_ops_and_slots(scalar_expression):
    out, a = scalar_expression["out"], scalar_expression["a"]
    graph, ids = build_graph((out,))
    d = scalar_expression["d"]
    assert set(ids.ops) == {id(d), id(scalar_expression["e"]), id(out)}
    assert (id(a), id(d), 0) in ids.edges
    assert f"id={ids.edges[(id(a), id(d), 0)]}" in graph.source


def test_works_on_a_released_graph(scalar_expression):
    out = scalar_expression["out"]
    out.backward()  # releases saved values; structure stays walkable
    source = viz.draw_graph(out, show_saved=True).source
    assert "saved: released by backward" in source


def test_real_mlp_clusters_and_collapse():
    import nn

    engine.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 4), nn.ReLU()), nn.Linear(4, 1))
    loss = model(engine.randn(3, 2)).mean()
    source = viz.draw_graph(loss, params=model).source
    assert source.count("subgraph cluster_") == 5  # model, block 0, its Linear and ReLU, the last Linear
    for label in ("0: Sequential", "0.0: Linear(2→4)", "0.1: ReLU", "1: Linear(4→1)", "<B>0.0.weight</B>"):
        assert label in source
    nested = source[source.index("0: Sequential") :]
    assert nested.index("0.0: Linear(2→4)") < nested.index("}")  # the Linear cluster sits inside block 0
    one_box_per_block = viz.draw_graph(loss, params=model, collapse=0).source
    boxes = [line for key, line in _nodes(one_box_per_block).items() if key.startswith("m")]
    assert len(boxes) == 2 and "12 parameters" in boxes[0] and "5 parameters" in boxes[1]
    inner = viz.draw_graph(loss, params=model, collapse=1).source
    assert len([k for k in _nodes(inner) if k.startswith("m")]) == 2  # 0.0 and 0.1 (depth 2)
    assert "0: Sequential" in inner and "1: Linear(4→1)" in inner  # depth-1 modules stay clusters
    assert inner.count("<B>linear</B>") == 1  # the op of module 1 is still drawn


def test_a_tensor_reused_along_a_long_chain_gets_proxies_so_layout_stays_fast():
    x = engine.tensor([0.1, 0.2], requires_grad=True, name="x")
    y = x
    for i in range(50):  # x feeds ops up to ~100 ranks away: dot would need thousands of virtual nodes
        y = (y * 1.01 + x) if i % 3 else y.tanh()
    graph = viz.draw_graph(y.sum())
    proxies = [line for line in graph.source.splitlines() if re.match(r"\s*px\d+ \[", line)]
    from_x = [line for line in proxies if "label=<↪ x>" in line]
    assert len(from_x) > 20  # the distant uses of x leave from copies labelled with its name
    assert svgtext.texts(pipe(graph, "svg")).count("↪ x") == len(from_x)
    near = viz.draw_graph((x * 2 + x).sum()).source  # short edges stay direct
    assert "↪" not in near


def test_stepper_frame_options_focus_accent_caption_and_fixed_grad_rows(scalar_expression):
    out, a, d = scalar_expression["out"], scalar_expression["a"], scalar_expression["d"]
    graph, ids = build_graph(
        (out,), focus=d, accent=[a], caption="Step 3", grad_text={id(a): "grad 1.0 + 2.0 = 3.0"}, grad_width=150
    )
    nodes = _nodes(graph.source)
    a_line = next(line for line in nodes.values() if "<B>a</B>" in line)
    assert "#d97706" in a_line and "grad 1.0 + 2.0 = 3.0" in a_line
    assert all('WIDTH="150" FIXEDSIZE="TRUE"' in line for key, line in nodes.items() if ">grad " in line)
    assert "#dc2626" in nodes[ids.ops[id(d)]]  # the op being processed
    tanh_op = nodes[ids.ops[id(out)]]
    assert "#dc2626" not in tanh_op
    assert "label=<<B>Step 3</B>>" in graph.source


def test_several_roots_share_one_picture():
    a = engine.tensor(1.0, requires_grad=True, name="a")
    first, second = a.exp(), a.sin()
    source = viz.draw_graph(first, second).source
    assert source.count("#fef3c7") == 2  # both roots are marked
    assert source.count("<B>a</B>") == 1  # the shared leaf is drawn once
    assert viz.draw_graph([first, second]).source == source


def _op_labels(source: str) -> list[str]:
    return [re.search(r"<B>([^<]+)</B>", line).group(1) for key, line in _nodes(source).items() if key.startswith("op")]


def test_op_nodes_read_as_the_math_with_exponents_and_constants():
    a = engine.tensor(-4.0, dtype="float64", requires_grad=True)
    b = engine.tensor(2.0, dtype="float64", requires_grad=True)
    c = a + b
    d = a * b + b**3
    e = (c - d) ** 2 / 2.0 + 10.0 / (c - d) ** 2
    source = viz.draw_graph(e, names=locals()).source
    labels = _op_labels(source)
    # 10.0 / x is recorded as PyTorch records it (torchviz shows ReciprocalBackward0 then MulBackward0)
    assert sorted(labels) == sorted(["+", "×", "** 3", "+", "−", "** 2", "÷", "−", "** 2", "1/", "×", "+"])
    assert "PowScalar" not in source and "exponent" not in source  # no class names, no attribute dumps
    assert "data 10.0000" in source and "data 2.0000" in source  # the constants 10 and 2 are drawn


def test_settings_are_part_of_the_label_and_nothing_else_is_printed():
    x = engine.randn(2, 3, requires_grad=True)
    source = viz.draw_graph(engine.leaky_relu(x, 0.2).sum(axis=1).reshape(1, 2).T).source
    assert _op_labels(source) == ["leaky_relu(0.2)", "sum(dim=1)", "reshape(1, 2)", "T"]
    assert "=None" not in source and "keepdims" not in source


def test_a_new_op_draws_its_label_without_any_change_in_viz():
    class Cube(engine.Function):
        """d(x³)/dx = 3x²"""

        symbol = "cube"

        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return scale * x**3

        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return (grad * 3 * ctx.scale * x**2,)

        @property
        def label(self) -> str:
            return f"{self.scale} · x³"

    x = engine.tensor(2.0, requires_grad=True, name="x")
    assert _op_labels(viz.draw_graph(Cube.apply(x, 5)).source) == ["5 · x³"]


def test_every_tensor_is_drawn_with_the_name_explain_uses():
    a = engine.tensor(2.0, dtype="float64", requires_grad=True)
    b = engine.tensor(-3.0, dtype="float64", requires_grad=True)
    product = a * b
    loss = (product + a).tanh()
    names = locals()
    texts = svgtext.texts(pipe(viz.draw_graph(loss, names=names), "svg"))
    for name in ("a", "b", "product", "loss", "add"):  # caller variables, and a generated name
        assert name in texts, name
    steps = viz.explain(loss, names=names)
    assert "Step 1: loss = " in steps
    assert "∂loss/∂product" in steps and "a.grad" in steps and "∂loss/∂add" in steps


def test_a_models_input_and_target_are_named_and_drawn_outside_its_clusters(fake_net):
    x = engine.Tensor(np.ones((5, 2)))
    y = engine.Tensor(np.zeros((5, 1)))
    loss = ((fake_net(x) - y) ** 2).mean()
    for collapse in (None, 0):
        source = viz.draw_graph(loss, params=fake_net, collapse=collapse).source
        top_level = [line for line in source.splitlines() if re.match(r"\tt\d+ \[", line)]  # outside clusters
        assert any(">input<" in line and "(5, 2)" in line for line in top_level), collapse
        assert any(">target<" in line and "(5, 1)" in line for line in top_level), collapse
    named = viz.draw_graph(loss, params=fake_net, names={"batch": x, "labels": y}).source
    assert "<B>batch</B>" in named and "<B>labels</B>" in named


@pytest.mark.parametrize("kind", ["classes", "probabilities", "numpy"])
def test_a_loss_node_shows_its_real_arguments(kind):
    import nn
    import nn.functional as F

    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4))
    x = engine.randn(5, 3)
    classes = np.array([0, 1, 2, 3, 0])
    y = {
        "classes": engine.tensor(classes),
        "probabilities": engine.tensor(np.eye(4, dtype=np.float32)[classes]),
        "numpy": classes,
    }[kind]
    loss = F.cross_entropy(model(x), y, reduction="sum")
    loss.backward()  # the drawing works on a released graph too
    source = viz.draw_graph(loss, params=model).source
    loss_line = next(line for key, line in _nodes(source).items() if key.startswith("op") and "cross_entropy" in line)
    assert "<B>cross_entropy(reduction=&#39;sum&#39;)</B>" in loss_line and "=None" not in loss_line
    edges = {(src, attrs) for src, dst, attrs in _edges(source) if dst == re.match(r"\s*(op\d+)", loss_line).group(1)}
    assert len(edges) == 2 and {re.search(r"label=(\w+)", attrs).group(1) for _, attrs in edges} == {"arg0", "arg1"}
    target_line = next(line for line in source.splitlines() if ">target<" in line)
    assert re.match(r"\tt\d+ \[", target_line)  # drawn outside the model's cluster
    if kind == "classes":
        named = viz.draw_graph(loss, params=model, names={"labels": y}).source
        assert "<B>labels</B>" in named
