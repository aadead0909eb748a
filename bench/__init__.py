"""Benchmark harness for ldn-kb (not part of the test suite): ``python -m bench``; see bench/README.md."""
