#!/bin/sh
# kijun collector (generated from scanner/collect/collector.sh). Read-only: it writes no file on this host.
# Framing: see scanner/collect/script.py. Items are listed first with shell builtins only; then one
# stat, one grep and one head read all of them (the batch record), and only odd items (secrets to
# redact, files over the limit, /proc, names with a newline, hosts without stat) take a record each.
main() {
exec 6>&1 </dev/null
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
K='==KIJUN:@NONCE@:'
M=@MAX@
T=@TIMEOUT@
NL='
'
kj_has() { command -v "$1" >/dev/null 2>&1; }
if kj_has base64; then KE=base64; else KE=hex; fi
if kj_has sha256sum; then KH=1; else KH=0; fi
# The batch needs stat -c and head -v (coreutils or busybox); without them every item is read alone.
if kj_has stat && kj_has head && { stat -L -c %a / && head -v -c 0 /dev/null; } >/dev/null 2>&1; then KS=1; else KS=0; fi
# Old busybox spells it `timeout -t N`: use timeout only when the coreutils form works.
if kj_has timeout && timeout 5 true 2>/dev/null; then KT=1; else KT=0; fi
kj_n=0 kj_L= kj_S= kj_C= kj_D=
kj_PH=@PHASE@
kj_enc() { if [ "$KE" = base64 ]; then base64; else od -An -v -tx1 | tr -d ' '; fi; }
kj_id() { printf '%s' "$1" | kj_enc | tr -d '\n'; }
kj_begin() {
  kj_n=$((kj_n + 1))
  if [ -n "$3" ]; then kj_i=$3; [ "$KE" = base64 ] || kj_i=$4; else kj_i=$(kj_id "$1:$2"); fi
  printf '%sBEGIN %s %s\n' "$K" "$1" "$kj_i"
}
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
# Why a file's content must not be read, judged by its name, its link's target and its inode.
kj_deny() {
  kj_why=
  case "$1" in @DENIED@) kj_why=name; return 0;; esac
  if [ -L "$1" ]; then
    kj_t=$(readlink -f "$1" 2>/dev/null) || { kj_why=link; return 0; }
    case "$kj_t" in @DENIED@) kj_why=link-target; return 0;; esac
  fi
  for kj_s in /etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow-; do
    if [ "$1" -ef "$kj_s" ]; then kj_why=shadow; return 0; fi
  done
  return 1
}
# Absent only when the nearest visible ancestor can be searched; else nobody knows (not collected).
kj_absent() {
  kj_d=${1%/*}
  while [ -n "$kj_d" ] && [ ! -d "$kj_d" ]; do kj_d=${kj_d%/*}; done
  [ -z "$kj_d" ] || [ -x "$kj_d" ]
}
# Content of one regular file: refused, redacted (with the count of lines) or as it is, cut at M+1 bytes.
kj_content() {
  if grep -q @ANYSECRET@ -- "$1" 2>/dev/null; then
    if grep -q @KEYS@ -- "$1" 2>/dev/null; then printf 'error refused-private-key\n'; return 0; fi
    if grep -q @TOTP@ -- "$1" 2>/dev/null; then printf 'error refused-totp-secret\n'; return 0; fi
    printf 'redacted %s\n%sDATA content\n' "$(grep -c @REDACT@ -- "$1" 2>/dev/null)" "$K"
    head -c "$((M + 1))" <"$1" | sed @SED@ | kj_enc
    return 0
  fi
  printf '%sDATA content\n' "$K"
  # One byte past the limit tells the scanner a file larger than stat said (/proc) was cut.
  kj_r=$( { { head -c "$((M + 1))" <"$1" 3>&- 6>&-; echo "$?" >&3; } | kj_enc >&6; } 3>&1 )
  [ "$kj_r" = 0 ] || printf 'error read-failed\n'
}
# One item in a record of its own (the slow way).
kj_item() {
  kj_k=$1 kj_p=$2
  # A glob match counts only when it is a regular file; a literal path is always reported.
  if [ "$3" = 1 ] && [ ! -f "$kj_p" ]; then return 0; fi
  kj_begin "$kj_k" "$kj_p"
  if [ ! -e "$kj_p" ]; then
    if kj_absent "$kj_p"; then printf 'exists 0\n'; else printf 'error unsearchable\n'; fi
    kj_end
    return 0
  fi
  kj_m=$(kj_meta "$kj_p")
  if [ -z "$kj_m" ]; then printf 'error stat-failed\n'; kj_end; return 0; fi
  set -- $kj_m
  printf 'exists 1\nmode %s\nuid %s\ngid %s\nmtime %s\nsize %s\n' "$1" "$2" "$3" "$4" "$5"
  if [ "$kj_k" = file ]; then
    if kj_deny "$kj_p"; then printf 'error refused-%s\n' "$kj_why"
    elif [ ! -f "$kj_p" ]; then printf 'error not-regular\n'
    elif [ ! -r "$kj_p" ]; then printf 'error unreadable\n'
    else
      if [ "$5" -gt "$M" ] 2>/dev/null; then
        printf 'truncated 1\n'
        if [ "$KH" = 1 ] && kj_h=$(sha256sum <"$kj_p" 2>/dev/null); then printf 'sha256 %s\n' "${kj_h%% *}"; fi
      fi
      kj_content "$kj_p"
    fi
  fi
  kj_end
}
# List one item for the batch: "kind state path" (a absent, u unknown, s stat, n not regular,
# r unreadable, x-why refused, c content), using shell builtins only.
kj_add() {
  kj_k=$1 kj_p=$2
  if [ "$3" = 1 ] && [ ! -f "$kj_p" ]; then return 0; fi
  case "$kj_p" in *"$NL"*|/proc/*|/sys/*) kj_item "$@"; return 0;; esac
  if [ "$KS" = 0 ]; then kj_item "$@"; return 0; fi
  case "$kj_D" in *"$NL$kj_k $kj_p$NL"*) return 0;; esac
  kj_D="$kj_D$NL$kj_k $kj_p$NL"
  if [ ! -e "$kj_p" ]; then
    if kj_absent "$kj_p"; then kj_v=a; else kj_v=u; fi
  else
    kj_S=$kj_S$kj_p$NL
    if [ "$kj_k" = stat ]; then kj_v=s
    elif kj_deny "$kj_p"; then kj_v=x-$kj_why
    elif [ ! -f "$kj_p" ]; then kj_v=n
    elif [ ! -r "$kj_p" ]; then kj_v=r
    else kj_v=c; kj_C=$kj_C$kj_p$NL
    fi
  fi
  kj_L="$kj_L$kj_k $kj_v $kj_p$NL"
}
# The batch record: the list, the stat lines of every existing path, and one read of all plain files.
kj_batch() {
  [ -n "$kj_L" ] || [ -n "$kj_PH" ] || return 0
  kj_o=$IFS
  IFS=$NL; set -f; set -- $kj_S; set +f; IFS=$kj_o
  kj_st=
  if [ $# -gt 0 ]; then kj_st=$(stat -L -c '%a %u %g %Y %s %n' -- "$@" 2>/dev/null); fi
  IFS=$NL; set -f; set -- $kj_C; set +f; IFS=$kj_o
  kj_x=
  if [ $# -gt 0 ]; then kj_x=$(grep -l @ANYSECRET@ -- "$@" 2>/dev/null); fi
  # Files small enough and without secrets go in the one read; the others take the slow way.
  kj_B= kj_r=$kj_st$NL
  while [ -n "$kj_r" ]; do
    kj_l=${kj_r%%"$NL"*}; kj_r=${kj_r#*"$NL"}
    set -f; set -- $kj_l; set +f
    [ $# -ge 6 ] || continue
    kj_p=${kj_l#* * * * * }
    case "$NL$kj_C" in *"$NL$kj_p$NL"*) ;; *) continue;; esac
    case "$NL$kj_x$NL" in *"$NL$kj_p$NL"*) continue;; esac
    [ "$5" -le "$M" ] 2>/dev/null && kj_B=$kj_B$kj_p$NL
  done
  kj_begin batch 1 @BATCHID@
  printf '%sDATA stream\n' "$K"
  # One encoder for the whole batch: the list, the stat lines, the probes, then the plain files.
  { printf '%slist\n%s%sstat\n%s\n' "$K" "$kj_L" "$K" "$kj_st"
    [ -z "$kj_PH" ] || cat <&7
    IFS=$NL; set -f; set -- $kj_B; set +f; IFS=$kj_o
    printf '%scontent\n' "$K"
    if [ $# -gt 0 ]; then head -v -c "$((M + 1))" -- "$@" 2>/dev/null; fi
  } | kj_enc
  kj_end
  kj_z=$kj_C
  while [ -n "$kj_z" ]; do
    kj_p=${kj_z%%"$NL"*}; kj_z=${kj_z#*"$NL"}
    case "$NL$kj_B" in *"$NL$kj_p$NL"*) ;; *) kj_item file "$kj_p" 0;; esac
  done
}
# Follow a config's includes as its daemon does: every named file becomes an ordinary item.
kj_glob() {
  case "$1" in *[*?[]*) kj_gm=1;; *) kj_gm=0;; esac
  kj_gi=$IFS; IFS=
  for kj_g in $1; do
    IFS=$kj_gi
    case "$kj_g" in *"$NL"*) continue;; esac
    if [ "$kj_gm" = 1 ] && [ ! -f "$kj_g" ]; then continue; fi
    kj_add file "$kj_g" "$kj_gm"
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
# The probes run in groups at once (kj_groups, below), from the script's start on, while the items
# are listed. A group runs in one child sh (the phase, kj_PH, made by scanner/collect/script.py) under
# one timeout, each probe in a subshell of its own: stdout straight into the batch's stream between nonce
# markers, stderr through one sed (quoted words masked, secrets redacted: a daemon's error quotes
# the line of a file it choked on) and one encoder, and "s" (number, name) and "e" (number) lines
# to fd 9 as each starts and ends. When the timeout ends a phase, the probe it was running runs
# again first in a new phase, or, if it was already first (it had the whole timeout), is reported
# with rc 124; the next phase goes on with the next probe.
kj_phase() {
  if [ "$KT" = 1 ]; then KJ_K=$K timeout -k 5 "$T" sh -c "$kj_PH" sh "$1" "$2"; else KJ_K=$K sh -c "$kj_PH" sh "$1" "$2"; fi
}
# Probes $1 to $2, in phases, as above.
kj_probes() {
  exec 3>&1
  kj_at=$1 kj_to=$2
  while [ "$kj_at" -le "$kj_to" ]; do
    # The stderr of a phase is written after it ended (no probe writes to the stream any more).
    kj_g=$(exec 5>&1; kj_e=$(kj_phase "$kj_at" "$kj_to" 9>&5 2>&1 >&3 3>&- 5>&- |
      sed -e 's/"[^"]*"/"..."/g' -e "s/'[^']*'/'...'/g" @SED@ 5>&- | kj_enc 5>&-)
      printf '%sstderr\n%s\n' "$K" "$kj_e" >&3)
    kj_g=${kj_g##*"$NL"}
    set -f; set -- $kj_g; set +f
    if [ "$1" = s ] && [ "$2" = "$kj_at" ]; then printf '%src %s 124\n' "$K" "$3"; kj_at=$((kj_at + 1))
    elif [ "$1" = s ] && [ "$2" -gt "$kj_at" ] 2>/dev/null; then kj_at=$2
    elif [ "$1" = e ] && [ "$2" -ge "$kj_at" ] 2>/dev/null; then kj_at=$(($2 + 1))
    else kj_at=$((kj_to + 1))
    fi
  done
}
# The probes in groups that run at once (their first numbers are the arguments): each group is
# a kj_probes of its own, and its stream waits in a pipe until the groups before it have ended.
kj_groups() {
  if [ $# -le 1 ]; then kj_probes "$1" @NPROBES@; return 0; fi
  kj_a=$1; shift
  kj_probes "$kj_a" $(($1 - 1)) | { kj_groups "$@" 4<&- </dev/null | { cat <&4 4<&-; cat; }; } 4<&0
}
kj_rest() {
@BODY@
printf '%sDONE %s\n' "$K" "$kj_n"
}
printf '%sSTART 2\n' "$K"
printf 'time %s\nenc %s\nlimit %s\neuid %s\nnode %s\nfollow %s\n' \
  "$(date +%Y-%m-%dT%H:%M:%S%z 2>/dev/null)" "$KE" "$M" "$(id -u 2>/dev/null)" "$(uname -n 2>/dev/null)" "@FOLLOW@"
# The probes start at once, while the items are listed and read; their stream waits on fd 7 for the batch.
if [ -n "$kj_PH" ]; then kj_groups @GROUPS@ | kj_rest 7<&0 </dev/null; else kj_rest; fi
exit 0
}
main
