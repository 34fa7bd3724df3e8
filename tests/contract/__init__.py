"""Contract tests: the CLI against an independent server written from docs/ringrx-api.md."""
