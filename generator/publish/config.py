"""Connection settings from the environment, checked before anything is sent.

The token is held in a `Secret` whose repr and str never show it; it reaches the
network only as an Authorization header, and never over plain http to another
host unless GRAFANA_ALLOW_HTTP says so.
"""
from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from generator.publish.errors import ConfigError
from generator.publish.retry import RetryPolicy

log = logging.getLogger(__name__)

ENVIRONMENT = {
    "GRAFANA_URL": "Grafana's base URL, e.g. https://grafana.example.com (a sub-path such as /grafana works)",
    "GRAFANA_TOKEN": "service-account token (glsa_...)",
    "GRAFANA_TOKEN_FILE": "file holding the token, instead of GRAFANA_TOKEN",
    "GRAFANA_USER": "basic-auth user, instead of a token (with GRAFANA_PASSWORD)",
    "GRAFANA_PASSWORD": "basic-auth password",
    "GRAFANA_CA_BUNDLE": "PEM file of the CA that signed Grafana's certificate",
    "GRAFANA_INSECURE_SKIP_VERIFY": "true turns TLS certificate verification off (warns on every run)",
    "GRAFANA_ALLOW_HTTP": "true allows sending credentials over plain http:// to a host other than loopback",
    "GRAFANA_TIMEOUT": "seconds to wait for each answer (default 10)",
    "GRAFANA_RETRIES": "tries per request on connection errors, timeouts, 429 and 5xx (default 5)",
    "GRAFANA_RETRY_BACKOFF": "seconds before the first retry, doubling each time (default 0.5)",
    "GRAFANA_RETRY_MAX_DELAY": "longest wait between tries, and longest Retry-After honoured (default 30)",
}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


