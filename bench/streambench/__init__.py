"""The streaming benchmark's parts; `bench/stream_bench.py` is the command."""
