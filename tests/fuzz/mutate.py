"""Mutations of real inputs for property-based tests: cut, drop or repeat lines, insert junk, flip bytes."""

from __future__ import annotations

from hypothesis import strategies as st

JUNK = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["\x00", "\ufeff", "\r\n", "#", "\\", "'", '"', "{", "[", "=", ":", "*", "ALL", "\n\n", "\t"]
    ),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """Return ``text`` after one to three random edits."""
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        action = draw(st.sampled_from(["cut", "drop", "repeat", "insert", "flip"]))
        at = draw(st.integers(0, max(0, len(text))))
        if action == "cut":
            text = text[:at]
        elif action == "drop":
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[:i] + lines[i + draw(st.integers(1, 5)) :])
        elif action == "repeat":
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
        elif action == "insert":
            text = text[:at] + draw(JUNK) + text[at:]
        elif text:
            i = min(at, len(text) - 1)
            text = text[:i] + chr((ord(text[i]) + draw(st.integers(1, 255))) % 0x3000) + text[i + 1 :]
    return text
