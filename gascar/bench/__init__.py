"""Benchmarks: render speed, evaluation throughput, batch throughput and match quality per budget."""
