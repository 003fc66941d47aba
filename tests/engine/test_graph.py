"""Graph introspection (engine/graph.py): walk order, operand-ordered inputs, saved values, attributes."""

import numpy as np

import engine
from engine.graph import op_attributes, op_inputs, saved_values, scope, walk


def test_walk_lists_every_tensor_after_its_inputs_constants_included():
    a = engine.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = engine.tensor([3.0, 4.0], requires_grad=True, name="b")
    c = a * b
    d = c + 1.0  # the constant 1.0 becomes a tensor input of Add
    e = d.sum()
    order = walk(e)
    assert order[-1] is e
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        if t.grad_fn is not None:
            assert all(position[id(p)] < position[id(t)] for p in t.grad_fn.inputs)
    assert {id(a), id(b), id(c), id(d), id(e)} <= set(position)
    constants = [t for t in order if not t.requires_grad]
    assert len(constants) == 1 and constants[0].item() == 1.0
    assert len(order) == 6


def test_walk_visits_shared_tensors_once_and_accepts_several_roots():
    a = engine.tensor([1.0], requires_grad=True)
    b = a.exp()
    order = walk(b * b, b + a)
    assert sum(t is b for t in order) == 1
    assert sum(t is a for t in order) == 1


def test_inputs_are_in_operand_order_with_repeats():
    a = engine.tensor([1.0], requires_grad=True)
    b = engine.tensor([2.0], requires_grad=True)
    node = (a + a).grad_fn
    assert node.name == "Add"
    assert len(node.inputs) == 2 and node.inputs[0] is a and node.inputs[1] is a
    assert op_inputs((b - a).grad_fn) == (b, a)
    assert op_inputs((a - b).grad_fn) == (a, b)
    stacked = engine.stack([b, a, b]).grad_fn
    assert stacked.name == "Stack" and stacked.inputs == (b, a, b)


def test_node_names_and_leaves():
    a = engine.tensor(np.ones((2, 3)), requires_grad=True)
    assert a.is_leaf and a.grad_fn is None
    names = [
        (a @ a.T).grad_fn.name,
        a.sum(axis=0).grad_fn.name,
        a.reshape(3, 2).grad_fn.name,
        a[0].grad_fn.name,
        a.relu().grad_fn.name,
        engine.linear(a, a).grad_fn.name,
    ]
    assert names == ["MatMul", "Sum", "Reshape", "GetItem", "ReLU", "Linear"]
    assert not (a * 2).is_leaf


def test_saved_values_name_inputs_outputs_and_constants():
    a = engine.tensor(np.ones((2, 3)), requires_grad=True)
    b = engine.tensor(np.ones(3), requires_grad=True)
    mul = (a * b).grad_fn
    assert [(s.label, s.shape, s.dtype) for s in saved_values(mul)] == [
        ("input 0", (2, 3), "float64"),
        ("input 1", (3,), "float64"),
    ]
    exp = a.exp().grad_fn
    assert [s.label for s in saved_values(exp)] == ["output"]
    relu = a.relu().grad_fn
    assert [(s.label, s.shape, s.dtype) for s in saved_values(relu)] == [("output", (2, 3), "float64")]


def test_saved_values_are_empty_after_release_but_structure_stays():
    a = engine.tensor(np.ones(3), requires_grad=True)
    b = a.exp()
    loss = (b * a).sum()
    loss.backward()
    node = b.grad_fn
    assert node.released and saved_values(node) == [] and op_attributes(node) == {}
    assert node.inputs == (a,)
    assert len(walk(loss)) == 4


def test_op_attributes_show_settings():
    a = engine.tensor(np.ones((2, 3)), requires_grad=True)
    assert op_attributes((a**3).grad_fn)["exponent"] == 3
    assert op_attributes(a.sum(axis=1).grad_fn) == {"in_shape": (2, 3), "kept": (2, 1), "dim": (1,), "keepdim": False}
    assert op_attributes(a.softmax(axis=0).grad_fn)["dim"] == 0


def test_an_op_reads_as_the_math_it_does():
    a = engine.tensor(np.ones((2, 3)), requires_grad=True)
    labels = {
        "+": a + a, "−": a - 1, "×": a * a, "÷": a / 2, "** 3": a**3, "@": a @ a.T, "tanh": a.tanh(),
        "sum(dim=1)": a.sum(axis=1), "sum": a.sum(), "mean(dim=0, keepdim=True)": a.mean(0, keepdims=True),
        "[0, 1:3]": a[0, 1:3], "reshape(3, 2)": a.reshape(3, 2), "leaky_relu(0.2)": a.leaky_relu(0.2),
    }  # fmt: skip
    assert {label: t.grad_fn.label for label, t in labels.items()} == {label: label for label in labels}


def test_a_label_survives_the_release_of_its_node():
    a = engine.tensor(np.ones(3), requires_grad=True)
    c = a**3
    c.sum().backward()
    assert c.grad_fn.released and c.grad_fn.label == "** 3"


def test_scope_tags_nodes_with_their_owner():
    a = engine.tensor([1.0], requires_grad=True)
    owner = object()
    with scope(owner):
        inner = a * 2
        with scope("nested"):
            nested = inner + 1
    outer = nested.exp()
    assert inner.grad_fn.scope is owner and nested.grad_fn.scope == "nested" and outer.grad_fn.scope is None
