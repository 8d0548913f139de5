"""Checks made before any host is contacted: option ranges and an output folder that can take the run."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

MiB = 1 << 20
MIN_FREE = 64 * MiB  # reports, workbooks and the manifest of a small run
PER_HOST = 256 * 1024  # raw facts (evidence) and findings of one host, typically 20-200 KiB
MAX_TIMEOUT = 86_400.0


def seconds(_ctx: Any, param: click.Parameter, value: float) -> float:
    """Click callback: accept a finite number of seconds in (0, MAX_TIMEOUT]; refuse nan, inf, 0, negatives."""
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT:
        raise click.BadParameter(
            f"{value!r} is not a number of seconds in (0, {MAX_TIMEOUT:g}] / 秒数が範囲外です", param=param
        )
    return value


def output_problem(folder: Path, hosts: int = 0) -> str:
    """Return why a run cannot be written under ``folder`` ("" when it can): not a folder, read-only, full."""
    # Nothing is created here: a run that stops on bad input leaves no empty folder behind. The
    # nearest existing ancestor must be a folder we can write in (the run creates the rest).
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{folder}: cannot create the output folder ({existing} is not a folder) / 出力先を作れません"
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".kijun-probe-"):
            pass
    except OSError as exc:
        return f"{folder}: cannot write there ({exc.strerror or exc}) / 出力先に書き込めません"
    need = MIN_FREE + PER_HOST * hosts
    free = shutil.disk_usage(existing).free
    if free < need:
        return (
            f"{folder}: {free // MiB} MiB free, a run of {hosts} hosts needs about {need // MiB} MiB "
            "/ 出力先の空き容量が足りません"
        )
    return ""
