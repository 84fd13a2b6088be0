"""Local emulators of the accounting systems Kontor reads (never imported by product code): one package
per system (`lexware/`, `sevdesk/`) on shared pieces here: the clock, fault injection, rate limiter,
request stats, churn loop, --state persistence, the operator API's common routes, the server start and
the test/demo launcher (`from sandbox import start_sandbox`)."""

from sandbox.process import SandboxProcess, SandboxStartError, start_sandbox

__all__ = ["SandboxProcess", "SandboxStartError", "start_sandbox"]
