"""Every generated name is spelled here: recording rules, groups, labels, uids, files.

Recording rules follow `level:metric:operations`; the level is `llm` (one
series per inventory model, labelled `model`). Alerts and the fleet overview
read only these names, never an engine's own metrics.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from generator import grafana_facts

MODEL_LABEL = "model"  # inventory id on every recorded series
QUANTILES = ("0.5", "0.95", "0.99")
LATENCY_SIGNALS = {
    "ttft": "time to first token",
    "itl": "inter-token latency",
    "tpot": "time per output token",
    "e2e": "end-to-end latency",
}

MODEL_INFO = "llm:model:info"
SLO_OBJECTIVE = "llm:slo_objective:ratio"
SLO_THRESHOLD = "llm:slo_threshold:seconds"
REQUESTS = "llm:requests:rate{window}"
SLO_REQUESTS = "llm:slo_requests:rate{window}"  # per `slo`: the SLI's own denominator, its traffic guard
SLO_GOOD = "llm:slo_good_requests:rate5m"  # per `slo`: requests within the SLO per second (the numerator)
SLO_GOOD_PERIOD = "llm:slo_good:ratio_period"  # per `slo`: good share over the SLO period, traffic-weighted
BUDGET_REMAINING = "llm:slo_error_budget:remaining"  # per `slo`: 1 - (1 - good) / (1 - objective)
BURN_RATE = "llm:slo_burn_rate:ratio_rate{window}"  # per `slo`: error ratio over the window / (1 - objective)
ERROR_RATIO = "llm:request_errors:ratio_rate{window}"
LATENCY_QUANTILE = "llm:{signal}_seconds:quantile_rate5m"
LATENCY_WITHIN_SLO = "llm:{signal}_within_slo:ratio_rate{window}"
LATENCY_MEAN = "llm:{signal}_seconds:mean_rate5m"
PROMPT_TOKENS = "llm:prompt_tokens:rate5m"
GENERATION_TOKENS = "llm:generation_tokens:rate5m"
RUNNING = "llm:requests_running:sum"
WAITING = "llm:requests_waiting:sum"
KV_CACHE = "llm:kv_cache_usage:max"
PREEMPTIONS = "llm:preemptions:rate5m"
GPU_UTILIZATION = "llm:gpu_utilization:avg"
GPU_MEMORY = "llm:gpu_memory_usage:max"
GPU_POWER = "llm:gpu_power_watts:sum"
GPU_XID = "llm:gpu_xid_error:max"
GPU_COUNT = "llm:gpus:count"
COLD_START = "llm:cold_start_seconds:max"
MODEL_LOAD = "llm:model_load_seconds:max"
REPLICAS_READY = "llm:replicas_ready:sum"
TARGETS_UP = "llm:targets_up:sum"  # engine targets (the engine container of the model's pods) up
TARGETS = "llm:targets:count"  # engine targets Prometheus knows, up or not
# Fault signals: progress of work, per-replica levels, per-pod and per-GPU problems.
PROGRESS = "llm:progress:rate2m"  # completed requests plus generated tokens per second
REPLICA_WAITING = "llm:replica_requests_waiting:max"  # the longest queue of any one replica
BATCH_OCCUPANCY = "llm:batch_occupancy:max"  # running / batch capacity of the fullest replica
POD_READY = "llm:pod_ready:max"  # per pod: 1 Ready, 0 not
TARGET_UP = "llm:target_up:max"  # per pod: its engine target scraped (1) or not (0)
CONTAINER_WAITING = "llm:engine_container_waiting:max"  # per pod and reason: the engine container cannot start
OOM_KILLS = "llm:engine_oom_kills:increase10m"  # per pod: restarts after an OOM kill
ENGINE_VERSION = "llm:engine_version:info"  # per pod: the version its image says (`running_version`)
GPU_XID_NEW = "llm:gpu_xid_error:new10m"  # per GPU: an XID code reported within 10 minutes
GPU_HELD = "llm:gpu_held:info"  # per GPU the model's pods hold (labels node, gpu): 1; the GPU fleet reads it
NEW_PODS = "llm:new_pods:created2m"  # per pod created within 2 minutes: its creation time, owner and image
NEW_POD_SECONDS = 120
TELEMETRY = "llm:telemetry_series:count"  # per `signal`: series of the metric the signal needs
# Efficiency and cost: per model, from the GPUs DCGM sees in its pods; cost only with `cost.gpu_hour`.
GPU_ENERGY = "llm:gpu_energy_joules:rate5m"  # joules per second (W) the model's GPUs draw, from the energy counter
TOKENS_PER_GPU = "llm:generation_tokens_per_gpu:rate5m"
ENERGY_PER_TOKEN = "llm:gpu_energy_per_generated_token_joules:ratio_rate5m"
COST_PER_HOUR = "llm:gpu_cost_per_hour:sum"  # the model's GPUs times the price of a GPU-hour of its type
COST_PER_MILLION_TOKENS = "llm:cost_per_million_generated_tokens:ratio_rate5m"
# SLO windows longer than RAW_WINDOW_MAX are derived from the recorded 5-minute good and total rates
# (`sum_over_time`), never from raw histogram buckets.
RAW_WINDOW_MAX = "5m"


def sampled(series: str, interval: str) -> str:
    """A shared copy of a recorded 5-minute rate, sampled every `interval` (`llm:slo_good_requests:rate5m` ->
    `llm:slo_good_requests:rate5m_sampled1m`): the slow windows and the SLO period read it instead of the
    series recorded every evaluation interval, `interval / evaluation interval` times fewer samples."""
    return f"{series}_sampled{interval}"


# Rules evaluate every evaluation interval where a fast alert needs them, else every
# `slo_policy.window_interval` (the slow groups): an alert is slow when its `for` is at least
# SLOW_ALERT_FOR times that interval, so a coarser evaluation delays it by at most a tenth of its `for`.
SLOW_ALERT_FOR = 10
XID_WINDOW = "10m"
OOM_WINDOW = "10m"
STALL_WINDOW = "2m"

GENERATED_HEADER = "Generated by `python -m generator generate` from the model inventory. Do not edit."

FLEET_UID = "llm-fleet-overview"
GPU_UID = "llm-gpu-fleet"
# The Grafana folder of the dashboards that span teams (fleet overview, GPU fleet).
SHARED_FOLDER_UID = "llm-fleet"
SHARED_FOLDER_TITLE = "LLM fleet"


def recording_group(model: str) -> str:
    return f"llm-{model}-recording"


def slow_recording_group(model: str) -> str:
    """Recording rules no fast alert reads (dashboards, slow alerts), every `slo_policy.window_interval`."""
    return f"llm-{model}-slow-recording"


def budget_group(model: str) -> str:
    return f"llm-{model}-budget"


def alert_group(model: str) -> str:
    """Alerts that need fast reaction (`for` under SLOW_ALERT_FOR evaluations of the slow groups)."""
    return f"llm-{model}-alerts"


def slow_alert_group(model: str) -> str:
    """Alerts with a long `for`, every `slo_policy.window_interval`."""
    return f"llm-{model}-slow-alerts"


# The collector alerts' rule file: `_` keeps it apart from every model's (model ids are slugs).
COLLECTORS_FILE = "alerts/_collectors.rules.yaml"
COLLECTORS_TEST_FILE = "alerts/tests/_collectors.test.yaml"
COLLECTORS_GROUP = "llm-collectors"
# The SLO windows derived from the recorded 5-minute rates, one rule per series, window and SLO for every model
# (no model matcher: each output series keeps the labels of the series it reads). The group names end in no
# kind of a model's group (`-recording`, `-budget`, `-alerts`, ...), so no model id makes them collide.
SLO_WINDOWS_FILE = "alerts/_slo_windows.rules.yaml"
WINDOWS_GROUP = "llm-slo-windows"  # the windows a fast alert reads (1h), every evaluation interval
SLOW_WINDOWS_GROUP = "llm-slo-slow-windows"  # the others, every `slo_policy.window_interval`
BUDGET_SAMPLES_GROUP = "llm-slo-budget-samples"  # the copies the SLO period reads, every `budget_interval`
ALERTMANAGER_FILE = "alerts/alertmanager.yaml"
# The PrometheusRule of each rule file shared by all models (a model's is `rule_object_name`).
SHARED_RULE_OBJECTS = {COLLECTORS_FILE: "llm-fleet-collectors", SLO_WINDOWS_FILE: "llm-fleet-slo-windows"}


def group_part(group: str, index: int) -> str:
    """The `index`-th (1-based) part of a rule group split to fit the ruler's per-group limit."""
    return f"{group}-{index}"


