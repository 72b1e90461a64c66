"""Dashboards, recording rules, alerts and runbooks for self-hosted LLM inference."""
