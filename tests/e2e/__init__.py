"""End-to-end tests: the generated rules and dashboards in a real Prometheus and Alertmanager."""
