"""Operations endpoints for load balancers and monitoring: /healthz, /readyz, /metrics.

* ``/healthz``: the process answers (200 "ok"); touches nothing else, so a database outage never makes
  the balancer kill healthy processes.
* ``/readyz``: whether this host can serve: the database (SELECT 1), Redis (PING, when configured) and the
  file store each "ok", "error" or "off"; 200 when nothing is "error", else 503.
* ``/metrics``: Prometheus text format, for networks in METRICS_ALLOW or the signed-in province admin;
  anyone else gets the same 404 as an unknown page.
"""
from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, g, jsonify, request

log = logging.getLogger("app.ops")
ops = Blueprint("ops", __name__)


@ops.route("/healthz")
def healthz():
    """Liveness: no database, no Redis, no file store."""
    return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})


def _database() -> str:
    from sqlalchemy import text

    from app.extensions import db

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: database check failed: %s", exc)
        return "error"


def _storage() -> str:
    from app.storage import get_storage

    try:
        return "ok" if get_storage().check() else "error"
    except Exception as exc:  # noqa: BLE001
        log.warning("readiness: file store check failed: %s", exc)
        return "error"


@ops.route("/readyz")
def readyz():
    """Readiness: 200 when every configured dependency answers, 503 (with which one failed) otherwise."""
    from app.shared import ping

    checks = {"database": _database(), "redis": ping(), "storage": _storage()}
    response = jsonify(checks)
    response.status_code = 503 if "error" in checks.values() else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@lru_cache(maxsize=16)
def _networks(setting: str) -> tuple:
    networks = []
    for part in setting.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            log.warning("METRICS_ALLOW: %r is not a network, ignored", part)
    return tuple(networks)


def address_allowed(address: str | None, setting: str) -> bool:
    """Whether a client address lies in one of the comma-separated networks (CIDRs or single addresses)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks(setting))


def _province_admin() -> bool:
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN")
    return any(role.name == admin_role for role in user.roles)


@ops.route("/metrics")
def metrics():
    """Prometheus metrics for the monitoring network or the province admin; 404 for everyone else."""
    if not (address_allowed(request.remote_addr, current_app.config.get("METRICS_ALLOW", "")) or _province_admin()):
        abort(404)
    from prometheus_client import CONTENT_TYPE_LATEST

    from app.metrics import render

    return Response(render(current_app._get_current_object()), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def register_ops(app) -> None:
    """The blueprint, outside the rate limiter (probes come every few seconds from one address)."""
    app.register_blueprint(ops)
    limiter = getattr(app.appbuilder.sm, "limiter", None)
    if limiter is not None:
        limiter.exempt(ops)
