"""The main menu depends only on the viewer's permissions: render it once per permission set."""
from __future__ import annotations

from flask import current_app, g
from markupsafe import Markup

_menu_cache: dict = {}


def cached_menu() -> Markup:
    """HTML of FAB's menu for the current viewer, reused for everyone holding the same permissions."""
    appbuilder = current_app.appbuilder
    key = appbuilder.sm._permission_set(g.get("user"))
    html = _menu_cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("appbuilder/navbar_menu.html")
        html = Markup(template.render(menu=appbuilder.menu, appbuilder=appbuilder))
        if len(_menu_cache) > 256:
            _menu_cache.clear()
        _menu_cache[key] = html
    return html
