"""erf, computed in NumPy to float64 accuracy (NumPy has no erf ufunc, and dagrad depends on NumPy only).

The numerics behind engine.erf and the exact GELU; the op and its derivative live in elementwise.py.
"""

from __future__ import annotations

import math

import numpy as np

# erf by W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for the error
# function", Math. Comp. 23 (1969) 631-637; coefficients as in his SPECFUN routine CALERF), in three ranges of
# y = |x|:  erf x = x·R₁(x²) for y < 0.5,  erfc y = e^(-y²)·R₂(y) for 0.5 <= y < 4,  and
# erfc y = e^(-y²)/y·(1/√π - R₃(1/y²)/y²) for y >= 4. Their approximation error is far below float64's
# rounding: the result is within a few ulp of math.erf. Coefficients are listed highest degree first.
_ERF_SMALL = (
    (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
     3.20937758913846947e03),
    (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03),
)  # fmt: skip
_ERFC_MID = (
    (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
     2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
     1.23033935479799725e03),
    (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
     3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03),
)  # fmt: skip
_ERFC_TAIL = (
    (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
     1.60837851487422766e-2, 6.58749161529837803e-4),
    (1.0, 2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
     2.33520497626869185e-3),
)  # fmt: skip
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
# Beyond this, erfc y < 2.2e-17 is below half an ulp of 1: erf is exactly ±1 in float64.
_ERF_IS_ONE = 6.0
# Elements per block: a 1e6-element erf runs ~3x faster in blocks of 2**16, whose temporaries stay in the
# CPU cache and reuse freed memory, than as whole arrays that fault in fresh pages for every temporary.
_ERF_BLOCK = 1 << 16
_ERF_FEW = 256  # up to this many elements, math.erf one by one is faster (measured: 64 elements 7 us vs 43 us)


def _rational(t: np.ndarray, coefficients: tuple[tuple[float, ...], tuple[float, ...]]) -> np.ndarray:
    """P(t)/Q(t) by Horner's rule, in place on two buffers (P and Q have the same degree here)."""
    p_coefficients, q_coefficients = coefficients
    p = t * p_coefficients[0]
    p += p_coefficients[1]
    q = t * q_coefficients[0]
    q += q_coefficients[1]
    for a, b in zip(p_coefficients[2:], q_coefficients[2:]):
        p *= t
        p += a
        q *= t
        q += b
    p /= q
    return p


def _erf_block(x: np.ndarray) -> np.ndarray:
    """erf of a 1-d float64 array by Cody's three approximations (see _ERF_SMALL)."""
    out = np.sign(x)  # ±1 where |x| >= 6 (±inf included), nan for nan; the three ranges are filled below
    y = np.abs(x)
    small, below_4 = y < 0.5, y < 4.0
    # Each range is gathered (integer indices: faster than boolean masks) so no element is computed twice.
    i = small.nonzero()[0]
    if i.size:
        t = x[i]
        r = _rational(t * t, _ERF_SMALL)
        r *= t
        out[i] = r
    i = (below_4 ^ small).nonzero()[0]
    if i.size:
        t = y[i]
        erfc = _rational(t, _ERFC_MID)
        # e^(-y²) carries x²'s rounding error (relative ~y²·1e-16), scaled down by erfc <= 0.48 in 1 - erfc
        erfc *= np.exp(-(t * t))
        out[i] = np.copysign(1.0 - erfc, x[i])
    i = ((y < _ERF_IS_ONE) ^ below_4).nonzero()[0]
    if i.size:
        t = y[i]
        z = 1.0 / (t * t)
        r = _rational(z, _ERFC_TAIL)
        r *= z
        erfc = (_INV_SQRT_PI - r) / t * np.exp(-(t * t))
        out[i] = np.copysign(1.0 - erfc, x[i])
    return out


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise, vectorized, to float64 accuracy; computed in float64 and returned in x's dtype."""
    x = np.asarray(x)  # 0-d arithmetic gives NumPy scalars (GELU passes x / √2)
    if x.size <= _ERF_FEW:
        # The vectorized path costs ~40 NumPy calls whatever the size; a few elements are cheaper one by one.
        return np.array([math.erf(v) for v in x.reshape(-1).tolist()], dtype=x.dtype).reshape(x.shape)
    flat = np.asarray(x, dtype=np.float64).reshape(-1)  # a 0-d input becomes one element
    if flat.size <= _ERF_BLOCK:
        out = _erf_block(flat)
    else:
        out = np.empty_like(flat)
        for start in range(0, flat.size, _ERF_BLOCK):
            out[start : start + _ERF_BLOCK] = _erf_block(flat[start : start + _ERF_BLOCK])
    return out.reshape(x.shape).astype(x.dtype, copy=False)
