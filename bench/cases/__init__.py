"""The benchmark cases of the performance issue, one module each, numbered as in the issue."""
