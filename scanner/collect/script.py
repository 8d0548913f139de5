"""Build the one POSIX sh collector script per host: read-only, framed, base64 so no content can forge a frame.

Output grammar (parsed by scanner/collect/framing.py), every line ASCII::

    ==KIJUN:<nonce>:START 1
    time 2026-11-01T09:00:00+0900         header: host clock, encoding, content limit, euid, node
    ==KIJUN:<nonce>:BEGIN file <enc "file:/etc/x">
    exists 1 | mode 644 | uid 0 | gid 0 | mtime <epoch> | size <bytes> | truncated 1 | sha256 <hex>
    error <token>                          content (or, without exists, the whole item) not collected
    ==KIJUN:<nonce>:DATA content           then encoded lines (no spaces) until the next directive
    ==KIJUN:<nonce>:END
    ==KIJUN:<nonce>:DONE <records>

Probe records carry ``DATA stdout``, ``rc <n>`` and ``DATA stderr`` (first 4 KiB).
"""

from __future__ import annotations

import re
import secrets

from scanner.collect import Plan
from scanner.collect.follow import DIRECTIVES, MAX_FILES, SSHD_DIR
from scanner.collect.probes import PROBES

MAX_BYTES = 4 * 1024 * 1024
STDERR_BYTES = 4096

# Content of these paths never leaves the host: private keys, and shadow (reduced by its probe).
# Metadata (stat) stays allowed, since key and shadow permissions are themselves checked.
DENIED_CONTENT = ("*_key", "*.pem", "*.key", "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")

_NONCE = re.compile(r"^[0-9a-f]{16,64}$")
_BRACKET = re.compile(r"\[!?[A-Za-z0-9._-]+\]")

