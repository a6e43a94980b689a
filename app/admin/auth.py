"""Login page: user type, ID number and password (manual 2)."""
from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_appbuilder.security.decorators import no_cache
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user

from app.credentials import bump, stamp_session
from wtforms import PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from app.models import UserType


class LoginForm(DynamicForm):
    user_type = RadioField(
        _l("User type"),
        choices=[SelectChoice(t.value, t.label) for t in UserType],
        default=UserType.supervisory.value,
        validators=[DataRequired()],
    )
    username = StringField(_l("ID number"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class LoginView(AuthDBView):
    login_template = "security/login.html"
    title = _l("Sign in")

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm()
        form.user_type.choices = [SelectChoice(t.value, t.label) for t in UserType]
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            result = self.appbuilder.sm.authenticate(
                form.username.data, form.password.data, form.user_type.data
            )
            if result.user is None:
                flash(result.message, "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            session.clear()  # a fresh session: nothing carried over from before the sign-in
            login_user(result.user, remember=False)
            stamp_session(result.user)
            return redirect(next_url)
        return self.render_template(
            self.login_template, title=self.title, form=form, appbuilder=self.appbuilder
        )

    @expose("/logout/", methods=["POST"])
    def logout(self):
        """退出登录 (a POST with the CSRF token): this account's sessions and tokens end everywhere."""
        from app.extensions import db
        from app.services.transaction import transaction

        user = g.get("user")
        if user is not None and getattr(user, "is_authenticated", False):
            g._logging_out = True
            with transaction():
                bump([user.id])
            db.session.expire_all()
        logout_user()
        session.clear()
        return redirect(url_for(f"{type(self).__name__}.login"))
