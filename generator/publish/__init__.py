"""Publish the generated dashboards to Grafana through its HTTP API: safely, idempotently, only what changed.

One run: read the configuration from the environment (`config`), build what Grafana
should hold from the inventory (`desired`), connect and check the version
(`grafana`, with retries from `retry`; `compat`), list in bulk what this tool
manages (dashboards carry a management tag and a fingerprint tag, `marking`),
decide what to create, update, leave alone, refuse or delete (`plan`), then write
only that (`apply`). `publisher` runs those steps, `report` renders the outcome,
and `command` is the `publish` subcommand: the only module here that prints.

Nothing is remembered locally: what the tool needs to know about the last publish
lives in Grafana (the tags) and in Git (the inventory).
"""
