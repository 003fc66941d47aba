"""A 100,000-op chain: backward, graph walks and teardown are iterative (no RecursionError, no crash).

Time is not asserted (speed lives in bench/); the chain uses 2x2 tensors to stay cheap.
"""

import gc
import sys

import numpy as np

import engine
from engine.graph import walk

LENGTH = 100_000


def test_hundred_thousand_op_chain_backprops_and_tears_down():
    x = engine.tensor(np.full((2, 2), 0.5), requires_grad=True)
    y = x
    for i in range(LENGTH):
        y = y * 1.00001 if i % 2 else y + 0.25
    loss = y.sum()
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # anything recursive over the chain would now fail loudly
    try:
        assert len(engine.graph.walk(loss, requires_grad=True)) == LENGTH + 2
        assert len(walk(loss)) > LENGTH
        (g,) = engine.grad(loss, x, retain_graph=True)  # keeps every node's saved values alive
        loss.backward()
    finally:
        sys.setrecursionlimit(previous_limit)
    expected = 1.00001 ** (LENGTH // 2)
    np.testing.assert_allclose(g.data, np.full((2, 2), expected), rtol=1e-9)
    np.testing.assert_allclose(x.grad.data, g.data, rtol=0)
    del loss, y, g  # dropping the root frees 100,000 nodes one after another
    gc.collect()
    assert x.grad is not None
