"""REST login: the web login's rules and answers in Chinese; no token while a password must be changed."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import safe
from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_REFRESH_TOKEN_KEY
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_jwt_extended import create_access_token, create_refresh_token


class AppSecurityApi(SecurityApi):
    """POST /api/v1/security/login and /refresh (FAB's), with our login rules."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Sign in with ID number and password; returns a JWT (and a refresh token when asked)
        ---
        post:
          description: >-
            Authenticate with the ID number and password and get a JWT access token (and a refresh
            token with refresh=true). Unknown numbers, wrong passwords and locked accounts get the
            same answer; an account that must change its password gets no token.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password]
                  properties:
                    username:
                      description: ID number (居民身份证号)
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum: [db]
                    refresh:
                      type: boolean
          responses:
            200:
              description: Authentication Successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message=_("The request body must be a JSON object"))
        username, password = payload.get("username"), payload.get("password")
        provider, refresh = payload.get("provider", "db"), payload.get("refresh", False)
        if not isinstance(username, str) or not isinstance(password, str) or provider != "db" \
                or not isinstance(refresh, bool):
            return self.response_400(message=_("Please give the ID number and password as text"))
        result = self.appbuilder.sm.authenticate(username, password)
        if result.user is None:
            return self.response(401, message=result.message)
        if result.user.must_change_password:
            return self.response(403, message=_("You must change your password on the web page before using the API"))
        identity = str(result.user.id)
        answer = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=identity, fresh=True)}
        if refresh:
            answer[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=identity)
        return self.response(200, **answer)
