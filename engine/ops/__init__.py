"""Every differentiable op: one `Function` subclass each, forward and backward side by side.

- elementwise.py  arithmetic, exp/log/trig, activations, comparisons, where, cast
- reduce.py       sum, mean, max/min, var/std, logsumexp, softmax, log_softmax, argmax/argmin
- shape.py        reshape, transpose, expand, squeeze, indexing, cat, stack, narrow, split, chunk,
                  movedim, flip, roll, repeat, repeat_interleave
- indexing.py     gather, scatter, scatter_add, masked_fill, tril, triu
- linalg.py       matmul and the fused linear layer op
"""
