"""The ``airunway`` command.

Every subcommand is listed here; the heavy imports happen inside each command so
that ``airunway --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(
    help="AI Runway: deploy and run large language models on Kubernetes.",
    no_args_is_help=False,
    add_completion=False,
)
sandbox_app = typer.Typer(help="The local control plane (kube-apiserver, etcd, kwok…) for development and tests.")
app.add_typer(sandbox_app, name="sandbox")

console = Console()
err = Console(stderr=True)


def _not_yet(what: str) -> None:
    err.print(f"[yellow]`airunway {what}` is not yet available in this version.[/yellow]")
    raise typer.Exit(2)


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """With no subcommand, runs the dashboard."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(dashboard)


@app.command()
def dashboard(
    kubeconfig: Optional[Path] = typer.Option(None, help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the sandbox)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(3001, help="Port to listen on."),
) -> None:
    """Run the dashboard: the REST API and the web UI."""
    _not_yet("dashboard")


@app.command()
def controller() -> None:
    """Run the core controller (validation, engine and provider selection, gateway wiring)."""
    _not_yet("controller")


@app.command()
def provider(name: str = typer.Argument(..., help="vllm, llmd, kaito, dynamo or kuberay")) -> None:
    """Run one provider controller."""
    _not_yet("provider")


@app.command()
def render(file: Path = typer.Option(..., "-f", "--file", help="ModelDeployment YAML file.")) -> None:
    """Default, validate and select engine and provider for a ModelDeployment, offline."""
    _not_yet("render")


@app.command()
def crds() -> None:
    """Print the AI Runway CustomResourceDefinitions as YAML."""
    from airunway.api.crds import crd_yaml

    typer.echo(crd_yaml(), nl=False)
