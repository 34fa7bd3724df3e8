"""ringrx-iac: RingRx callbacks (webhooks) as code."""

__version__ = "0.1.0"
