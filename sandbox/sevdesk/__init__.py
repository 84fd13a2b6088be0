"""A faithful local emulator of the sevDesk REST API v1 (see sandbox/README.md, "The sevDesk sandbox").

It shares the Lexware sandbox's clock, fault injector, rate limiter, churn loop, --state persistence and
process start (`start_sandbox(system="sevdesk")`); everything sevDesk-specific lives here."""
