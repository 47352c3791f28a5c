"""The bottom layer: what every app shares and that depends on no app (docs/architecture.md).

Errors a service raises (``errors``), the safe JSON parser every body goes
through (``jsonbody``), request-body limits (``http``), the API's schema and
throttles, the admin's read-only mixins, and the broker's names (``broker``).
"""
