"""Form fields shared by views."""
from __future__ import annotations

from flask_appbuilder.fields import QuerySelectMultipleField


class StrictQuerySelectMultipleField(QuerySelectMultipleField):
    """FAB's multiple select, but an id that was not offered is an error rather than dropped.

    FAB 5.3 checks for unknown ids before it has read the submitted ids, so a tampered id is
    silently left out and the rest saved; here the submitted ids are read first.
    """

    def pre_validate(self, form):
        self.data  # noqa: B018 - resolves the submitted ids and notes any that were not offered
        super().pre_validate(form)
