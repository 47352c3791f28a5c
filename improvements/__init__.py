"""Proposals to change the emergency plan, drawn from reviews. Issue 16."""
