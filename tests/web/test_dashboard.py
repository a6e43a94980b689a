"""首页 counts: subtree only, approved only, the own organisation not counted."""
from __future__ import annotations

import re

from tests.conftest import EDU_ID, HEALTH_ID, PROVINCE_ID


def _expected(app, root_name):
    from app.extensions import db
    from app.models import Organisation, Person

    with app.app_context():
        root = db.session.query(Organisation).filter_by(name=root_name).one()
        orgs = [o for o in db.session.query(Organisation) if o.path.startswith(root.path) and o.id != root.id
                and o.status.value == "approved"]
        ids = {o.id for o in db.session.query(Organisation) if o.path.startswith(root.path)}
        persons = sum(1 for p in db.session.query(Person) if p.employer_id in ids and p.status.value == "active")
        by_type = lambda t: sum(1 for o in orgs if o.type.value == t)  # noqa: E731
        return {"supervisory": by_type("supervisory"), "employer": by_type("employer"),
                "training-base": by_type("training_base"), "persons": persons}


def _shown(page):
    return {key: int(re.search(rf'id="count-{key}">(\d+)<', page).group(1))
            for key in ("supervisory", "employer", "training-base", "persons")}


def test_dashboard_counts_match_the_subtree(app, client_for):
    for id_number, root in ((HEALTH_ID, "湖北省卫生健康委员会"), (EDU_ID, "湖北省教育厅"),
                            (PROVINCE_ID, "湖北省人力资源和社会保障厅")):
        page = client_for(id_number).get("/").get_data(as_text=True)
        assert _shown(page) == _expected(app, root), root


def test_dashboard_has_a_todo_panel_fed_by_a_registry(app, client_for):
    from app.services.dashboard import TASK_REGISTRY, TodoKind, register_todo

    register_todo(TodoKind("test_kind", "测试待办", lambda scope, actor_id: 7, "PersonView.list"))
    try:
        page = client_for(HEALTH_ID).get("/").get_data(as_text=True)
        assert "测试待办" in page and '<span class="badge">7</span>' in page
    finally:
        TASK_REGISTRY.pop("test_kind")


def test_menu_matches_each_viewers_permissions(app, client_for):
    from tests.conftest import BASE_ID

    province = client_for(PROVINCE_ID).get("/").get_data(as_text=True)
    base = client_for(BASE_ID).get("/").get_data(as_text=True)
    again = client_for(PROVINCE_ID).get("/organisations/list/").get_data(as_text=True)
    assert "/roles/list/" in province and "/roles/list/" in again      # reused for the same permissions
    assert "/roles/list/" not in base and "/review/" not in base
