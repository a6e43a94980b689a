"""人员调转 (manual 5.1.6): the receiving unit, or a department above it, confirms an incoming transfer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import OrganisationType, Person, Transfer
from app.navigation import TRANSFERS
from app.roles import EMPLOYER, PROVINCE, SUPERVISORY
from app.workflow.kinds import SUPERVISORS, Kind, Menu, Side, declare
from app.workflow.states import Decision

CATEGORY = TRANSFERS
AREA = "TransferReview"

LABELS = {
    "person_name": _l("Full name"), "id_number": _l("ID number"), "gender": _l("Gender"),
    "birth_date": _l("Birth date"), "education": _l("Education"), "title_series": _l("Title series"),
    "title_level": _l("Title level"), "title_name": _l("Title name"),
    "from_organisation": _l("Transferred out of"), "to_organisation": _l("Transferred to"),
    "to_department": _l("Internal department"), "reason": _l("Transfer reason"),
    "effective_date": _l("Effective date"), "status": _l("Review status"), "status_text": _l("Review status"),
    "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"), "reviewed_on": _l("Decided on"),
    "reviewed_by": _l("Decided by"), "reject_reason": _l("Reject reason"),
}
SHOW_COLUMNS = ["person_name", "id_number", "gender", "birth_date", "education", "title_series", "title_level",
                "title_name", "from_organisation", "to_organisation", "to_department", "reason",
                "effective_date", "submitted_by", "submitted_on", "status_text", "reviewed_by", "reviewed_on",
                "reject_reason"]


def person_account():
    """SQL (correlated to transfer): the login of the person moving; nobody confirms their own transfer."""
    return (select(Person.account_id).where(Person.id == Transfer.person_id)
            .correlate(Transfer).scalar_subquery())


def move_transferred(ids, actor, now):
    """Effect of 确认调转: the persons move to the receiving units (placement, set-based)."""
    from app.services.transfers import apply_transfers

    apply_transfers(ids)


TRANSFER = declare(Kind(
    key="transfer", model=Transfer, label=_l("Incoming transfer review"), area=AREA,
    menu=Menu(CATEGORY, "Incoming transfers", "fa-sign-in"),
    #: the receiving unit itself decides, and so do the departments above it
    sides=(Side("receiver", "to_org_id", strictly_above=False, label=_l("Receiving organisation")),),
    org_column="to_org_id",
    reviewer_org_types=SUPERVISORS | {OrganisationType.employer},
    reviewer_templates=(PROVINCE, SUPERVISORY, EMPLOYER),
    subject_account=person_account,
    effects={Decision.approve: move_transferred},
    list_columns=["person_name", "id_number", "from_organisation", "to_organisation", "effective_date",
                  "submitted_on", "status_text"],
    show_columns=SHOW_COLUMNS,
    search_columns=["person_name", "id_number", "to_organisation", "status", "effective_date", "submitted_on"],
    order_columns=["person_name", "effective_date", "submitted_on", "status"], label_columns=LABELS,
    one_pending_per=("person_id",), describe=lambda t: f"{t.person_name}（{t.id_number}）→ {t.to_organisation.name}",
    show_template="transfers/review_show.html", approve_label=_l("Confirm transfer"),
    audit_label=_l("Personnel transfer"),
    files=(("", _l("Transfer documents")),),
))
