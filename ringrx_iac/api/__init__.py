"""The RingRx REST API adapter: endpoint table, auth flow, async client, typed errors."""
