"""The main menu depends only on the viewer's kind and permissions: render it once per pair."""
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
    key = (kind, appbuilder.sm._permission_set(user))
    html = _menu_cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("navigation/menu.html")
        html = Markup(template.render(sections=visible_tree(appbuilder.menu, kind, key[1])))
        if len(_menu_cache) > 256:
            _menu_cache.clear()
        _menu_cache[key] = html
    return html
