"""The canonical results JSON reporter (schema: scanner/schemas/results.schema.json)."""

from __future__ import annotations

import json

from scanner.results import Run


def render(run: Run) -> str:
    """Render a run as the canonical results JSON, UTF-8 text with Japanese kept readable.

    >>> Run.from_json(json.loads(render(run))) == run
    True
    """
    return json.dumps(run.to_json(), ensure_ascii=False, indent=2) + "\n"
