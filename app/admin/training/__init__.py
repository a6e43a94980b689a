"""培训计划管理 (manual 5.1.5): the submitting side for bases and units (the review lists are generic)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.navigation import TRAINING_PLANS, category as menu_category


def register(appbuilder) -> None:
    from app.admin.training.submissions import PlanView, ProgrammeView, SummaryView

    category = menu_category(TRAINING_PLANS)
    appbuilder.add_view(PlanView, "Annual training plans", label=_l("Annual training plan submission"),
                        icon="fa-calendar-plus-o", **category)
    appbuilder.add_view(ProgrammeView, "Programme declarations", label=_l("Training programme declaration"),
                        icon="fa-book", **category)
    appbuilder.add_view(SummaryView, "Annual work summaries", label=_l("Annual work summary submission"),
                        icon="fa-file-text-o", **category)
