"""A faithful local emulator of the sevDesk REST API v1 (see sandbox/README.md, "The sevDesk sandbox").

It uses the shared pieces in sandbox/ (clock, fault injector, rate limiter, churn loop, --state
persistence, the operator API's common routes, server and process start: `start_sandbox(system="sevdesk")`);
everything sevDesk-specific lives here."""
