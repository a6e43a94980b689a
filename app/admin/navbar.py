"""The main menu depends only on the viewer's kind and permissions: render it once per pair.

The permission set is read from the database on every request, so a role change shows on every host at
once; the key also carries the shared "menu" generation (app/shared.py), which ``sync-roles`` and role
edits bump, so no host keeps a menu rendered from an older registration.
"""
from __future__ import annotations

from flask import current_app, g
from markupsafe import Markup

from app.navigation import tree_kind, visible_tree

_menu_cache: dict = {}


def cached_menu() -> Markup:
    """HTML of the viewer's menu tree, reused for everyone of the same kind holding the same permissions."""
    appbuilder = current_app.appbuilder
    user = g.get("user")
    kind = tree_kind(user)
    from app.shared import generation

    key = (kind, appbuilder.sm._permission_set(user), generation("menu"))
    html = _menu_cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("navigation/menu.html")
        html = Markup(template.render(sections=visible_tree(appbuilder.menu, kind, key[1])))
        if len(_menu_cache) > 256:
            _menu_cache.clear()
        _menu_cache[key] = html
    return html
