"""A stand-in for the ``aiconfigurator`` CLI, keeping its contract: ``version``, and ``cli default … --save-dir D``
writing ``best_config_topn.csv`` under ``agg/`` and ``disagg/`` (a model id containing "huge" fails as the CLI does
when nothing fits)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

CLI = textwrap.dedent('''\
    #!PYTHON
    import pathlib, sys
    args = sys.argv[1:]
    if args == ["version"]:
        print("aiconfigurator 0.4.0")
        sys.exit(0)
    options = dict(zip(args[2::2], args[3::2]))
    pathlib.Path(options["--save-dir"], "calls").write_text(" ".join(args))
    if "huge" in options["--model"]:
        print("WARNING something", file=sys.stderr)
        print("RuntimeError: No successful experiment runs to compare", file=sys.stderr)
        sys.exit(1)
    if "empty" in options["--model"]:
        sys.exit(0)  # finished, but wrote no ranking
    root = pathlib.Path(options["--save-dir"], options["--model"].replace("/", "_"))
    header = "tokens/s/gpu,tokens/s,ttft,concurrency,bs,isl,osl,tp,pp,replicas,(p)parallel,(d)parallel,(p)workers,(d)workers"
    rows = {"agg": "310.5,2484.0,120.5,64 (16x4),32,4000,500,2,1,4,,,,",
            "disagg": "420.0,3360.0,180.0,\\"96 (24x4)\\",64,4000,500,1,1,2,tp2pp1,tp4pp1,1,2"}
    for kind, row in rows.items():
        folder = root / kind / "top1"
        folder.mkdir(parents=True)
        (folder / "best_config_topn.csv").write_text(header + "\\n" + row + "\\n")
    ''').replace("PYTHON", sys.executable)


def install_cli(folder: Path) -> Path:
    """Write the stand-in as ``folder/aiconfigurator`` (put ``folder`` first on PATH); gives the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aiconfigurator").write_text(CLI)
    (folder / "aiconfigurator").chmod(0o755)
    return folder
