"""The ``airunway`` command.

Every subcommand is listed here; the heavy imports happen inside each command so
that ``airunway --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from typer.core import TyperCommand

app = typer.Typer(
    help="AI Runway: deploy and run large language models on Kubernetes.",
    no_args_is_help=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The local control plane (kube-apiserver, etcd, kwok…) for development and tests.")
app.add_typer(sandbox_app, name="sandbox")

console = Console()
err = Console(stderr=True)


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """With no subcommand, runs the dashboard."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(dashboard)


NO_CLUSTER = (
    "no Kubernetes cluster is configured: pass --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config "
    "for the cluster the dashboard should use; or run `airunway local` (what `make run` does) for the local "
    "sandbox cluster with the controllers and the dashboard"
)


def _serve(kubeconfig: Optional[Path], host: str, port: int) -> None:
    import uvicorn

    from airunway.server.app import Settings, create_app

    err.print(f"AI Runway dashboard on http://{host}:{port} (API under /api; Ctrl-C stops it)")
    uvicorn.run(create_app(Settings(kubeconfig=str(kubeconfig) if kubeconfig else None)),
                host=host, port=port, log_level="warning")


def _logging() -> None:
    import os

    from airunway.kube import configure_logging

    configure_logging(os.environ.get("LOG_LEVEL") or "info", "text")


