"""Read a check's "expected" expression (conditions' readable form) back as a sentence in ja and en.

The engine records what a check expects as one line such as
``all(login_defs.pass_max_days >= 1; login_defs.pass_max_days <= 90)``; a 課長 reads
"login_defs.pass_max_days is at least 1, and login_defs.pass_max_days is at most 90" instead.
Anything this reader does not recognise is shown as it was written, never dropped.
"""

from __future__ import annotations

import ast
import json
from typing import Any

# Operator as written (symbol in a leaf, name inside a quantifier) -> (ja template, en template).
_OPS: dict[str, tuple[str, str]] = {
    "==": ("{a} が {v} である", "{a} is {v}"),
    "equals": ("{a} が {v} である", "{a} is {v}"),
    "!=": ("{a} が {v} でない", "{a} is not {v}"),
    "not_equals": ("{a} が {v} でない", "{a} is not {v}"),
    "not in": ("{a} が {v} のいずれでもない", "{a} is none of {v}"),
    "not_in": ("{a} が {v} のいずれでもない", "{a} is none of {v}"),
    "in": ("{a} が {v} のいずれか", "{a} is one of {v}"),
    "does not contain": ("{a} に {v} が含まれない", "{a} does not contain {v}"),
    "not_contains": ("{a} に {v} が含まれない", "{a} does not contain {v}"),
    "contains all of": ("{a} に {v} がすべて含まれる", "{a} contains all of {v}"),
    "contains_all": ("{a} に {v} がすべて含まれる", "{a} contains all of {v}"),
    "contains": ("{a} に {v} が含まれる", "{a} contains {v}"),
    "does not match": ("{a} がパターン {v} に一致しない", "{a} does not match the pattern {v}"),
    "not_matches": ("{a} がパターン {v} に一致しない", "{a} does not match the pattern {v}"),
    "matches": ("{a} がパターン {v} に一致する", "{a} matches the pattern {v}"),
    "version >=": ("{a} がバージョン {v} 以降", "{a} is version {v} or later"),
    "version_ge": ("{a} がバージョン {v} 以降", "{a} is version {v} or later"),
    "version <": ("{a} がバージョン {v} より前", "{a} is older than version {v}"),
    "version_lt": ("{a} がバージョン {v} より前", "{a} is older than version {v}"),
    "mode at most": ("{a} の権限が {v} 以内", "{a} permissions are no wider than {v}"),
    "mode_at_most": ("{a} の権限が {v} 以内", "{a} permissions are no wider than {v}"),
    "length <=": ("{a} が {v} 件以下", "{a} has at most {v} entries"),
    "length_le": ("{a} が {v} 件以下", "{a} has at most {v} entries"),
    "length >=": ("{a} が {v} 件以上", "{a} has at least {v} entries"),
    "length_ge": ("{a} が {v} 件以上", "{a} has at least {v} entries"),
    "<=": ("{a} が {v} 以下", "{a} is at most {v}"),
    "le": ("{a} が {v} 以下", "{a} is at most {v}"),
    ">=": ("{a} が {v} 以上", "{a} is at least {v}"),
    "ge": ("{a} が {v} 以上", "{a} is at least {v}"),
    "<": ("{a} が {v} 未満", "{a} is less than {v}"),
    "lt": ("{a} が {v} 未満", "{a} is less than {v}"),
    ">": ("{a} が {v} を超える", "{a} is more than {v}"),
    "gt": ("{a} が {v} を超える", "{a} is more than {v}"),
    "is empty ==": ("{a} が空(該当なし)", "{a} is empty"),
    "empty": ("{a} が空(該当なし)", "{a} is empty"),
    "exists": ("{a} がある", "{a} is present"),
    "absent": ("{a} がない", "{a} is absent"),
}
# Longest first, so that "not in" is tried before "in" and "<=" before "<".
_ORDER = sorted(_OPS, key=len, reverse=True)
_JOIN = {"all": ("、かつ ", ", and "), "any": ("、または ", ", or ")}


