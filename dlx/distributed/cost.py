"""A cost model of one synchronous data-parallel step (docs/scaling.md).

    t_step(N)  = t_sample * B / N  +  t_allreduce(N)
    t_allreduce(N) = 2 (N - 1) / N * S / bandwidth  +  2 (N - 1) * latency     (ring allreduce)
    speed-up(N) = t_step(1) / t_step(N)

B: global batch, t_sample: compute seconds per sample on one worker, S: gradient bytes
(parameters x bytes per element). The ring sends each of the 2 (N - 1) chunks of S / N
bytes once per phase (reduce-scatter, then allgather): Patarasuk & Yuan, "Bandwidth optimal
all-reduce algorithms for clusters of workstations" (2009); Baidu's ring-allreduce (2017).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlx.errors import ConfigError


@dataclass(frozen=True)
class Link:
    name: str
    bandwidth: float  # bytes per second, per direction
    latency: float  # seconds per message


ETHERNET_10G = Link("10 Gb/s Ethernet", 1.25e9, 20e-6)
NVLINK = Link("NVLink-class (150 GB/s)", 150e9, 5e-6)


def allreduce_seconds(nbytes: float, n: int, link: Link) -> float:
    """Ring allreduce of ``nbytes`` over ``n`` workers (0 for one worker)."""
    if n < 1:
        raise ConfigError(f"allreduce_seconds: need n >= 1 workers, got {n}")
    return 2 * (n - 1) / n * nbytes / link.bandwidth + 2 * (n - 1) * link.latency


def step_seconds(t_sample: float, batch: int, nbytes: float, n: int, link: Link) -> float:
    return t_sample * batch / n + allreduce_seconds(nbytes, n, link)


def speedup(t_sample: float, batch: int, nbytes: float, n: int, link: Link) -> float:
    """Predicted samples/s of n workers over one worker's, same global batch."""
    return step_seconds(t_sample, batch, nbytes, 1, link) / \
        step_seconds(t_sample, batch, nbytes, n, link)