@app.command()
def dashboard(
    kubeconfig: Optional[Path] = typer.Option(None, help="Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(3001, envvar="PORT", help="Port to listen on."),
) -> None:
    """Run the dashboard: the REST API and the web UI, for the configured cluster.

    It never starts a cluster: with none configured (no --kubeconfig, $KUBECONFIG or ~/.kube/config, not in a pod)
    it exits with an error; `airunway local` runs the local sandbox cluster with the controllers and the dashboard.
    """
    from airunway.local import configured_cluster

    if kubeconfig is None and configured_cluster() is None:
        err.print(f"[red]error:[/red] {NO_CLUSTER}")
        raise typer.Exit(1)
    _logging()
    _serve(kubeconfig, host, port)


@app.command("local")
def local_stack(
    host: str = typer.Option("127.0.0.1", help="Address the dashboard listens on."),
    port: int = typer.Option(3001, envvar="PORT", help="Port the dashboard listens on."),
    state_dir: Optional[Path] = typer.Option(
        None, "--state-dir", help="Where the sandbox keeps its state (default: the airunway cache folder)."),
) -> None:
    """Run AI Runway on this machine: the sandbox cluster, the controllers and the dashboard (`make run`).

    The local sandbox is built and started when needed, then the core controller and the provider controllers, then
    the dashboard for them. It always uses the sandbox, whatever $KUBECONFIG says. Ctrl-C stops the dashboard and the controllers; the
    sandbox keeps running until `airunway sandbox down`.
    """
    import os
    import shutil

    from airunway import local

    _logging()
    try:
        stack = local.start(lambda msg: err.print(f"[dim]{msg}[/dim]"), state_dir=state_dir)
    except RuntimeError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    os.environ["KUBECONFIG"] = str(stack.kubeconfig)
    for tool in ("helm", "kubectl"):  # the installation endpoints use the sandbox's helm and kubectl
        if not os.environ.get(f"{tool.upper()}_PATH") and shutil.which(tool) is None:
            os.environ[f"{tool.upper()}_PATH"] = str(stack.sandbox.bin_dir / tool)
    err.print(f"Sandbox cluster ready: export KUBECONFIG={stack.kubeconfig}", soft_wrap=True)
    try:
        _serve(stack.kubeconfig, host, port)
    finally:
        stack.stop()
        err.print("Controllers stopped; the sandbox keeps running (airunway sandbox down stops it).")


class _GoBoolFlags(TyperCommand):
    """Accepts Go-style boolean flags as upstream's manifests write them: ``--flag``, ``--flag=true|false``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        negations = {
            opt: param.secondary_opts[0]
            for param in self.params
            if getattr(param, "is_flag", False) and getattr(param, "secondary_opts", None)
            for opt in param.opts
        }
        normalized = []
        for arg in args:
            name, equals, value = arg.partition("=")
            if not equals or name not in negations:
                normalized.append(arg)
            elif value.strip().lower() in ("1", "t", "true", "yes"):
                normalized.append(name)
            elif value.strip().lower() in ("0", "f", "false", "no"):
                normalized.append(negations[name])
            else:
                raise typer.BadParameter(f"{name} takes true or false, not {value!r}", ctx)
        return super().parse_args(ctx, normalized)


def _flag(default: bool, name: str, help: str):
    return typer.Option(default, f"{name}/--no-{name[2:]}", help=help)


@app.command(cls=_GoBoolFlags)
def controller(
    kubeconfig: Optional[Path] = typer.Option(None, help="Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)."),
    metrics_bind_address: str = typer.Option("0", help="Address of the metrics endpoint, e.g. :8443; 0 disables it."),
    health_probe_bind_address: str = typer.Option(":8081", help="Address of /healthz and /readyz."),
    leader_elect: bool = _flag(False, "--leader-elect", "Elect a leader so that only one replica acts."),
    leader_election_namespace: Optional[str] = typer.Option(
        None, help="Namespace of the leader-election Lease (default: $POD_NAMESPACE or the pod's namespace)."
    ),
    leader_elect_lease_duration: float = typer.Option(15.0, help="Seconds a lease is valid without renewal."),
    leader_elect_renew_deadline: float = typer.Option(10.0, help="Seconds the leader keeps trying to renew."),
    leader_elect_retry_period: float = typer.Option(2.0, help="Seconds between lease attempts."),
    metrics_secure: bool = _flag(True, "--metrics-secure", "Serve metrics over HTTPS with authentication and authorization."),
    metrics_cert_path: str = typer.Option("", help="Folder with the metrics serving certificate (default: self-signed)."),
    metrics_cert_name: str = typer.Option("tls.crt", help="Certificate file name in --metrics-cert-path."),
    metrics_cert_key: str = typer.Option("tls.key", help="Key file name in --metrics-cert-path."),
    enable_http2: bool = _flag(False, "--enable-http2", "Allow HTTP/2 on the metrics and webhook servers."),
    enable_provider_selector: bool = _flag(
        True, "--enable-provider-selector", "Choose engine and provider automatically when the spec does not name them."
    ),
    max_concurrent_reconciles: int = typer.Option(4, help="ModelDeployments reconciled at once (never one twice at once)."),
    watch_timeout_seconds: Optional[int] = typer.Option(
        None, hidden=True, help="Seconds each watch stays open before it is renewed (default: 300–600, random)."
    ),
    webhook_port: int = typer.Option(9443, help="Port of the admission webhook server."),
    webhook_host: str = typer.Option("", help="Address the webhook server binds (default: all)."),
    webhook_cert_dir: Path = typer.Option(Path("/tmp/k8s-webhook-server/serving-certs"), help="Folder of the webhook serving certificate."),
    webhook_extra_host: list[str] = typer.Option(
        [], help="Extra DNS name or IP for the webhook certificate (repeatable), e.g. 127.0.0.1 outside a cluster."
    ),
    disable_cert_rotation: bool = _flag(False, "--disable-cert-rotation", "Do not generate and rotate the webhook certificate."),
    cert_service_name: str = typer.Option("airunway-webhook-service", help="Webhook Service name; the certificate is for <name>.<POD_NAMESPACE>.svc."),
    validating_webhook_configuration: str = typer.Option(
        "airunway-validating-webhook-configuration", hidden=True,
        help="ValidatingWebhookConfiguration whose caBundle the controller keeps current.",
    ),
    mutating_webhook_configuration: str = typer.Option(
        "airunway-mutating-webhook-configuration", hidden=True,
        help="MutatingWebhookConfiguration whose caBundle the controller keeps current.",
    ),
    gateway_name: str = typer.Option("", help="Gateway to route through (with --gateway-namespace)."),
    gateway_namespace: str = typer.Option("", help="Namespace of --gateway-name."),
    epp_service_port: int = typer.Option(9002, help="Port of the endpoint picker Service."),
    epp_image: str = typer.Option("", help="Endpoint picker image (default: the Gateway API Inference Extension release's)."),
    patch_gateway_allowed_routes: bool = _flag(
        True, "--patch-gateway-allowed-routes", "Let Gateways accept routes from namespaces with ModelDeployments."
    ),
    gateway_detection_interval: float = typer.Option(
        60.0, hidden=True, help="Seconds before asking again whether the Gateway API Inference Extension is installed."
    ),
    provider_heartbeat_timeout: float = typer.Option(
        180.0, help="Seconds without a provider heartbeat after which the provider is not chosen automatically and "
        "its finalizer is removed from deployments being deleted.",
    ),
    zap_log_level: str = typer.Option("info", "--zap-log-level", help="debug, info, warning or error."),
    zap_encoder: str = typer.Option("json", "--zap-encoder", help="json, or console for key=value lines."),
) -> None:
    """Run the core controller: admission webhooks, engine and provider selection, status.

    Environment: POD_NAMESPACE (needed for certificate rotation), ENABLE_WEBHOOKS=false to run without webhooks.
    """
    import asyncio

    from airunway.controller.app import run
    from airunway.controller.migration import MigrationFailed
    from airunway.controller.options import ControllerOptions, OptionsError
    from airunway.kube import ConfigError, LeaderElectionLost, configure_logging

    configure_logging(zap_log_level, "text" if zap_encoder == "console" else "json")
    options = ControllerOptions.from_environment(
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        metrics_bind_address=metrics_bind_address,
        health_probe_bind_address=health_probe_bind_address,
        leader_elect=leader_elect,
        leader_election_namespace=leader_election_namespace,
        lease_duration=leader_elect_lease_duration,
        renew_deadline=leader_elect_renew_deadline,
        retry_period=leader_elect_retry_period,
        metrics_secure=metrics_secure,
        metrics_cert_path=metrics_cert_path,
        metrics_cert_name=metrics_cert_name,
        metrics_cert_key=metrics_cert_key,
        enable_http2=enable_http2,
        enable_provider_selector=enable_provider_selector,
        max_concurrent_reconciles=max_concurrent_reconciles,
        watch_timeout=watch_timeout_seconds,
        webhook_port=webhook_port,
        webhook_host=webhook_host,
        webhook_cert_dir=webhook_cert_dir,
        webhook_extra_hosts=list(webhook_extra_host),
        disable_cert_rotation=disable_cert_rotation,
        cert_service_name=cert_service_name,
        validating_webhook_configuration=validating_webhook_configuration,
        mutating_webhook_configuration=mutating_webhook_configuration,
        gateway_name=gateway_name,
        gateway_namespace=gateway_namespace,
        epp_service_port=epp_service_port,
        epp_image=epp_image,
        patch_gateway_allowed_routes=patch_gateway_allowed_routes,
        gateway_detection_interval=gateway_detection_interval,
        provider_heartbeat_timeout=provider_heartbeat_timeout,
    )
    try:
        asyncio.run(run(options))
    except (OptionsError, ConfigError, ValueError, MigrationFailed) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    except LeaderElectionLost as exc:
        err.print(f"[red]error:[/red] {exc}; exiting so that the process is restarted")
        raise typer.Exit(1)


class _ProviderCommand(_GoBoolFlags):
    """``airunway provider``: the provider names and each provider's own flags come from the provider registry, which
    is loaded only when this command runs or shows its help (it imports every provider)."""

    registry_loaded = False
    owners: dict[str, tuple[str, str, str]] = {}
    """Parameter name of a provider flag → (provider, field of its options, flag)."""

    def get_params(self, ctx: typer.Context) -> list:
        if not self.registry_loaded:
            self.load_registry()
        return super().get_params(ctx)

    def load_registry(self) -> None:
        import inspect

        from airunway.providers.registry import PROVIDERS

        self.registry_loaded = True
        listing = ", ".join(f"{name} ({descriptor.display})" for name, descriptor in PROVIDERS.items())
        for param in self.params:
            if param.name == "name":
                param.help = f"The provider: {listing}."
        # Typer makes the options, as it would for a function with one keyword parameter per provider flag.
        parameters, owners = [], {}
        for name, descriptor in PROVIDERS.items():
            for field, flag in descriptor.flags.declared().items():
                key = f"{name}_{field}"
                owners[key] = (name, field, flag.name)
                option = typer.Option([] if flag.repeated else None, flag.name, help=flag.help, metavar=flag.metavar,
                                      rich_help_panel=f"{descriptor.display} only", show_default=False)
                parameters.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=option,
                                                    annotation=list[str] if flag.repeated else Optional[str]))

        def flags(**values: object) -> None: ...

        flags.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        holder = typer.Typer(add_completion=False)
        holder.command()(flags)
        self.params.extend(typer.main.get_command(holder).params)
        self.owners = owners

    def invoke(self, ctx: typer.Context):
        given = {}
        for param in self.owners:
            value = ctx.params.pop(param, None)
            if value not in (None, (), []):
                given[param] = value
        ctx.meta["provider_flags"] = given
        return super().invoke(ctx)


def _provider_flags(ctx: typer.Context, name: str):
    """The chosen provider's own options from the flags given; a usage error for an unknown provider, another
    provider's flag, or a bad value."""
    from airunway.providers.descriptor import FlagError
    from airunway.providers.registry import UnknownProvider, provider

    command: _ProviderCommand = ctx.command  # type: ignore[assignment]
    try:
        descriptor = provider(name)
    except UnknownProvider as exc:
        raise typer.BadParameter(str(exc), ctx, param_hint="NAME") from None
    values = {}
    for param, value in ctx.meta["provider_flags"].items():
        owner, field, flag = command.owners[param]
        if owner != name:
            raise typer.BadParameter(f"only the {owner} provider takes it, not {name}", ctx, param_hint=flag)
        values[field] = list(value) if isinstance(value, tuple) else value
    try:
        return descriptor.flags.from_flags(values)
    except FlagError as exc:
        raise typer.BadParameter(exc.problem, ctx, param_hint=exc.flag) from None


@app.command(cls=_ProviderCommand)
def provider(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The provider."),
    kubeconfig: Optional[Path] = typer.Option(None, help="Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)."),
    metrics_bind_address: str = typer.Option(":8443", help="Address of the metrics endpoint; 0 disables it."),
    health_probe_bind_address: str = typer.Option(":8081", help="Address of /healthz and /readyz."),
    leader_elect: bool = _flag(False, "--leader-elect", "Elect a leader so that only one replica acts."),
    leader_election_namespace: Optional[str] = typer.Option(
        None, help="Namespace of the leader-election Lease (default: $POD_NAMESPACE or the pod's namespace)."
    ),
    metrics_secure: bool = _flag(True, "--metrics-secure", "Serve metrics over HTTPS with authentication and authorization."),
    metrics_cert_path: str = typer.Option("", help="Folder with the metrics serving certificate (default: self-signed)."),
    max_concurrent_reconciles: int = typer.Option(4, help="ModelDeployments reconciled at once."),
    heartbeat_seconds: float = typer.Option(60.0, hidden=True, help="Seconds between status heartbeats."),
    zap_log_level: str = typer.Option("info", "--zap-log-level", help="debug, info, warning or error."),
    zap_encoder: str = typer.Option("json", "--zap-encoder", help="json, or console for key=value lines."),
) -> None:
    """Run one provider controller: register its InferenceProviderConfig and run the ModelDeployments selected for it.

    A provider's own flags (marked with its name) are refused for the others.
    """
    import asyncio

    from airunway.kube import ConfigError, LeaderElectionLost, configure_logging
    from airunway.providers.app import ProviderOptions, run

    flags = _provider_flags(ctx, name)
    configure_logging(zap_log_level, "text" if zap_encoder == "console" else "json")
    options = ProviderOptions(
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        metrics_bind_address=metrics_bind_address,
        health_probe_bind_address=health_probe_bind_address,
        leader_elect=leader_elect,
        leader_election_namespace=leader_election_namespace,
        metrics_secure=metrics_secure,
        metrics_cert_path=metrics_cert_path,
        max_concurrent_reconciles=max_concurrent_reconciles,
        heartbeat=heartbeat_seconds,
        flags=flags,
    )
    try:
        asyncio.run(run(name, options))
    except (ConfigError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    except LeaderElectionLost as exc:
        err.print(f"[red]error:[/red] {exc}; exiting so that the process is restarted")
        raise typer.Exit(1)


@app.command()
def render(
    file: str = typer.Option(..., "-f", "--file", help="ModelDeployment YAML file, or - to read standard input."),
    provider_config: list[Path] = typer.Option(
        [],
        "--provider-config",
        help="InferenceProviderConfig YAML file (repeatable; several documents per file allowed). Replaces the five "
        "shipped providers. A config counts as ready unless its status.ready is false.",
    ),
    output: Optional[str] = typer.Option(
        None, "-o", "--output", help="yaml or json: print only the rendered ModelDeployment. Default: a readable report."
    ),
) -> None:
    """Default, validate and select engine and provider for a ModelDeployment, offline (no cluster needed).

    Prints the ModelDeployment with its defaults and status.engine / status.provider filled in, and why each
    provider was or was not chosen. Exits 1 when the webhook would refuse it or no engine or provider fits,
    2 when a file cannot be read.
    """
    from airunway.policy import render as rendering

    if output not in (None, "yaml", "json"):
        err.print(f"[red]error:[/red] --output must be yaml or json, not {output!r}")
        raise typer.Exit(2)
    try:
        obj = rendering.read_model_deployment(file)
        configs = (
            rendering.load_provider_configs(provider_config) if provider_config else rendering.default_provider_configs()
        )
    except rendering.RenderInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)

    result = rendering.render(obj, configs)
    for warning in [*result.config_problems, *result.warnings]:
        typer.echo(f"Warning: {warning}", err=True)
    denial = rendering.denial_lines(result)
    if denial:
        typer.echo("\n".join(denial), err=True)
        raise typer.Exit(1)
    if output == "yaml":
        typer.echo(rendering.to_yaml(result.deployment), nl=False)
    elif output == "json":
        typer.echo(rendering.to_json(result.deployment), nl=False)
    else:
        rendering.print_human(result, console)
    if result.failure:
        typer.echo(f"error: {result.failure}", err=True)
        raise typer.Exit(1)


@app.command()
def crds() -> None:
    """Print the AI Runway CustomResourceDefinitions as YAML."""
    from airunway.api.crds import crd_yaml

    typer.echo(crd_yaml(), nl=False)


def _sandbox(state_dir: Optional[Path]):
    from airunway.sandbox.cluster import Sandbox, default_state_dir

    return Sandbox(state_dir or default_state_dir())


_STATE_DIR = typer.Option(None, "--state-dir", help="Where the sandbox keeps its state (default: the airunway cache folder).")


@sandbox_app.command("up")
def sandbox_up(
    gpu_nodes: int = typer.Option(2, help="Simulated GPU nodes."),
    gpus_per_node: int = typer.Option(4, help="nvidia.com/gpu on each GPU node."),
    cpu_nodes: int = typer.Option(1, help="Simulated CPU-only nodes."),
    state_dir: Optional[Path] = _STATE_DIR,
) -> None:
    """Build the binaries if needed, start the control plane in the background, install CRDs, create nodes."""
    import time

    from airunway.sandbox.build import BuildError
    from airunway.sandbox.cluster import NodeLayout, SandboxError

    sb = _sandbox(state_dir)
    started = time.monotonic()
    try:
        with console.status("Starting the sandbox…") as status:
            def progress(msg: str) -> None:
                console.print(f"  {msg}")
                status.update(msg)

            state = sb.up(NodeLayout(gpu_nodes, gpus_per_node, cpu_nodes), progress=progress)
    except (SandboxError, BuildError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    console.print(f"[green]Sandbox up[/green] in {time.monotonic() - started:.1f}s.  Kubeconfig: {sb.kubeconfig}")
    console.print("Use it from a shell with:")
    typer.echo(f"export KUBECONFIG={sb.kubeconfig}")
    typer.echo(f"export PATH={state.bin_dir}:$PATH")


@sandbox_app.command("status")
def sandbox_status(state_dir: Optional[Path] = _STATE_DIR) -> None:
    """Show which sandbox processes run and whether each answers its health endpoint.

    Exits 0 when every component runs and answers, 1 when some do not, 3 when none runs.
    """
    from rich.markup import escape
    from rich.table import Table

    sb = _sandbox(state_dir)
    table = Table("component", "state", "pid", "health check")
    health = sb.health()
    colours = {"running": "green", "not answering": "red", "stopped": "red"}
    for component, item in health.items():
        colour = colours[item.state]
        table.add_row(component, f"[{colour}]{item.state}[/{colour}]", str(item.pid or "-"), escape(item.detail))
    console.print(table)
    if all(item.healthy for item in health.values()):
        console.print(f"Kubeconfig: {sb.kubeconfig}")
    else:
        raise typer.Exit(1 if any(item.pid for item in health.values()) else 3)


@sandbox_app.command("down")
def sandbox_down(state_dir: Optional[Path] = _STATE_DIR) -> None:
    """Stop every sandbox process."""
    stopped = _sandbox(state_dir).down()
    console.print(f"Stopped: {', '.join(stopped)}" if stopped else "The sandbox was not running.")


@sandbox_app.command("build")
def sandbox_build() -> None:
    """Build (or find in the cache) the control-plane binaries and print their folder."""
    from airunway.sandbox.build import BuildError, ensure_binaries

    try:
        path = ensure_binaries(lambda m: err.print(m))
    except BuildError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    typer.echo(str(path))


if __name__ == "__main__":
    app()
