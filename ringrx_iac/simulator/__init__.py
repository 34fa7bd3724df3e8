"""A local RingRx simulator: the API of ``docs/ringrx-api.md`` plus a ``/_sim`` admin API.

Modules: ``state`` (the account, indexed by id), ``seed`` (YAML/JSON seeds, ``--state``
files, ``generate_seed`` for benchmarks), ``auth`` (JWT, TOTP, refresh rotation),
``faults`` (latency, rate limit, 5xx, drops, scripted ``fail_next``), ``events`` (callback
delivery), ``admin`` (``/_sim``), ``app`` (the ASGI app), ``server`` (``SimulatorServer``).
"""
