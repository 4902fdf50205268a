"""git merge driver for gettext catalogues: a three-way merge entry by entry.

For each message: what one side changed since the common ancestor wins over the side that
left it alone; new messages of both sides are kept; where both changed the same message
differently, ours stays and the merge reports a conflict. Enable once per clone:
    git config merge.pomerge.driver "python3 tools/po_merge.py %O %A %B"
(needs Babel, which the project installs; run with the project's Python)."""

import sys

from babel.messages.pofile import read_po, write_po


def load(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def key(message):
    return (message.context, message.id if isinstance(message.id, str) else tuple(message.id))


def main(base_path, ours_path, theirs_path) -> int:
    base, ours, theirs = load(base_path), load(ours_path), load(theirs_path)
    base_strings = {key(m): m.string for m in base if m.id}
    ours_by_key = {key(m): m for m in ours if m.id}
    conflicts = 0
    for message in theirs:
        if not message.id:
            continue
        k = key(message)
        mine = ours_by_key.get(k)
        if mine is None:
            if k not in base_strings:  # new on their side
                ours[message.id] = message
                ours_by_key[k] = message
            continue  # removed on our side: stays removed
        original = base_strings.get(k)
        if message.string != original and mine.string == original:
            mine.string = message.string
            mine.flags = message.flags
        elif message.string != original and mine.string != message.string:
            conflicts += 1
            print(f"po_merge: both sides changed {message.id!r}; ours kept", file=sys.stderr)
    theirs_keys = {key(m) for m in theirs if m.id}
    for k in list(ours_by_key):
        if k in base_strings and k not in theirs_keys:
            ours.delete(ours_by_key[k].id, context=k[0])  # removed on their side
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=100)
    return 1 if conflicts else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
