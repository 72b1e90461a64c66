"""Kubernetes manifests for GitOps delivery (Argo CD, Flux): PrometheusRule, dashboard ConfigMaps, grafana-operator.

`config.py` reads the inventory's optional `kubernetes:` block, `names.py` holds
Kubernetes' naming rules, `manifests.py` builds the objects and their
kustomization, `structure.py` checks objects against what the CRDs require.
This package imports nothing at load time: the inventory module imports `config`.
"""
