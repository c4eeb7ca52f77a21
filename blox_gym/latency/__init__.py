"""Latency on your own hardware: the paper's C.3 protocol, backends, store writing, block tables."""
