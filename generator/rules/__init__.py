"""Prometheus rules: recording rules onto the `llm:` vocabulary, then alerts on it."""
