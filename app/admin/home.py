"""首页: the organisation's name, counts in scope and the to-do panel."""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from app.services import dashboard


class HomeView(IndexView):
    route_base = ""
    index_template = "home.html"

    @expose("/")
    def index(self):
        user = g.get("user")
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        if user.user_type is not None and user.user_type.value == "personnel":
            return redirect(url_for("SelfServiceView.index"))
        return self.render_template(self.index_template, summary=dashboard.summary(user),
                                    appbuilder=self.appbuilder)