def rules_file(model: str) -> str:
    return f"alerts/{model}.rules.yaml"


def rules_test_file(model: str) -> str:
    return f"alerts/tests/{model}.test.yaml"


def runbook_file(alert: str) -> str:
    return f"alerts/runbooks/{alert}.md"


def folder_directory(title: str) -> str:
    """The folder's directory under dashboards/: its title as a slug (`LLM Platform` -> `llm-platform`)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()  # Équipe -> Equipe
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug or "folder-" + hashlib.sha256(title.encode()).hexdigest()[:8]


def dashboard_file(uid: str, folder_title: str) -> str:
    """`dashboards/<folder directory>/<uid>.json`: file provisioning and Git Sync keep the team folders."""
    return f"dashboards/{folder_directory(folder_title)}/{uid}.json"


MANIFESTS_DIR = "kubernetes"
KUSTOMIZATION_FILE = f"{MANIFESTS_DIR}/kustomization.yaml"


def manifest_file(kind: str, name: str) -> str:
    """`kubernetes/<kind>/<name>.yaml`: one object per file."""
    return f"{MANIFESTS_DIR}/{kind.lower()}/{name}.yaml"


def rule_object_name(model: str) -> str:
    """The PrometheusRule of a model's rule file."""
    return f"llm-{model}"


ALERTMANAGER_CONFIG_NAME = "llm-alert-routing"  # the AlertmanagerConfig of alerts/alertmanager.yaml


def model_dashboard_uid(model: str) -> str:
    """`llm-model-<id>`, shortened with a hash when longer than Grafana's 40 characters."""
    return _uid("llm-model-", model)


def folder_uid(team: str) -> str:
    return _uid("llm-team-", team)


def _uid(prefix: str, name: str) -> str:
    uid = prefix + name
    if len(uid) <= grafana_facts.UID_MAX:
        return uid
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{uid[:grafana_facts.UID_MAX - 9]}-{digest}"
