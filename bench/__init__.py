"""Benchmarks: ``python -m bench`` runs every ``bench_*`` module's ``run()`` and prints its lines.

Each module exposes ``def run() -> list[str]``; adding a module is enough to register it.
"""
