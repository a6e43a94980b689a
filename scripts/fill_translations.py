#!/usr/bin/env python3
"""Fill zh translations from a tab-separated file of "English msgid<TAB>中文" lines (or stdin).

    scripts/extract_messages.sh            # adds the new msgids, lists the untranslated ones
    scripts/fill_translations.py new.tsv   # fills them
    scripts/extract_messages.sh            # re-lays out the catalog (sorted, no locations)

Unknown msgids are reported and ignored; an existing translation is replaced.
"""
import sys

from babel.messages.pofile import read_po, write_po

PO = "app/translations/zh/LC_MESSAGES/messages.po"


def main() -> int:
    source = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    pairs = []
    for line in source:
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        msgid, _, msgstr = line.partition("\t")
        pairs.append((msgid.replace("\\n", "\n"), msgstr.replace("\\n", "\n")))
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    unknown = 0
    for msgid, msgstr in pairs:
        message = catalog.get(msgid)
        if message is None:
            print(f"unknown msgid: {msgid!r}", file=sys.stderr)
            unknown += 1
            continue
        message.string = msgstr
    with open(PO, "wb") as fh:
        write_po(fh, catalog, width=76, no_location=True)
    print(f"filled {len(pairs) - unknown} translations ({unknown} unknown)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
