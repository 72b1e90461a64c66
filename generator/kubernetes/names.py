"""Kubernetes' rules for names, label keys and values, and the size limit client-side apply imposes."""
from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1123 label: namespaces
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")  # label/annotation name part
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")

# `kubectl apply` (client-side) stores the whole object in the kubectl.kubernetes.io/last-applied-configuration
# annotation, and all annotations of an object together may hold at most 256 KiB.
ANNOTATION_LIMIT = 262_144
CONFIGMAP_LIMIT = 1_048_576  # data of one ConfigMap


def qualified_name_problem(key: str) -> str | None:
    """Why `key` is not a valid label or annotation key (`[prefix/]name`), or None."""
    if not isinstance(key, str) or not key:
        return "a key is a non-empty string"
    prefix, _, name = key.rpartition("/")
    if "/" in key and not DNS_SUBDOMAIN.match(prefix):
        return f"prefix {prefix!r} is not a DNS subdomain (lower-case letters, digits, '-' and '.')"
    if not _QUALIFIED.match(name):
        return (f"name {name!r} is not 1-63 letters, digits, '-', '_' or '.', beginning and ending with a letter "
                f"or digit")
    return None


def label_value_problem(value) -> str | None:
    if not isinstance(value, str):
        return "label values are strings (quote numbers and booleans)"
    if not _LABEL_VALUE.match(value):
        return f"{value!r} is not a label value: at most 63 letters, digits, '-', '_' or '.', beginning and ending " \
               f"with a letter or digit"
    return None


def object_name(text: str) -> str:
    """A DNS-1123 subdomain from a generated name (uids may hold '_' or capitals)."""
    name = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")
    return name[:253].rstrip("-.") or "unnamed"
