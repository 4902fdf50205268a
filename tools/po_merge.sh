#!/usr/bin/env bash
# git merge driver for gettext catalogues: the union of both sides' entries, ours first where
# both translate the same message. Enable once per clone:
#   git config merge.pomerge.driver "bash tools/po_merge.sh %A %B"
set -euo pipefail
ours="$1"; theirs="$2"
msgcat --use-first --sort-by-file -o "$ours.merged" "$ours" "$theirs"
mv "$ours.merged" "$ours"
