"""Test setup for tests/nn.

torch (the oracle) runs single-threaded: the models here are tiny, and with 2 cores shared by pytest-xdist
workers torch's intra-op thread pool spends ~50x longer waiting for threads than computing.
"""

import torch

torch.set_num_threads(1)
