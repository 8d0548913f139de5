"""The whole run as one JSON document (schema: scanner/schemas/results.schema.json, kijun/results/v1).

A run folder holds the compact form instead (scanner/compact.py: results.json kijun/results/v3 and
findings.jsonl); this single document is for small runs and for tools that want one file.
"""

from __future__ import annotations

import json

from scanner.results import Run


def render(run: Run) -> str:
    """Render a run as the canonical results JSON, UTF-8 text with Japanese kept readable.

    >>> Run.from_json(json.loads(render(run))) == run
    True
    """
    return json.dumps(run.to_json(), ensure_ascii=False, indent=2) + "\n"
