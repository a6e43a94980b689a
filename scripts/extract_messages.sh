#!/usr/bin/env bash
# Refresh the translation template and the zh catalog (app strings + FAB strings).
#
#   scripts/extract_messages.sh             extract app + Flask-AppBuilder into a temporary template,
#                                           then `pybabel update -N` the zh catalog (existing translations kept)
#   scripts/extract_messages.sh --pot-only  only write the template, to app/translations/messages.pot (untracked)
#
# The catalog is written without source locations and with the app's strings sorted by msgid, so
# that work on different features adds entries in different places and merges cleanly.
#
# Afterwards translate the entries listed as untranslated, then:
#   .venv/bin/pybabel compile -d app/translations -l zh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
PYBABEL="$VENV/bin/pybabel"
TRANS_DIR="app/translations"
POT="$TRANS_DIR/messages.pot"   # git-ignored; rebuilt on every run
PO="$TRANS_DIR/zh/LC_MESSAGES/messages.po"
LOCALE="zh"
# Defaults (_, gettext, ngettext, pgettext, N_, ...) plus the lazy/aliased forms used by FAB and the app.
KEYWORDS=(-k lazy_gettext -k _l -k __ -k lazy_formatter_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2)

POT_ONLY=0
case "${1:-}" in
  "") ;;
  --pot-only) POT_ONLY=1 ;;
  *) echo "usage: $0 [--pot-only]" >&2; exit 2 ;;
esac

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# -I: isolated mode, so nothing in the working directory can shadow real packages.
FAB_DIR="$("$PY" -I -c 'import os, flask_appbuilder; print(os.path.dirname(flask_appbuilder.__file__))')"
FAB_VERSION="$("$PY" -I -c 'import flask_appbuilder; print(flask_appbuilder.__version__)')"

