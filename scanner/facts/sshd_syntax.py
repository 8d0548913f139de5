"""The line syntax of sshd_config as OpenSSH 9.2's servconf.c reads it: keywords, quoted words, Match criteria, ports, times."""

from __future__ import annotations

import re

from scanner.facts.sshd_tables import MATCH_CRITERIA

_WS = " \t\r\n"  # what strdelim() splits on, besides '"' and '='


def argv(text: str) -> list[str]:
    """Split arguments as OpenSSH's argv_split() does: quotes, backslash escapes, '#' starts a comment."""
    args: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] == "#":
            return args
        arg, quote = [], ""
        while i < n:
            ch = text[i]
            if ch == "\\" and i + 1 < n and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " ")):
                i += 1
                arg.append(text[i])
            elif not quote and ch in " \t":
                break
            elif not quote and ch in "'\"":
                quote = ch
            elif quote and ch == quote:
                quote = ""
            else:
                arg.append(ch)
            i += 1
        if quote:
            raise ValueError(f"unterminated quote in {text!r}")
        args.append("".join(arg))


def strdelim(text: str) -> tuple[str | None, str | None]:
    """Split one word off as OpenSSH's strdelim() does: (word, rest), word None on an open quote, rest None at the end."""
    i = next((k for k, c in enumerate(text) if c in _WS + '"='), -1)
    if i < 0:
        return text, None
    if text[i] == '"':
        text = text[:i] + text[i + 1 :]
        end = text.find('"', i)
        return (None, None) if end < 0 else (text[:end], text[end + 1 :].lstrip(_WS))
    rest = text[i + 1 :].lstrip(_WS)
    if text[i] != "=" and rest.startswith("="):  # one '=' may follow the blanks
        rest = rest[1:].lstrip(_WS)
    return text[:i], rest


def directive(line: str) -> tuple[str, list[str], str] | None:
    """Return (lowercase keyword as written, arguments, argument text) of a line, None when sshd skips it."""
    # As sshd loads and reads a line: leading blanks go, then trailing blanks and form feeds, never
    # the first character (so a lone form feed is a keyword, which sshd rejects).
    line = line.lstrip(" \t\r")
    line = line[:1] + line[1:].rstrip(_WS + "\f")
    keyword, rest = strdelim(line)
    if keyword == "" and rest is not None:
        keyword, rest = strdelim(rest)
    if not keyword or keyword.startswith("#"):
        return None  # a blank line, a comment, or a keyword with an open quote (sshd ignores those)
    args = argv(rest or "")
    if not args:
        raise ValueError(f"no argument after keyword {keyword!r}")
    return keyword.lower(), args, rest or ""


def port(text: str, low: int = 1) -> str:
    if not re.fullmatch(r"\d+", text) or not low <= int(text) < 65536:
        raise ValueError(f"bad port number {text!r}")
    return str(int(text))


def host_port(spec: str) -> tuple[str, str]:
    """Split ``host``, ``host:port`` or ``[host]:port`` (IPv6 in brackets) into host and port ("" when none).

    >>> host_port("[fd00::1]:2222"), host_port("10.0.0.1:22"), host_port("::1")
    (('fd00::1', '2222'), ('10.0.0.1', '22'), ('::1', ''))
    """
    if spec.startswith("["):
        host, _, tail = spec[1:].partition("]")
        return host, tail.removeprefix(":")
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, port
    return spec, ""


def criteria(text: str) -> tuple[str, bool]:
    """Return a Match line's criteria and whether it is `Match all`, checked as match_cfg_line() does."""
    words: list[str] = []
    rest: str | None = text
    while rest is not None:
        attrib, rest = strdelim(rest)
        if not attrib or attrib.startswith("#"):
            break
        arg, rest = strdelim(rest) if rest is not None else (None, None)
        if attrib.lower() == "all":
            if words or (arg and not arg.startswith("#")):
                raise ValueError("'Match all' cannot be combined with other criteria")
            return attrib, True
        if attrib.lower() not in MATCH_CRITERIA:
            raise ValueError(f"unsupported Match attribute {attrib!r}")
        if not arg or arg.startswith("#"):
            raise ValueError(f"missing Match criteria for {attrib}")
        if attrib.lower() == "localport":
            port(arg, low=0)  # a2port() takes 0 here; only Port itself refuses it
        words += [attrib, arg]
    if not words:
        raise ValueError("Match without criteria")
    return " ".join(words), False


def seconds(text: str) -> int:
    """Convert an OpenSSH time value ("90", "1h30m") to seconds, as convtime() does."""
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    parts = re.findall(r"(\d+)([sSmMhHdDwW]?)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid time value {text!r}")
    return sum(int(n) * units[u.lower()] for n, u in parts)
