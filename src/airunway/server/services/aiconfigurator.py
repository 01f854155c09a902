"""NVIDIA AI Configurator: the best serving configuration (parallelism, batch size, aggregated or prefill/decode)
for a model on a GPU type, from the ``aiconfigurator`` CLI when it is installed next to the dashboard.

Without the CLI (or in a pod, where it is not offered) analysis fails (``success: false`` and why) and gives the
default configuration to fall back on; every failed analysis carries that configuration, ``mode`` and ``replicas``. The CLI
writes its ranking as ``best_config_topn.csv`` under ``agg/`` and ``disagg/`` of a folder it is given; that folder
is removed afterwards.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("airunway.server.aiconfigurator")

MODEL_ID = re.compile(r"^[a-zA-Z0-9_-]+(/[a-zA-Z0-9._-]+)?$")
STATUS_TTL = 300.0
MISSING_TTL = 60.0
RUN_TIMEOUT = 600.0
BACKEND_ORDER = ("vllm", "sglang", "trtllm")

# GPU labels as the CLI's systems name them (substring of the hyphenated, lower-cased label); first match wins.
SYSTEMS = (("h100", "h100_sxm"), ("h200", "h200_sxm"), ("a100", "a100_sxm"), ("gb200", "gb200"), ("b200", "b200"),
           ("l40", "l40s"))
BACKENDS = {"h100_sxm": ("vllm", "sglang", "trtllm")}

GPU_TYPES = (
    (("nvidia-a100-80gb", "nvidia-a100-sxm4-80gb", "nvidia-a100-pcie-80gb", "a100-80gb"), "A100-80GB"),
    (("nvidia-a100-40gb", "nvidia-a100-sxm4-40gb", "nvidia-a100-pcie-40gb", "a100-40gb"), "A100-40GB"),
    (("nvidia-h100-80gb", "nvidia-h100-80gb-hbm3", "nvidia-h100-sxm5-80gb", "nvidia-h100-pcie", "h100-80gb"),
     "H100-80GB"),
    (("nvidia-l40s",), "L40S"), (("nvidia-l40",), "L40"), (("nvidia-l4",), "L4"),
    (("nvidia-t4", "tesla-t4", "nvidia-tesla-t4"), "T4"),
    (("nvidia-v100-32gb", "tesla-v100-32gb", "v100-32gb"), "V100-32GB"),
    (("nvidia-v100", "tesla-v100", "nvidia-tesla-v100", "v100-16gb"), "V100"),
)


def _hyphenated(text: str) -> str:
    return re.sub(r"[-_\s]+", "-", text.strip().lower())


def normalize_gpu_type(label: str) -> str:
    """A GPU label as one short GPU type (``NVIDIA-A100-SXM4-80GB`` → ``A100-80GB``)."""
    key = _hyphenated(label)
    for names, gpu in GPU_TYPES:
        if key in names:
            return gpu
    for names, gpu in GPU_TYPES:
        if any(name.removeprefix("nvidia-") in key for name in names):
            return gpu
    return re.sub(r"^nvidia-?", "", key).upper()


def system_of(gpu_type: str) -> str:
    key = _hyphenated(gpu_type)
    return next((system for word, system in SYSTEMS if word in key), "h100_sxm")


def default_config(gpu_count: int) -> dict[str, Any]:
    return {"tensorParallelDegree": min(gpu_count, 8), "maxBatchSize": 256, "gpuMemoryUtilization": 0.9,
            "maxModelLen": 4096}


def failed(gpu_count: int, error: str, **extra: Any) -> dict[str, Any]:
    """A failed analysis: the reason, and the default configuration (aggregated, one replica) to fall back on."""
    return {"success": False, "error": error, "config": default_config(gpu_count), "mode": "aggregated",
            "replicas": 1} | extra


class AIConfigurator:
    def __init__(self, running_in_cluster: bool) -> None:
        self.running_in_cluster = running_in_cluster
        self._status: tuple[float, dict] | None = None

    async def _run(self, *args: str, timeout: float) -> tuple[int | None, str, str]:
        try:
            proc = await asyncio.create_subprocess_exec(
                "aiconfigurator", *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
        except OSError:
            return None, "", "AI Configurator CLI not found"
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return None, "", f"AI Configurator did not finish within {int(timeout)} seconds"
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    async def status(self) -> dict[str, Any]:
        if os.environ.get("AIRUNWAY_DISABLE_AICONFIGURATOR", "").lower() == "true":
            return {"available": False, "error": "AI Configurator CLI not found (disabled by "
                                                 "AIRUNWAY_DISABLE_AICONFIGURATOR)"}
        if self.running_in_cluster:
            return {"available": False, "runningInCluster": True,
                    "error": "AI Configurator is only available when running AI Runway locally"}
        if self._status and time.monotonic() < self._status[0]:
            return self._status[1]
        code, out, err = await self._run("version", timeout=30)
        if code == 0:
            found = re.search(r"aiconfigurator\s+([\d.]+)", out)
            result = {"available": True, "version": found.group(1) if found else out.strip()}
            ttl = STATUS_TTL
        elif code is None:
            result, ttl = {"available": False, "error": err}, MISSING_TTL
        else:
            result, ttl = {"available": False, "error": f"AI Configurator exited with code {code}: {err.strip()}"}, \
                MISSING_TTL
        self._status = (time.monotonic() + ttl, result)
        return result

    async def analyze(self, model_id: str, gpu_type: str, gpu_count: int, optimize_for: str | None = None,
                      max_latency_ms: float | None = None) -> dict[str, Any]:
        if not MODEL_ID.match(model_id):
            return failed(gpu_count, "Invalid model ID format. Expected format: org/model-name or model-name")
        status = await self.status()
        if not status["available"]:
            return failed(gpu_count, status.get("error") or "AI Configurator CLI not found",
                          warnings=["AI Configurator not available, using default configuration"])
        system = system_of(gpu_type)
        supported = list(BACKENDS.get(system, ("trtllm",)))
        backend = next(b for b in BACKEND_ORDER if b in supported)
        folder = Path.home() / ".airunway" / f"aiconfigurator-{int(time.time() * 1000)}-{secrets.token_hex(4)}"
        folder.mkdir(parents=True, exist_ok=True)
        args = ["cli", "default", "--model", model_id, "--total-gpus", str(max(gpu_count, 2)), "--system", system,
                "--backend", backend, "--save-dir", str(folder)]
        if max_latency_ms:
            args += ["--ttft", str(max_latency_ms)]
        try:
            code, out, err = await self._run(*args, timeout=RUN_TIMEOUT)
            if code != 0:
                return failed(gpu_count, friendly_error(err or out))
            best = {kind: first_row(folder, kind) for kind in ("agg", "disagg")}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result = choose(best, optimize_for or "throughput")
        if result is None:
            return failed(gpu_count, "AI Configurator produced no configuration")
        result |= {"backend": backend, "supportedBackends": supported}
        if backend != "vllm":
            result.setdefault("warnings", []).append(
                f"Using {backend.upper()} backend (vLLM not available for {gpu_type})")
        return result


def first_row(folder: Path, kind: str) -> dict[str, str] | None:
    for path in sorted(folder.rglob("best_config_topn.csv")):
        if f"/{kind}/" in f"/{path.relative_to(folder).as_posix()}":
            with path.open(newline="") as f:
                return next(csv.DictReader(f), None)
    return None


def _number(row: dict[str, str], *keys: str) -> float | None:
    for key in keys:
        try:
            return float(row[key])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _tp(text: str | None) -> int | None:
    found = re.search(r"tp(\d+)", text or "")
    return int(found.group(1)) if found else None


def choose(best: dict[str, dict | None], optimize_for: str) -> dict[str, Any] | None:
    agg, disagg = best.get("agg"), best.get("disagg")
    if agg is None and disagg is None:
        return None
    if agg is None or disagg is None:
        pick = "disagg" if agg is None else "agg"
    elif optimize_for == "latency":
        pick = "disagg" if (_number(disagg, "ttft") or 1e18) < (_number(agg, "ttft") or 1e18) else "agg"
    else:
        rate = lambda r: _number(r, "tokens/s/gpu_cluster", "tokens/s/gpu") or 0  # noqa: E731
        pick = "disagg" if rate(disagg) > rate(agg) else "agg"
    row = best[pick] or {}
    ttft = _number(row, "ttft") or 0
    concurrency = re.match(r"\s*(\d+)", row.get("concurrency") or "")
    config = {"tensorParallelDegree": int(_number(row, "tp") or 1), "pipelineParallelDegree": int(_number(row, "pp")
                                                                                                   or 1),
              "maxBatchSize": int(_number(row, "bs") or 256), "gpuMemoryUtilization": 0.8,
              "maxModelLen": int(_number(row, "isl") or 4096) + int(_number(row, "osl") or 1000)}
    if concurrency:
        config["maxNumSeqs"] = int(concurrency.group(1))
    result: dict[str, Any] = {
        "success": True, "config": config, "mode": "disaggregated" if pick == "disagg" else "aggregated",
        "replicas": int(_number(row, "replicas") or 1),
        "estimatedPerformance": {"throughputTokensPerSec": _number(row, "tokens/s", "tokens/s/gpu") or 0,
                                 "latencyP50Ms": ttft, "latencyP99Ms": ttft * 1.5, "gpuUtilization": 0.8},
    }
    if pick == "disagg":
        config["prefillTensorParallel"] = _tp(row.get("(p)parallel"))
        config["decodeTensorParallel"] = _tp(row.get("(d)parallel"))
        result["prefillReplicas"] = int(_number(row, "(p)workers") or 1)
        result["decodeReplicas"] = int(_number(row, "(d)workers") or 1)
    return result


def friendly_error(output: str) -> str:
    """What went wrong, in a line a user can act on."""
    text = output.strip()
    if re.search(r"gated|401|Unauthorized", text):
        return ("The model is gated on HuggingFace: sign in to HuggingFace (huggingface-cli login) with access to it "
                "and try again")
    if "No successful experiment runs to compare" in text:
        return "The model is too large for this GPU type and count; try more GPUs or a larger GPU"
    if re.search(r"TTFT|TPOT", text):
        return "No configuration meets the latency target; relax the maximum latency and try again"
    for line in text.splitlines():
        if re.search(r"ValueError|TypeError|error:|Error:", line):
            return line.strip()
    lines = [line for line in text.splitlines() if line.strip() and "WARNING" not in line]
    return lines[-1].strip() if lines else "AI Configurator failed"
