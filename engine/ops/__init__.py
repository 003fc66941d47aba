"""Every differentiable op: one `Function` subclass each, forward and backward side by side.

- elementwise.py  arithmetic, exp/log/trig, rsqrt, floor/ceil/trunc/round, isnan/isinf/isfinite, lerp,
                  activations, comparisons, where, cast
- reduce.py       sum, mean, prod, cumsum, all/any, max/min, var/std (and var_mean/std_mean), norm,
                  logsumexp, softmax, log_softmax, argmax/argmin, sort/argsort, topk, median, mode
- shape.py        reshape, transpose, expand, squeeze, indexing, cat, stack, narrow, split, chunk,
                  movedim, flip, roll, repeat, repeat_interleave
- indexing.py     gather, scatter, scatter_add, masked_fill, tril, triu
- linalg.py       matmul, einsum and the fused linear layer op

Each public function takes PyTorch's parameter names, order and defaults (`input`, `other`, `dim`, `keepdim`,
...; NumPy's `axis=`/`keepdims=` stay as keyword-only aliases), which tests/test_pytorch_conformance.py checks
against torch's signatures; the docstrings write the math with x and y.
"""
