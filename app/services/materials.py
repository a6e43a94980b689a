"""年度工作材料报送 (manual 5.3): a supervisory department reports its year's materials to the departments above it."""
from __future__ import annotations

from app.models import OrganisationType, ReviewStatus
from app.services.own_submissions import OwnSubmission, check_text, check_year


def clean_material(values: dict) -> dict:
    return {
        "year": check_year(values.get("year")),
        "title": check_text(values.get("title"), "title", 200),
        "remarks": check_text(values.get("remarks"), "remarks", 5_000, required=False),
    }


#: a department edits its materials while they wait for review, and after a rejection (then resubmitted)
MATERIAL = OwnSubmission("work_material", frozenset({OrganisationType.supervisory}), clean_material,
                         editable=(ReviewStatus.pending, ReviewStatus.rejected))