# 1. Flask-AppBuilder's own strings (python + its jinja2 templates). Run from site-packages so
#    locations read "flask_appbuilder/...".
cat > "$TMP/fab_babel.cfg" <<'EOF'
[python: **.py]
[jinja2: templates/**.html]
encoding = utf-8
EOF
(
  cd "$(dirname "$FAB_DIR")"
  "$PYBABEL" -q extract -F "$TMP/fab_babel.cfg" "${KEYWORDS[@]}" -o "$TMP/fab.pot" flask_appbuilder
  # Messages built at runtime by lazy_formatter_gettext (their msgid depends on app config).
  "$PYBABEL" -q extract -F "$TMP/fab_babel.cfg" --no-default-keywords -k lazy_formatter_gettext \
    -o "$TMP/fab_formatter.pot" flask_appbuilder
)

# 2. The app's own strings (patterns in babel.cfg are relative to the project root).
"$PYBABEL" -q extract -F babel.cfg "${KEYWORDS[@]}" -o "$TMP/app.pot" .

# 3. Merge into one POT: FAB strings first, then FAB runtime/extra strings, then app-only strings.
"$PY" -I - "$TMP/fab.pot" "$TMP/fab_formatter.pot" "$TMP/app.pot" "$POT" "$FAB_VERSION" <<'EOF'
import sys
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

fab_pot, formatter_pot, app_pot, out_pot, fab_version = sys.argv[1:6]

def load(path):
    with open(path, "rb") as f:
        return read_po(f)

out = Catalog(project="app", version=None, charset="utf-8", fuzzy=False)

def add(msg, extra_comments=()):
    out.add(msg.id, None, msg.locations, flags=msg.flags,
            auto_comments=list(msg.auto_comments) + list(extra_comments),
            user_comments=msg.user_comments, context=msg.context)

def add_extra(msgid, location, comment):
    out.add(msgid, None, [(location, None)], auto_comments=[comment])

for msg in load(fab_pot):
    if msg.id:
        add(msg)

# (a) FAB wraps these descriptions with _roles_custom_formatter: with AUTH_ROLES_SYNC_AT_LOGIN=True
#     the looked-up msgid is the base text plus an HTML warning, so add that variant as well.
try:
    from flask import Flask
    from flask_appbuilder.security.views import _roles_custom_formatter
    flask_app = Flask("extract_messages")
    flask_app.config["AUTH_ROLES_SYNC_AT_LOGIN"] = True
    with flask_app.app_context():
        for msg in load(formatter_pot):
            if msg.id:
                add_extra(_roles_custom_formatter(msg.id), "flask_appbuilder/security/views.py",
                          "FAB runtime msgid: description when AUTH_ROLES_SYNC_AT_LOGIN = True")
except Exception as exc:  # keep going; only this optional variant is lost
    print("warning: AUTH_ROLES_SYNC_AT_LOGIN variants not added: %r" % (exc,), file=sys.stderr)

# (b) English hard-coded in FAB %s (not wrapped in gettext). Translated only where an app
#     template override wraps them in _(); kept here so such overrides are translated at once.
HARDCODED = [
    ("OK", "flask_appbuilder/templates/appbuilder/general/confirm.html"),
    ("OK", "flask_appbuilder/templates/appbuilder/general/alert.html"),
    ("Cancel", "flask_appbuilder/templates/appbuilder/general/confirm.html"),
    ("No row selected", "flask_appbuilder/static/appbuilder/js/ab_actions.js"),
    ("Month", "flask_appbuilder/templates/appbuilder/general/charts/chart_time.html"),
    ("Year", "flask_appbuilder/templates/appbuilder/general/charts/chart_time.html"),
]
for msgid, location in HARDCODED:
    add_extra(msgid, location,
              "Hard-coded in FAB %s; only used by app template overrides that wrap it in _()" % fab_version)

# (c) WTForms validation errors left untranslated in wtforms' own zh catalog; FAB renders every
#     field error through _(error) (general/lib.html render_field), so this catalog catches them.
for msgid in ("This field cannot be edited.",
              "This field is disabled and cannot have a value.",
              "Not a valid week value."):
    add_extra(msgid, "wtforms/validators.py",
              "WTForms error untranslated in wtforms' zh catalog; FAB renders it via _(error)")

for msg in load(app_pot):
    if msg.id:
        add(msg)

with open(out_pot, "wb") as f:
    write_po(f, out, width=76)
print("%s: %d msgids" % (out_pot, len(out)))
EOF

[ "$POT_ONLY" = 1 ] && exit 0

# 4. Merge into the zh catalog without fuzzy guesses; existing translations (FAB's) are kept.
"$PYBABEL" -q update -i "$POT" -d "$TRANS_DIR" -l "$LOCALE" --no-fuzzy-matching --init-missing --ignore-obsolete

# 5. Re-place the "# App strings" separator before the first app-only entry (babel cannot keep a
#    free-standing comment, so it is re-created here) and list untranslated entries.
"$PY" -I - "$PO" <<'EOF'
import copy, io, sys
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

po = sys.argv[1]
MARKER = ["-" * 75, "App strings", "-" * 75]

with open(po, "rb") as f:
    cat = read_po(f)

def app_only(msg):
    return bool(msg.locations) and all(path.startswith("app/") for path, _ in msg.locations)

app_keys = []
for msg in cat:
    msg.user_comments = [c for c in msg.user_comments if c not in MARKER]
    if msg.id and app_only(msg):
        app_keys.append((msg.id, msg.context))

head = copy.deepcopy(cat)
head.obsolete = {}
tail = Catalog(locale=cat.locale, charset="utf-8", fuzzy=False)
for msgid, context in app_keys:
    tail[msgid] = cat.get(msgid, context)
    head.delete(msgid, context)

buf = io.BytesIO()
write_po(buf, head, width=76, no_location=True)
buf.write(("".join("# %s\n" % line for line in MARKER) + "\n").encode("utf-8"))
write_po(buf, tail, width=76, omit_header=True, no_location=True, sort_output=True)
with open(po, "wb") as f:
    f.write(buf.getvalue())

def untranslated(msg):
    s = msg.string
    return not all(s) if isinstance(s, (list, tuple)) else not s

missing = [m for m in cat if m.id and untranslated(m)]
fuzzy = [m for m in cat if m.id and m.fuzzy]
print("%s: %d msgids, %d untranslated, %d fuzzy" % (po, len([m for m in cat if m.id]), len(missing), len(fuzzy)))
for m in missing:
    print("  untranslated: %r  (%s)" % (m.id, ", ".join(p for p, _ in m.locations)))
EOF