class Secret:
    """A credential. Its repr and str are masked; `reveal()` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    url: str  # display form: scheme://host[:port]/prefix/, never with credentials
    scheme: str
    host: str
    port: int | None
    path_prefix: str  # "" or "sub/path/" (grafana-client needs the trailing slash)
    token: Secret | None
    user: str | None
    password: Secret | None
    verify: bool | str  # True, False, or a CA bundle path
    timeout: float
    retry: RetryPolicy

    @property
    def credential(self) -> str | tuple[str, str]:
        """For grafana-client: a token (sent as Bearer) or (user, password) for basic auth."""
        if self.token is not None:
            return self.token.reveal()
        assert self.user is not None and self.password is not None  # from_env: a token, or a user and password
        return self.user, self.password.reveal()


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every GRAFANA_* variable; all problems are reported together."""
    env = os.environ if env is None else env
    problems: list[str] = []
    url = _url(env.get("GRAFANA_URL", "").strip(), problems)
    token, user, password = _credentials(env, problems)
    verify = _verify(env, problems)
    timeout = _number(env, "GRAFANA_TIMEOUT", 10.0, problems, maximum=3600)
    retry = RetryPolicy(attempts=int(_number(env, "GRAFANA_RETRIES", 5, problems, minimum=1, maximum=100)),
                        backoff=_number(env, "GRAFANA_RETRY_BACKOFF", 0.5, problems, minimum=0, maximum=60),
                        max_delay=_number(env, "GRAFANA_RETRY_MAX_DELAY", 30.0, problems, minimum=0,
                                          maximum=3600))
    allow_http = _flag(env, "GRAFANA_ALLOW_HTTP", problems)
    if url and url[0] == "http" and not _is_loopback(url[1]):
        if not allow_http:
            problems.append(f"GRAFANA_URL is plain http:// to {url[1]}, which is not this machine: the credentials "
                            "would cross the network unencrypted. Use https://, or set GRAFANA_ALLOW_HTTP=true "
                            "if the network is trusted.")
        else:
            log.warning("GRAFANA_ALLOW_HTTP=true: sending credentials to %s over unencrypted http", url[1])
    if url and token is not None and len(token.reveal()) >= 8 and token.reveal() in env.get("GRAFANA_URL", ""):
        problems.append("GRAFANA_URL holds the token: put it only in GRAFANA_TOKEN (or GRAFANA_TOKEN_FILE)")
        url = None
    if problems:
        raise ConfigError("cannot publish, the Grafana settings are not usable:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    scheme, host, port, prefix = url
    shown_host = f"[{host}]" if ":" in host else host
    display = f"{scheme}://{shown_host}{f':{port}' if port else ''}/{prefix}"
    return Settings(display, scheme, shown_host, port, prefix, token, user, password, verify, timeout, retry)


def _url(raw: str, problems: list[str]):
    if not raw:
        problems.append("GRAFANA_URL is not set (Grafana's base URL, e.g. https://grafana.example.com)")
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append("GRAFANA_URL must be an http:// or https:// URL with a host")
        return None
    if parts.username or parts.password:
        problems.append("GRAFANA_URL must not carry credentials: use GRAFANA_TOKEN (or GRAFANA_USER and "
                        "GRAFANA_PASSWORD)")
        return None
    if parts.query or parts.fragment:
        problems.append("GRAFANA_URL must not have a query or fragment")
        return None
    if any(segment.startswith(("glsa_", "glc_", "eyJ")) for segment in parts.path.split("/")):
        problems.append("GRAFANA_URL holds what looks like a token in its path: put the token in GRAFANA_TOKEN "
                        "(or GRAFANA_TOKEN_FILE), never in the URL")
        return None
    try:
        port = parts.port
    except ValueError:
        problems.append("GRAFANA_URL has an invalid port")
        return None
    prefix = parts.path.strip("/")
    return parts.scheme, parts.hostname, port, f"{prefix}/" if prefix else ""


def _credentials(env: Mapping[str, str], problems: list[str]):
    token = env.get("GRAFANA_TOKEN", "").strip()
    token_file = env.get("GRAFANA_TOKEN_FILE", "").strip()
    user, password = env.get("GRAFANA_USER", "").strip(), env.get("GRAFANA_PASSWORD", "")
    if token and token_file:
        problems.append("set GRAFANA_TOKEN or GRAFANA_TOKEN_FILE, not both")
        return None, None, None
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not text"
            problems.append(f"cannot read GRAFANA_TOKEN_FILE {token_file}: {reason}")
            return None, None, None
        if not token:
            problems.append(f"GRAFANA_TOKEN_FILE {token_file} is empty")
            return None, None, None
    if token and (user or password):
        problems.append("set a token (GRAFANA_TOKEN or GRAFANA_TOKEN_FILE) or GRAFANA_USER/GRAFANA_PASSWORD, not both")
        return None, None, None
    if token:
        if any(c.isspace() or not c.isprintable() for c in token):
            problems.append("the Grafana token contains whitespace or control characters")
            return None, None, None
        return Secret(token), None, None
    if user and password:
        return None, user, Secret(password)
    if user or password:
        problems.append("basic auth needs both GRAFANA_USER and GRAFANA_PASSWORD")
    else:
        problems.append("no credentials: set GRAFANA_TOKEN or GRAFANA_TOKEN_FILE to a service-account token "
                        "(or GRAFANA_USER and GRAFANA_PASSWORD)")
    return None, None, None


def _verify(env: Mapping[str, str], problems: list[str]) -> bool | str:
    insecure = _flag(env, "GRAFANA_INSECURE_SKIP_VERIFY", problems)
    bundle = env.get("GRAFANA_CA_BUNDLE", "").strip()
    if insecure and bundle:
        problems.append("GRAFANA_CA_BUNDLE and GRAFANA_INSECURE_SKIP_VERIFY contradict each other: set one")
        return True
    if insecure:
        log.warning("GRAFANA_INSECURE_SKIP_VERIFY=true: Grafana's TLS certificate is NOT verified; anyone on "
                    "the path can impersonate Grafana and read the credentials")
        return False
    if bundle:
        if not Path(bundle).is_file():
            problems.append(f"GRAFANA_CA_BUNDLE {bundle} is not a readable file")
        return bundle
    return True


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    value = env.get(name, "").strip().lower()
    if value in TRUE:
        return True
    if value not in FALSE:
        problems.append(f"{name} must be true or false, got {env[name]!r}")
    return False


def _number(env: Mapping[str, str], name: str, default: float, problems: list[str], minimum: float = 0.001,
            maximum: float = 3600) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:  # NaN and infinities fail the comparison
        problems.append(f"{name} must be a number from {minimum:g} to {maximum:g}, got {raw!r}")
        return default
    return value


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
