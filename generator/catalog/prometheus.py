"""Series Prometheus itself records for every target."""
from generator.catalog.base import GAUGE, Exporter, Metric
from generator.versions import v

EXPORTER = Exporter(
    name="prometheus",
    title="Prometheus",
    default_version=v("2.42.0"),
    oldest=v("2.0.0"),
    metrics=(
        Metric("up", GAUGE, "bool", "1 if the last scrape of the target succeeded.",
               "prometheus docs/concepts/jobs_instances.md (automatically generated labels and time series)"),
        Metric("ALERTS", GAUGE, "bool",
               "1 per pending or firing alert, labelled alertname, alertstate and the alert's labels.",
               "prometheus docs/configuration/alerting_rules.md (inspecting alerts during runtime)"),
    ),
)
