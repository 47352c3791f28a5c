"""The escalation engine has no page of its own: ``/metrics`` is routed by the reports app (reports/metrics.py),
which adds the upper layers' figures to the engine's lines (escalation/views.py)."""

urlpatterns: list = []
