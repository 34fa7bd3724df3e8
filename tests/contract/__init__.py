"""Contract tests: the CLI against an independent server written from shared/ringrx-api.md."""