def sentence(expected: Any) -> tuple[str, str]:
    """Return (ja, en) sentences for an expected expression; other values are shown as they are.

    >>> sentence("sshd.permitrootlogin == 'no'")
    ('sshd.permitrootlogin が no である', 'sshd.permitrootlogin is no')
    """
    if not isinstance(expected, str):
        text = (
            json.dumps(expected, ensure_ascii=False, default=str)
            if isinstance(expected, dict)
            else _value(expected)
        )
        return text, text
    try:
        return _parse(expected.strip())
    except (ValueError, IndexError):
        return expected, expected


def _parse(text: str) -> tuple[str, str]:
    for comb in ("all", "any", "none"):
        if text.startswith(comb + "(") and text.endswith(")"):
            raws = _split(text[len(comb) + 1 : -1])
            parts = [_bracket(_parse(r), r.startswith(("all(", "any(", "none("))) for r in raws]
            if comb == "none":
                return (
                    "次のいずれにも当たらない: " + "; ".join(p[0] for p in parts),
                    "none of: " + "; ".join(p[1] for p in parts),
                )
            ja, en = _JOIN[comb]
            return ja.join(p[0] for p in parts), en.join(p[1] for p in parts)
    for quant, (ja, en) in {
        "every": ("{p} のすべての項目で、{c}", "for every entry of {p}: {c}"),
        "some": ("{p} の少なくとも1項目で、{c}", "for at least one entry of {p}: {c}"),
    }.items():
        if text.startswith(f"{quant} item of "):
            path, cond = text[len(quant) + 9 :].split(": ", 1)
            sub = _parse(cond)
            return ja.format(p=path, c=sub[0]), en.format(p=path, c=sub[1])
    return _leaf(text)


def _leaf(text: str) -> tuple[str, str]:
    address, _, rest = text.partition(" ")
    for op in _ORDER:
        if rest == op or rest.startswith(op + " "):
            raw = rest[len(op) :].strip()
            value = _literal(raw) if raw else None
            return _special(op, address, value, raw) or _fill(op, address, value)
    raise ValueError(text)


def _special(op: str, address: str, value: Any, raw: str) -> tuple[str, str] | None:
    """Phrase the comparisons with None, booleans and emptiness as people say them."""
    a_ja, a_en = _subject(address)
    if op in ("==", "equals", "!=", "not_equals"):
        negate = op in ("!=", "not_equals")
        if value is None and raw:
            return (
                (f"{a_ja} が取得できている", f"{a_en} is known")
                if negate
                else (
                    f"{a_ja} が未設定",
                    f"{a_en} is not set",
                )
            )
        if isinstance(value, bool):
            truth = value != negate
            return (
                f"{a_ja} が {'有効(true)' if truth else '無効(false)'}",
                f"{a_en} is {str(truth).lower()}",
            )
    if op in ("is empty ==", "empty"):
        return (
            (f"{a_ja} が空(該当なし)", f"{a_en} is empty")
            if value
            else (
                f"{a_ja} が空でない",
                f"{a_en} is not empty",
            )
        )
    return None


def _fill(op: str, address: str, value: Any) -> tuple[str, str]:
    ja, en = _OPS[op]
    a_ja, a_en = _subject(address)
    shown = _value(value)
    return ja.format(a=a_ja, v=shown), en.format(a=a_en, v=shown)


def _subject(address: str) -> tuple[str, str]:
    """Name what a leaf is about: a fact address, an item's field, or the item itself."""
    if address == "item":
        return "その項目", "the entry"
    if address.startswith("."):
        return f"項目の {address[1:]}", f"its {address[1:]}"
    return address, address


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple | set):
        return ", ".join(_value(v) for v in value) if value else "(なし / none)"
    return str(value)


def _bracket(pair: tuple[str, str], nested: bool) -> tuple[str, str]:
    """Bracket a nested combination so "A, and (B, or C)" stays unambiguous."""
    return (f"「{pair[0]}」", f"({pair[1]})") if nested else pair


def _split(inner: str) -> list[str]:
    """Split on top-level ``;`` (not inside brackets or quotes)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(inner):
        if quote:
            quote = "" if ch == quote and inner[i - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ";" and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return [p for p in parts if p]
