"""Machine facts recorded with every result (cores, BLAS, thread counts, versions), and RSS readings."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import numpy as np


def blas_threads() -> tuple[int, str]:
    """(threads NumPy's BLAS uses, a description of that BLAS), via threadpoolctl when installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1, _blas_from_numpy_config()
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    numpy_pools = [p for p in pools if "numpy" in p.get("filepath", "")] or pools
    if not numpy_pools:
        return os.cpu_count() or 1, _blas_from_numpy_config()
    pool = numpy_pools[0]
    name = f"{pool.get('internal_api', '?')} {pool.get('version', '')} ({pool.get('threading_layer', '?')})"
    return int(pool.get("num_threads", 1)), name.strip()


def _blas_from_numpy_config() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError, AttributeError):
        return "unknown (threadpoolctl not installed)"


def configure_torch_threads(threads: int) -> Any:
    """Import torch with the same intra-op thread count as NumPy's BLAS; None when torch is missing."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def facts(torch: Any, threads: int, blas: str) -> dict[str, str]:
    """What a reader needs to compare runs across machines."""
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} logical cores, {_cpu_model()}",
        "load": _load_average(),
        "python": sys.version.split()[0],
        "numpy": f"{np.__version__}, BLAS {blas}, {threads} thread(s)",
    }
    if torch is not None:
        result["torch"] = f"{torch.__version__}, {torch.get_num_threads()} intra-op thread(s)"
    else:
        result["torch"] = "not installed (its columns are empty)"
    try:
        import micrograd  # noqa: F401

        result["micrograd"] = "installed"
    except ImportError:
        result["micrograd"] = "not installed"
    return result


def _load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every timing."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) at the start"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def rss_bytes() -> int:
    """Resident set size now (Linux /proc; elsewhere the peak from getrusage, a coarser stand-in)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import resource

        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux clear_refs); False when the platform cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int | None:
    """Peak RSS since the last reset_peak_rss() (VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
