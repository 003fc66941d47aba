"""Shared pytest / Hypothesis settings for the whole suite.

Profiles: "ci" (default) keeps `make test` within its time budget; "long" (DAGRAD_FUZZ_LONG=1, used by
`make fuzz-long`) runs thousands of examples. `deadline=None` everywhere: timings on a loaded 2-core
CI machine vary too much for per-example deadlines to mean anything.
"""

import os

from hypothesis import HealthCheck, settings

LONG_RUN = os.environ.get("DAGRAD_FUZZ_LONG") == "1"

settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples on every CI run: a red build is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("long" if LONG_RUN else "ci")
