"""A CollectError survives pickling: the scan's process pool sends it back from a worker."""

from __future__ import annotations

import pickle

from scanner.collect import CollectError


def test_collect_error_crosses_a_process_boundary() -> None:
    back = pickle.loads(pickle.dumps(CollectError("unreachable", "no route to host")))
    assert (type(back), back.status, back.message) == (CollectError, "unreachable", "no route to host")
