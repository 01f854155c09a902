"""Running ``helm`` and ``kubectl`` for the installation endpoints, and the commands shown for a manual install.

The binaries are ``$HELM_PATH`` (else ``helm``) and ``$KUBECTL_PATH`` (else ``kubectl``) found on ``PATH``; they are
started without a shell, with the dashboard's environment plus ``KUBECONFIG`` when the dashboard was given one. A
runner made for a caller (:meth:`Runner.as_caller`) gives them the caller's credentials instead: a kubeconfig
written for each run to a private file (mode 0600, removed when the run ends), never on the command line, where
other users of the machine could read it.
A run that takes too long is stopped (helm 5 minutes, kubectl 1 minute) and reported as failed.

An install goes step by step and stops at the first failure; every step's result is kept, and ``on_step`` (when
given) hears of each one as it starts and ends, which is how the progress of a long install is shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shlex
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import yaml

from airunway import safeyaml

HELM_TIMEOUT = 300.0
KUBECTL_TIMEOUT = 60.0
CHART_DOWNLOADS = Path(tempfile.gettempdir()) / "helm-charts"


@dataclass
class CommandResult:
    success: bool
    stdout: str
    stderr: str
    exit_code: int | None


@dataclass
class Step:
    step: str
    success: bool
    output: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "success": self.success, "output": self.output, "error": self.error}


StepListener = Callable[[str, Step | None], Awaitable[None] | None]
"""Told ``(name, None)`` when a step starts and ``(name, result)`` when it ends."""


def step_name(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9-]+", "-", text)


@dataclass
class Runner:
    """Runs the two tools; ``kubeconfig`` is passed to them as ``KUBECONFIG``, or ``private_kubeconfig`` (a
    kubeconfig's text, with a caller's token) is written to a private file for each run and passed instead."""

    kubeconfig: str | None = None
    helm_timeout: float = HELM_TIMEOUT
    kubectl_timeout: float = KUBECTL_TIMEOUT
    private_kubeconfig: str | None = field(default=None, repr=False)

    def as_caller(self, kubeconfig_text: str) -> "Runner":
        """This runner acting with the credentials in ``kubeconfig_text`` (never the dashboard's own)."""
        return dataclasses.replace(self, kubeconfig=None, private_kubeconfig=kubeconfig_text)

    @contextmanager
    def _credentials(self) -> Iterator[str | None]:
        if self.private_kubeconfig is None:
            yield self.kubeconfig
            return
        fd, path = tempfile.mkstemp(prefix="airunway-kubeconfig-", suffix=".yaml")  # created 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(self.private_kubeconfig)
            yield path
        finally:
            os.unlink(path)

    def _env(self, kubeconfig: str | None) -> dict[str, str]:
        env = dict(os.environ)
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        return env

    async def _run(self, tool: str, path: str, args: list[str], timeout: float) -> CommandResult:
        with self._credentials() as kubeconfig:
            return await self._exec(tool, path, args, timeout, self._env(kubeconfig))

    async def _exec(self, tool: str, path: str, args: list[str], timeout: float, env: dict[str, str]) -> CommandResult:
        try:
            proc = await asyncio.create_subprocess_exec(
                path, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env,
            )
        except OSError as exc:
            return CommandResult(False, "", f"Failed to execute {tool}: {exc.strerror or exc}", None)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.terminate()
            try:
                out, err = await asyncio.wait_for(proc.communicate(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                out, err = await proc.communicate()
            stderr = err.decode(errors="replace") + f"\nCommand timed out after {int(timeout)} seconds"
            return CommandResult(False, out.decode(errors="replace"), stderr, proc.returncode)
        return CommandResult(proc.returncode == 0, out.decode(errors="replace"), err.decode(errors="replace"),
                             proc.returncode)

    async def helm(self, *args: str) -> CommandResult:
        return await self._run("helm", os.environ.get("HELM_PATH") or "helm", list(args), self.helm_timeout)

    async def kubectl(self, *args: str) -> CommandResult:
        return await self._run("kubectl", os.environ.get("KUBECTL_PATH") or "kubectl", list(args), self.kubectl_timeout)

    async def helm_status(self) -> dict[str, Any]:
        result = await self.helm("version", "--short")
        if result.success:
            return {"available": True, "version": result.stdout.strip()}
        missing = result.stderr.startswith("Failed to execute helm")
        error = "Helm not found. Please install Helm CLI." if missing else result.stderr.strip()
        return {"available": False, "error": error or "Helm not found. Please install Helm CLI."}


# -- installing -------------------------------------------------------------------------------------------------


@dataclass
class Install:
    """One install of a provider's charts, step by step."""

    runner: Runner
    on_step: StepListener | None = None
    results: list[Step] = field(default_factory=list)

    async def _step(self, name: str, run: Callable[[], Awaitable[CommandResult]]) -> bool:
        name = step_name(name)
        await self._tell(name, None)
        result = await run()
        step = Step(name, result.success, result.stdout, result.stderr)
        self.results.append(step)
        await self._tell(name, step)
        return result.success

    async def _note(self, name: str, output: str) -> None:
        step = Step(step_name(name), True, output)
        self.results.append(step)
        await self._tell(step.step, step)

    async def _tell(self, name: str, step: Step | None) -> None:
        if self.on_step is not None:
            outcome = self.on_step(name, step)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def run(self, repos: list[dict], charts: list[dict]) -> bool:
        """Add the repositories, update them, then install each chart; False at the first failed step."""
        for repo in repos:
            if not await self._step(f"repo-add-{repo['name']}", lambda r=repo: self.runner.helm(
                    "repo", "add", r["name"], r["url"], "--force-update")):
                return False
        if repos and not await self._step("repo-update", lambda: self.runner.helm("repo", "update")):
            return False
        for chart in charts:
            if not await self._chart(chart):
                return False
        return True

    async def _chart(self, chart: dict) -> bool:
        for url in chart.get("preCrdUrls") or []:
            segment = url.rstrip("/").rsplit("/", 1)[-1]
            if not await self._step(f"apply-crd-{segment}", lambda u=url: self.runner.kubectl("apply", "-f", u)):
                return False
        if chart.get("preInstallMissingCrds"):
            with tempfile.TemporaryDirectory(prefix="airunway-chart-") as workdir:
                chart_dir = await self._pull(chart, Path(workdir))
                if chart_dir is None or not await self._missing_crds(chart_dir, Path(workdir)):
                    return False
                return await self._step(f"install-{chart['name']}", lambda: self.runner.helm(
                    *install_args(chart, str(chart_dir), with_version=False, skip_crds=True)))
        source = chart["chart"]
        if chart.get("fetchUrl"):
            CHART_DOWNLOADS.mkdir(parents=True, exist_ok=True)
            pulled = await self.runner.helm("pull", chart["fetchUrl"], "--destination", str(CHART_DOWNLOADS))
            if not pulled.success:
                self.results.append(Step(step_name(f"pull-chart-{chart['name']}"), False, pulled.stdout, pulled.stderr))
                return False
            source = str(CHART_DOWNLOADS / chart["fetchUrl"].rstrip("/").rsplit("/", 1)[-1])
        return await self._step(f"install-{chart['name']}", lambda: self.runner.helm(
            *install_args(chart, source, with_version=not chart.get("fetchUrl"), skip_crds=bool(chart.get("skipCrds")))))

    async def _pull(self, chart: dict, workdir: Path) -> Path | None:
        ref = chart.get("fetchUrl") or chart["chart"]
        if Path(ref).is_dir():
            return Path(ref)
        args = ["pull", ref, "--untar", "--untardir", str(workdir)]
        if chart.get("version") and not chart.get("fetchUrl"):
            args += ["--version", str(chart["version"])]
        pulled = await self.runner.helm(*args)
        found = next((p.parent for p in sorted(workdir.rglob("Chart.yaml"))), None) if pulled.success else None
        if found is None:
            error = pulled.stderr or f"no Chart.yaml found in the pulled chart {ref}"
            self.results.append(Step(step_name(f"pull-chart-{chart['name']}"), False, pulled.stdout, error))
            await self._tell(self.results[-1].step, self.results[-1])
        return found

    async def _missing_crds(self, chart_dir: Path, workdir: Path) -> bool:
        """Apply the chart's CRDs that the cluster does not have yet (ones it has are left as they are)."""
        for name, doc in chart_crds(chart_dir).items():
            short = step_name(name)
            checked = await self.runner.kubectl("get", "crd", name, "--ignore-not-found", "-o", "name")
            if not checked.success:
                self.results.append(Step(f"check-crd-{short}", False, checked.stdout, checked.stderr))
                await self._tell(f"check-crd-{short}", self.results[-1])
                return False
            if checked.stdout.strip():
                await self._note(f"skip-crd-{short}", f"CRD {name} already exists; leaving it as it is")
                continue
            path = workdir / f"crd-{short}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            if not await self._step(f"apply-crd-{short}", lambda p=path: self.runner.kubectl(
                    "apply", "--server-side", "--force-conflicts", "-f", str(p))):
                return False
        return True


def chart_crds(chart_dir: Path) -> dict[str, dict]:
    """The CustomResourceDefinitions in every ``crds/`` folder of a chart (and its subcharts), by name."""
    found: dict[str, dict] = {}
    for folder in sorted(p for p in chart_dir.rglob("crds") if p.is_dir()):
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                docs = safeyaml.load_all(path.read_text())
            except (OSError, yaml.YAMLError):
                continue
            for doc in docs:
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    name = (doc.get("metadata") or {}).get("name")
                    if name and name not in found:
                        found[name] = doc
    return found


def install_args(chart: dict, source: str, *, with_version: bool, skip_crds: bool) -> list[str]:
    args = ["upgrade", chart["name"], source, "--install", "--namespace", chart["namespace"]]
    if chart.get("createNamespace"):
        args.append("--create-namespace")
    if with_version and chart.get("version"):
        args += ["--version", str(chart["version"])]
    for key, value in (chart.get("values") or {}).items():
        args += ["--set-json", f"{key}={json.dumps(value, separators=(',', ':'))}"]
    if skip_crds:
        args.append("--skip-crds")
    return args


async def uninstall(runner: Runner, charts: list[dict], on_step: StepListener | None = None) -> list[Step]:
    """``helm uninstall`` of each chart, last installed first; every chart is tried."""
    install = Install(runner, on_step)
    for chart in reversed(charts):
        await install._step(f"uninstall-{chart['name']}", lambda c=chart: runner.helm(
            "uninstall", c["name"], "--namespace", c["namespace"]))
    return install.results


# -- the commands shown for a manual install ---------------------------------------------------------------------


def _quote(text: str) -> str:
    return shlex.quote(text)


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _set_json(chart: dict) -> list[str]:
    return [f"--set-json {_single_quoted(f'{k}={json.dumps(v, separators=(chr(44), chr(58)))}')}"
            for k, v in (chart.get("values") or {}).items()]


def _prefix(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "CHART"


def install_commands(repos: list[dict], charts: list[dict]) -> list[str]:
    """Shell commands that do what :class:`Install` does, for an admin to run by hand."""
    commands = [f"helm repo add {_quote(r['name'])} {_quote(r['url'])}" for r in repos]
    if repos:
        commands.append("helm repo update")
    for chart in charts:
        commands += [f"kubectl apply -f {_quote(u)}" for u in chart.get("preCrdUrls") or []]
        create = ["--create-namespace"] if chart.get("createNamespace") else []
        version = [f"--version {_quote(str(chart['version']))}"] if chart.get("version") else []
        namespace = ["--namespace", _quote(chart["namespace"])]
        if chart.get("preInstallMissingCrds"):
            p = _prefix(chart["name"])
            ref = chart.get("fetchUrl") or chart["chart"]
            pull_version = [] if chart.get("fetchUrl") else version
            commands.append(" ".join([
                f'({p}_CHART_DIR=$(mktemp -d) && trap \'rm -rf "${p}_CHART_DIR"\' EXIT &&',
                "helm pull", _quote(ref), "--untar", "--untardir", f'"${p}_CHART_DIR"', *pull_version, "&&",
                f'{p}_CHART_PATH=$(dirname "$(find "${p}_CHART_DIR" -name Chart.yaml | sort | head -n 1)")',
                f'&& test -n "${p}_CHART_PATH" &&',
                f'find "${p}_CHART_PATH" -path "*/crds/*" \\( -name "*.yaml" -o -name "*.yml" \\) | sort |',
                "while read -r crd; do",
                'name=$(kubectl create --dry-run=client -o jsonpath="{.metadata.name}" -f "$crd");',
                'kubectl get crd "$name" >/dev/null 2>&1 ||',
                'kubectl apply --server-side --force-conflicts -f "$crd"; done &&',
                "helm install", _quote(chart["name"]), f'"${p}_CHART_PATH"', *namespace, *create,
                *_set_json(chart), "--skip-crds)",
            ]))
        elif chart.get("fetchUrl"):
            commands.append(" ".join(["helm fetch", _quote(chart["fetchUrl"]), "&& helm install",
                                      _quote(chart["name"]), _quote(chart["chart"]), *namespace, *create]))
        else:
            skip = ["--skip-crds"] if chart.get("skipCrds") else []
            commands.append(" ".join(["helm install", _quote(chart["name"]), _quote(chart["chart"]), *namespace,
                                      *create, *version, *_set_json(chart), *skip]))
    return commands
