"""NVIDIA DCGM exporter: per-GPU gauges, joined to models by `namespace` and `pod`.

The pod labels exist only in Kubernetes mode (`-k`, on in the Helm chart).
Versions are dcgm-exporter tags (`<DCGM version>-<exporter version>`).
"""
from decimal import Decimal

from generator.catalog.base import COUNTER, GAUGE, WORKLOAD, Custom, Exporter, Metric, PodSignal
from generator.versions import v

CSV = "NVIDIA/dcgm-exporter etc/default-counters.csv; internal/pkg/rendermetrics/render_metrics.go"
# Fields the default counters CSV lists commented out: they appear only once enabled in the CSV the exporter reads.
COMMENTED_OUT = "NVIDIA/dcgm-exporter etc/default-counters.csv (commented out)"
ENABLE = ("Exposed only once uncommented in the counters CSV dcgm-exporter reads (`-f`; the Helm chart mounts "
          "`/etc/dcgm-exporter/default-counters.csv`) and dcgm-exporter restarted.")
# The node label: `Hostname` up to this release; dcgm-exporter commit d5e5f510 (2026-05-12, after the tag)
# renamed it `hostname`.
LOWERCASE_HOSTNAME_AFTER = v("4.5.3-4.8.2")


def node_label(version) -> str:
    """The label carrying the GPU's node name in this dcgm-exporter version."""
    return "hostname" if version > LOWERCASE_HOSTNAME_AFTER else "Hostname"


UTIL = "DCGM_FI_DEV_GPU_UTIL"  # in the default CSV of every release: one series per GPU, allocated or not
XID = "DCGM_FI_DEV_XID_ERRORS"
ONE_GPU = (("gpu", "0"),)  # what a generated test's GPU series carries besides its pod and node


def _xid_events(ctx, window: str) -> str:
    """Per GPU, the XID code when one was reported within `window`: the gauge changed, or a series
    appeared with a code. DCGM keeps the last code until the exporter restarts, so the gauge alone
    would keep an alert firing for days."""
    xid = ctx.selector(XID, scope=WORKLOAD)
    recent = f"{xid} > 0 and (changes({xid}[{window}]) > 0 or ({xid} unless {xid} offset {window}))"
    return ctx.agg("max", ctx.canonical(f"({recent})"), "namespace", "pod", "gpu", "node")


EXPORTER = Exporter(
    name="dcgm",
    title="DCGM exporter",
    default_version=v("3.3.5-3.4.0"),
    oldest=v("3.1.7-3.1.4"),
    metrics=(
        Metric("DCGM_FI_DEV_GPU_UTIL", GAUGE, "percent", "GPU utilization, 0-100 (not a fraction).", CSV),
        Metric("DCGM_FI_DEV_FB_USED", GAUGE, "mebibytes", "Framebuffer memory used, MiB.", CSV),
        Metric("DCGM_FI_DEV_FB_FREE", GAUGE, "mebibytes", "Framebuffer memory free, MiB.", CSV),
        Metric("DCGM_FI_DEV_POWER_USAGE", GAUGE, "watts", "Power draw, W.", CSV),
        Metric("DCGM_FI_DEV_GPU_TEMP", GAUGE, "celsius", "GPU temperature, degrees C.", CSV),
        Metric("DCGM_FI_DEV_XID_ERRORS", GAUGE, "xid",
               "Value of the last XID error encountered (0 = none).", CSV),
        Metric("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", GAUGE, "ratio",
               "Share of cycles the tensor pipes are active, 0-1 (profiling field).", CSV),
        Metric("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", COUNTER, "millijoules",
               "Energy since boot, mJ.", CSV),
        Metric("DCGM_FI_DEV_SM_CLOCK", GAUGE, "megahertz", "SM clock frequency, MHz.", CSV),
        Metric("DCGM_FI_DEV_MEM_CLOCK", GAUGE, "megahertz", "Memory clock frequency, MHz.", CSV),
        Metric("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", COUNTER, "nvlink_counter",
               "NVLink bandwidth counter summed over all lanes (the CSV states no unit).", CSV),
        Metric("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", COUNTER, "rows",
               "Memory rows remapped for correctable errors.", CSV),
        Metric("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", COUNTER, "rows",
               "Memory rows remapped for uncorrectable errors.", CSV),
        Metric("DCGM_FI_DEV_ROW_REMAP_FAILURE", GAUGE, "boolean",
               "Whether remapping of rows has failed (1 = failed: the GPU needs service).", CSV),
        # Not in the default CSV: the GPU dashboard names them instead of charting them.
        Metric("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", COUNTER, "errors",
               "Double-bit (uncorrectable) volatile ECC errors.", COMMENTED_OUT,
               requires=ENABLE),
        Metric("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", COUNTER, "errors",
               "Single-bit (corrected) volatile ECC errors.", COMMENTED_OUT,
               requires=ENABLE),
        Metric("DCGM_FI_DEV_POWER_VIOLATION", COUNTER, "microseconds",
               "Time the clocks were held down by the power limit, us.", COMMENTED_OUT,
               requires=ENABLE),
        Metric("DCGM_FI_DEV_THERMAL_VIOLATION", COUNTER, "microseconds",
               "Time the clocks were held down by temperature, us.", COMMENTED_OUT,
               requires=ENABLE),
    ),
    requirements=("Run dcgm-exporter in Kubernetes mode (`-k`) so GPU series carry namespace and pod.",),
    # Read on the model's GPUs: the series whose workload labels (`collectors.dcgm`) name the model's pods.
    signals={
        "gpu_utilization": PodSignal(UTIL, "avg", divisor=Decimal(100), labels=ONE_GPU),  # 0-1
        "gpu_memory": PodSignal("DCGM_FI_DEV_FB_USED", "max", rest="DCGM_FI_DEV_FB_FREE", labels=ONE_GPU),
        "gpu_power": PodSignal("DCGM_FI_DEV_POWER_USAGE", "sum", labels=ONE_GPU),
        "gpu_xid": PodSignal(XID, "max", labels=ONE_GPU),
        "gpu_xid_new": Custom((XID,), _xid_events),
        "gpus": PodSignal(UTIL, "count", labels=ONE_GPU),
        # Joules per second (W), from the energy counter in millijoules since boot.
        "gpu_energy": PodSignal("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "sum", divisor=Decimal(1000), counter=True,
                                labels=ONE_GPU),
    },
)
