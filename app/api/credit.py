"""POST /api/v1/credit/import: learning platforms (a training base's API account) import credit-hour records."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose as api_expose, protect

from app.actor import current_actor
from app.api.base import safe
from app.services.credit.api_import import MAX_RECORDS, body_digest, import_batch

_RECORD_SCHEMA = {
    "type": "object",
    "required": ["id_number", "completed_on"],
    "properties": {
        "id_number": {"type": "string", "description": "18-digit resident ID number of a registered professional"},
        "name": {"type": "string", "description": "optional; must match the ID number when given"},
        "programme_code": {"type": "string", "description": "code (PX…) of an approved programme of the caller"},
        "standard_code": {"type": "string", "description": "code of a conversion standard (employer units)"},
        "quantity": {"type": "integer", "description": "units of the conversion standard"},
        "activity": {"type": "string", "description": "details of a standard's activity (e.g. a paper's title)"},
        "subject_kind": {"type": "string", "enum": ["public", "professional"],
                         "description": "optional; must be the programme's"},
        "mode": {"type": "string", "enum": ["online", "offline"], "description": "optional; must be the programme's"},
        "hours": {"type": "integer", "description": "optional: at most the programme's hours (default: all)"},
        "completed_on": {"type": "string", "format": "date", "description": "within the programme's dates"},
    },
}


class CreditImportApi(BaseApi):
    """A batch of up to 10,000 records, validated like the Excel import, answered per row; idempotent by key."""

    resource_name = "credit"
    class_permission_name = "CreditDeclaration"
    method_permission_name = {"import_records": "write"}
    openapi_spec_tag = "Credit hours"
    allow_browser_login = False
    openapi_spec_methods = {"import_records": {"post": {
        "parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "a retry with the same key and body gets the stored answer and inserts "
                                       "nothing; the same key with another body is refused (422)"}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["records"],
            "properties": {
                "records": {"type": "array", "maxItems": MAX_RECORDS, "items": _RECORD_SCHEMA},
                "atomic": {"type": "boolean", "default": False,
                           "description": "true: insert nothing when any record has an error"},
            }}}}},
    }}}

    @api_expose("/import", methods=["POST"])
    @protect()
    @safe
    def import_records(self):
        """Import credit-hour records
        ---
        post:
          summary: Declare credit-hour records of the caller's trainees (pending review), answered per record
          responses:
            200:
              description: one result per record, in the order sent (a replayed answer has the header Idempotent-Replayed)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      total: {type: integer}
                      imported: {type: integer}
                      rejected: {type: integer}
                      atomic: {type: boolean}
                      results:
                        type: array
                        items:
                          type: object
                          properties:
                            index: {type: integer, description: position in records, from 0}
                            ok: {type: boolean}
                            message: {type: string}
                            record_id: {type: integer, nullable: true}
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              description: the caller may not declare credit hours
            409:
              description: a batch with the same Idempotency-Key is being processed
            422:
              $ref: '#/components/responses/422'
        """
        payload = request.get_json(silent=True)
        answer, replayed = import_batch(current_actor(), payload, request.headers.get("Idempotency-Key"),
                                        body_digest(request.get_data(cache=True)))
        response = self.response(200, **answer)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response