# The functions below are fixed text; only the plan part at the end is generated from data.
_PRELUDE = r"""#!/bin/sh
# kijun collector (generated). Read-only: it writes no file on this host.
main() {
exec 6>&1 </dev/null
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
K='==KIJUN:@NONCE@:'
M=@MAX@
T=@TIMEOUT@
kj_has() { command -v "$1" >/dev/null 2>&1; }
if kj_has base64; then KE=base64; else KE=hex; fi
if kj_has stat; then KS=1; else KS=0; fi
if kj_has sha256sum; then KH=1; else KH=0; fi
# Old busybox spells it `timeout -t N`: use timeout only when the coreutils form works.
if kj_has timeout && timeout 5 true 2>/dev/null; then KT=1; else KT=0; fi
kj_n=0
kj_enc() { if [ "$KE" = base64 ]; then base64; else od -An -v -tx1 | tr -d ' '; fi; }
kj_id() { printf '%s' "$1" | kj_enc | tr -d '\n'; }
kj_begin() { kj_n=$((kj_n + 1)); printf '%sBEGIN %s %s\n' "$K" "$1" "$(kj_id "$1:$2")"; }
kj_end() { printf '%sEND\n' "$K"; }
kj_meta() {
  if [ "$KS" = 1 ]; then stat -L -c '%a %u %g %Y %s' "$1" 2>/dev/null; return; fi
  kj_t=$(date -r "$1" +%s 2>/dev/null) || kj_t=-
  ls -lndL "$1" 2>/dev/null | awk -v t="${kj_t:--}" '{ p = $1; m = 0; s = 0
    if (substr(p, 2, 1) == "r") m += 256; if (substr(p, 3, 1) == "w") m += 128
    c = substr(p, 4, 1); if (c == "x" || c == "s") m += 64; if (c == "s" || c == "S") s += 4
    if (substr(p, 5, 1) == "r") m += 32; if (substr(p, 6, 1) == "w") m += 16
    c = substr(p, 7, 1); if (c == "x" || c == "s") m += 8; if (c == "s" || c == "S") s += 2
    if (substr(p, 8, 1) == "r") m += 4; if (substr(p, 9, 1) == "w") m += 2
    c = substr(p, 10, 1); if (c == "x" || c == "t") m += 1; if (c == "t" || c == "T") s += 1
    printf "%o%03o %s %s %s %s\n", s, m, $3, $4, t, $5 }'
}
kj_item() {
  kj_k=$1 kj_p=$2
  if [ "$kj_k" = file ]; then
    case "$kj_p" in @DENIED@) return 0;; esac
    # A link named innocently may point at a key: judge its target too (no readlink: skip links).
    if [ -L "$kj_p" ]; then
      kj_l=$(readlink -f "$kj_p" 2>/dev/null) || return 0
      case "$kj_l" in @DENIED@) return 0;; esac
    fi
  fi
  # A glob match counts only when it is a regular file; a literal path is always reported.
  if [ "$3" = 1 ] && [ ! -f "$kj_p" ]; then return 0; fi
  kj_begin "$kj_k" "$kj_p"
  if [ ! -e "$kj_p" ]; then
    # Absent only when the nearest visible ancestor can be searched; else nobody knows (not collected).
    kj_d=${kj_p%/*}
    while [ -n "$kj_d" ] && [ ! -d "$kj_d" ]; do kj_d=${kj_d%/*}; done
    if [ -z "$kj_d" ] || [ -x "$kj_d" ]; then printf 'exists 0\n'; else printf 'error unsearchable\n'; fi
    kj_end
    return 0
  fi
  kj_m=$(kj_meta "$kj_p")
  if [ -z "$kj_m" ]; then printf 'error stat-failed\n'; kj_end; return 0; fi
  set -- $kj_m
  printf 'exists 1\nmode %s\nuid %s\ngid %s\nmtime %s\nsize %s\n' "$1" "$2" "$3" "$4" "$5"
  if [ "$kj_k" = file ]; then
    if [ ! -f "$kj_p" ]; then printf 'error not-regular\n'
    elif [ ! -r "$kj_p" ]; then printf 'error unreadable\n'
    else
      if [ "$5" -gt "$M" ] 2>/dev/null; then
        printf 'truncated 1\n'
        if [ "$KH" = 1 ] && kj_h=$(sha256sum <"$kj_p" 2>/dev/null); then printf 'sha256 %s\n' "${kj_h%% *}"; fi
      fi
      printf '%sDATA content\n' "$K"
      # One byte past the limit tells the scanner a file larger than stat said (/proc) was cut.
      kj_r=$( { { head -c "$((M + 1))" <"$kj_p" 3>&- 6>&-; echo "$?" >&3; } | kj_enc >&6; } 3>&1 )
      [ "$kj_r" = 0 ] || printf 'error read-failed\n'
    fi
  fi
  kj_end
}
# Follow a config's includes as its daemon does: every named file becomes an ordinary item.
NL='
'
kj_glob() {
  case "$1" in *[*?[]*) kj_gm=1;; *) kj_gm=0;; esac
  kj_gi=$IFS; IFS=
  for kj_g in $1; do
    IFS=$kj_gi
    case "$kj_g" in *"$NL"*) continue;; esac
    if [ "$kj_gm" = 1 ] && [ ! -f "$kj_g" ]; then continue; fi
    kj_item file "$kj_g" "$kj_gm"
    kj_fq=$kj_fq$kj_g$NL
  done
  IFS=$kj_gi
}
kj_follow() {
  kj_fd=$1 kj_fq=$2$NL kj_fs=$NL kj_fc=0
  while [ -n "$kj_fq" ]; do
    kj_f=${kj_fq%%"$NL"*}; kj_fq=${kj_fq#*"$NL"}
    case "$kj_fs" in *"$NL$kj_f$NL"*) continue;; esac
    kj_fs=$kj_fs$kj_f$NL; kj_fc=$((kj_fc + 1))
    [ "$kj_fc" -le @MAXFOLLOW@ ] || break
    [ -f "$kj_f" ] && [ -r "$kj_f" ] || continue
    while IFS= read -r kj_fl || [ -n "$kj_fl" ]; do
      kj_fl=${kj_fl#"${kj_fl%%[! 	]*}"}
      kj_fw=${kj_fl%%[ 	=]*}
      case "$kj_fd:$kj_fw" in
@DIRECTIVES@
        *) continue;;
      esac
      kj_fr=${kj_fl#"$kj_fw"}; kj_fr=${kj_fr#"${kj_fr%%[! 	]*}"}; kj_fr=${kj_fr#=}
      set -f; set -- $kj_fr; set +f
      for kj_fa; do
        case "$kj_fa" in \#*) break;; esac
        case "$kj_fa" in \"*\"|\'*\') kj_fa=${kj_fa#?}; kj_fa=${kj_fa%?};; esac
        case "$kj_fd:$kj_fa" in sshd:/*|chrony:/*) ;; sshd:~*|sshd:|chrony:*) continue;; sshd:*) kj_fa=@SSHDIR@/$kj_fa;; esac
        if [ -n "$kj_fx" ]; then kj_fa=${kj_fa%/}$kj_fx; fi
        kj_glob "$kj_fa"
      done
    done <"$kj_f"
  done
}
kj_run() { if [ "$KT" = 1 ]; then timeout -k 5 "$T" sh -c "$1"; else sh -c "$1"; fi; }
kj_cut() { head -c @STDERR@; cat >/dev/null; }
kj_probe() {
  kj_begin probe "$1"
  printf '%sDATA stdout\n' "$K"
  # stdout streams (encoded) to fd 6; rc comes back through fd 3 once it is done, and only then is
  # printed, so it cannot interleave; stderr (cut, drained so the probe never gets SIGPIPE) is captured.
  kj_e=$(
    { kj_r=$( { { kj_run "$2" 2>&5 3>&- 5>&- 6>&-; echo "$?" >&3; } | kj_enc >&6; } 3>&1 )
      printf 'rc %s\n' "$kj_r" >&6
    } 5>&1 | kj_cut | kj_enc
  )
  if [ -n "$kj_e" ]; then printf '%sDATA stderr\n%s\n' "$K" "$kj_e"; fi
  kj_end
}
printf '%sSTART 1\n' "$K"
printf 'time %s\nenc %s\nlimit %s\neuid %s\nnode %s\nfollow %s\n' \
  "$(date +%Y-%m-%dT%H:%M:%S%z 2>/dev/null)" "$KE" "$M" "$(id -u 2>/dev/null)" "$(uname -n 2>/dev/null)" "@FOLLOW@"
"""

