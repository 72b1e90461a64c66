"""NVIDIA DCGM exporter: per-GPU gauges, joined to models by `namespace` and `pod`.

The pod labels exist only in Kubernetes mode (`-k`, on in the Helm chart).
Versions are dcgm-exporter tags (`<DCGM version>-<exporter version>`).
"""
from generator.catalog.base import COUNTER, GAUGE, Exporter, Metric
from generator.versions import v

CSV = "NVIDIA/dcgm-exporter etc/default-counters.csv; internal/pkg/rendermetrics/render_metrics.go"
# The node label: `Hostname` up to this release; dcgm-exporter commit d5e5f510 (2026-05-12, after the tag)
# renamed it `hostname`.
LOWERCASE_HOSTNAME_AFTER = v("4.5.3-4.8.2")


def node_label(version) -> str:
    """The label carrying the GPU's node name in this dcgm-exporter version."""
    return "hostname" if version > LOWERCASE_HOSTNAME_AFTER else "Hostname"


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
    ),
    requirements=("Run dcgm-exporter in Kubernetes mode (`-k`) so GPU series carry namespace and pod.",),
)
