"""The REST import of learning platforms: a batch of records, answered per row, idempotent by key.

A batch goes through the one declaring path (``declaring.check`` / ``declaring.insert``) exactly as an Excel
import does: the good rows are inserted as pending records (all or none with ``"atomic": true``), each bad row
is answered with its reason. With an ``Idempotency-Key`` the answer is stored (``ApiBatch``) in the same
transaction: a retry with the same key and the same body gets the stored answer and inserts nothing; the same
key with another body is refused (422).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ApiBatch, CreditChannel
from app.services.credit import declaring
from app.services.credit.rules import Declarer, declarer_for, parse_row
from app.services.transaction import transaction

#: most records one request carries
MAX_RECORDS = 10_000
_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw or b"").hexdigest()


def check_key(key: Optional[str]) -> Optional[str]:
    if key is None or key == "":
        return None
    if not _KEY.fullmatch(key):
        raise InvalidInput(_("The Idempotency-Key header must be 1 to 100 visible ASCII characters"),
                           field="Idempotency-Key")
    return key


def stored_answer(declarer: Declarer, key: str, digest: str) -> Optional[dict]:
    """The answer a batch with this key got, or None; InvalidInput when the key came with another body."""
    row = db.session.execute(select(ApiBatch.request_sha256, ApiBatch.response).where(
        ApiBatch.org_id == declarer.org_id, ApiBatch.idempotency_key == key)).first()
    if row is None:
        return None
    if row.request_sha256 != digest:
        raise InvalidInput(_("This Idempotency-Key was already used for a different batch; "
                             "use a new key for new records"), field="Idempotency-Key")
    return json.loads(row.response)


def import_batch(actor, payload: Any, key: Optional[str], digest: str) -> tuple[dict, bool]:
    """(the answer, whether it is a replayed stored answer)."""
    declarer = declarer_for(actor, CreditChannel.api)
    if declarer.is_person:
        raise InvalidInput(_("Only training bases and employer units import records over the interface"))
    key = check_key(key)
    if key is not None:
        stored = stored_answer(declarer, key, digest)
        if stored is not None:
            return stored, True
    if not isinstance(payload, dict):
        raise InvalidInput(_("The request body must be a JSON object"))
    records = payload.get("records")
    if not isinstance(records, list) or not records:
        raise InvalidInput(_("“records” must be a non-empty list of records"), field="records")
    if len(records) > MAX_RECORDS:
        raise InvalidInput(_("At most %(n)d records at a time", n=MAX_RECORDS), field="records")
    atomic = payload.get("atomic", False)
    if not isinstance(atomic, bool):
        raise InvalidInput(_("“atomic” must be true or false"), field="atomic")
    parsed, problems = [], []
    for index, raw in enumerate(records):
        row, row_problems = parse_row(index, raw)
        problems.extend(row_problems)
        if row is not None:
            parsed.append((index, row))
    checked = declaring.check(declarer, parsed)
    problems.extend(checked.problems)
    messages: dict[int, list[str]] = {}
    for problem in problems:
        messages.setdefault(problem.index, []).append(
            f"{problem.field}: {problem.message}" if problem.field else problem.message)
    insert_good = bool(checked.good) and not (atomic and messages)
    try:
        with transaction():
            ids = declaring.insert(declarer, [r for _, r in checked.good]) if insert_good else []
            by_index = {index: ids[n] for n, (index, _) in enumerate(checked.good)} if insert_good else {}
            results = []
            declared = _("Declared, pending review")  # translated once, not per row
            not_imported = _("Not imported: another record of the batch has errors")
            for index in range(len(records)):
                if index in messages:
                    results.append({"index": index, "ok": False, "message": "；".join(messages[index]),
                                    "record_id": None})
                elif index in by_index:
                    results.append({"index": index, "ok": True, "message": declared,
                                    "record_id": by_index[index]})
                else:
                    results.append({"index": index, "ok": False, "record_id": None, "message": not_imported})
            answer = {"total": len(records), "imported": len(ids), "rejected": len(records) - len(ids),
                      "atomic": atomic, "results": results}
            if key is not None:
                db.session.add(ApiBatch(org_id=declarer.org_id, idempotency_key=key, request_sha256=digest,
                                        response=json.dumps(answer, ensure_ascii=False)))
                db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("A batch with this Idempotency-Key is being processed or was just stored; "
                         "retry with the same key to get its answer")) from exc
    return answer, False