_POSTLUDE = """printf '%sDONE %s\\n' "$K" "$kj_n"
exit 0
}
main
"""


def new_nonce() -> str:
    """Return a fresh random nonce for one run of the script."""
    return secrets.token_hex(16)


def quote(text: str) -> str:
    """Quote a string as one literal shell word."""
    return "'" + text.replace("'", "'\\''") + "'"


def is_glob(pattern: str) -> bool:
    """Tell whether a path pattern contains shell glob characters."""
    return any(c in pattern for c in "*?[")


def shell_glob(pattern: str) -> str:
    """Return a shell word that expands an absolute glob, with everything but the glob characters quoted.

    >>> shell_glob("/etc/pam.d/*")
    "'/etc/pam.d/'*"
    """
    if not pattern.startswith("/"):
        raise ValueError(f"collector paths must be absolute: {pattern!r}")
    return _word(pattern)


def _word(pattern: str) -> str:
    out: list[str] = []
    literal = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        bracket = _BRACKET.match(pattern, i) if char == "[" else None
        if char in "*?" or bracket:
            if literal:
                out.append(quote(literal))
                literal = ""
            token = bracket.group(0) if bracket else char
            out.append(token)
            i += len(token)
            continue
        if char == "[":
            raise ValueError(f"unsupported bracket expression in {pattern!r}")
        literal += char
        i += 1
    if literal:
        out.append(quote(literal))
    return "".join(out)


def _items(kind: str, patterns: tuple[str, ...]) -> list[str]:
    lines = []
    for pattern in patterns:
        if is_glob(pattern):
            lines.append(f'for kj_g in {shell_glob(pattern)}; do kj_item {kind} "$kj_g" 1; done')
        else:
            lines.append(f"kj_item {kind} {shell_glob(pattern)} 0")
    return lines


def _caseless(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _directives() -> str:
    """Return the case arms that set kj_fx (the suffix) for each directive that names more files."""
    arms = [
        f"        {dialect}:{_caseless(keyword)}) kj_fx={quote(suffix) if suffix else ''};;"
        for dialect, table in DIRECTIVES.items()
        for keyword, suffix in table.items()
    ]
    return "\n".join(arms)


def build_script(plan: Plan, nonce: str, max_bytes: int = MAX_BYTES, probe_timeout: int = 60) -> str:
    """Return the collector script for a plan: one POSIX sh program, run as ``sh -s``.

    >>> "kj_probe" in build_script(Plan(probes=("ss-listen",)), "0123456789abcdef")
    True
    """
    if not _NONCE.match(nonce):
        raise ValueError("nonce must be 16 to 64 lowercase hex digits")
    if max_bytes < 1 or probe_timeout < 1:
        raise ValueError("max_bytes and probe_timeout must be positive")
    unknown = [p for p in plan.probes if p not in PROBES]
    if unknown:
        raise ValueError(f"unknown probes: {', '.join(unknown)}")
    head = (
        _PRELUDE.replace("@NONCE@", nonce)
        .replace("@MAX@", str(max_bytes))
        .replace("@TIMEOUT@", str(probe_timeout))
        .replace("@STDERR@", str(STDERR_BYTES))
        .replace("@DENIED@", "|".join(_word(p) for p in DENIED_CONTENT))
        .replace("@MAXFOLLOW@", str(MAX_FILES))
        .replace("@SSHDIR@", SSHD_DIR)
        .replace("@DIRECTIVES@", _directives())
        .replace("@FOLLOW@", " ".join(sorted({d for d, _ in plan.follow})) or "-")
    )
    body = _items("file", plan.files) + _items("stat", plan.stats)
    for dialect, start in plan.follow:
        if dialect not in DIRECTIVES:
            raise ValueError(f"unknown dialect to follow: {dialect}")
        body.append(f"kj_follow {dialect} {shell_glob(start)}")
    for name in plan.probes:
        body.append(f"kj_probe {quote(name)} {quote(PROBES[name])}")
    return head + "\n".join(body) + "\n" + _POSTLUDE
