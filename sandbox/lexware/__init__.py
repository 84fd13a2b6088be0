"""A faithful local emulator of the Lexware Office public API (`python -m sandbox serve`, also
`python -m sandbox.lexware serve`; see sandbox/README.md). Clock, faults, rate limiter, churn loop,
--state persistence, the operator API's common routes and the server start are shared with the other
emulators (sandbox/*.py)."""
