"""Who is acting: services receive an Actor explicitly and never read ``g`` or ``request``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from app.models import Account, Organisation
    from app.scope import Scope


@dataclass(frozen=True)
class Actor:
    """The account acting (None for the system or an anonymous visitor) and the client address."""

    account: Optional["Account"]
    ip: Optional[str] = None
    #: the data scope, computed once on first use
    _scope: list = field(default_factory=list, compare=False, repr=False)

    @property
    def id(self) -> Optional[int]:
        return getattr(self.account, "id", None)

    @property
    def organisation(self) -> Optional["Organisation"]:
        return getattr(self.account, "organisation", None)

    @property
    def scope(self) -> "Scope":
        if not self._scope:
            from app.scope import scope_for

            self._scope.append(scope_for(self.account))
        return self._scope[0]

    @classmethod
    def system(cls) -> "Actor":
        """Commands, seeding and jobs without a person behind them."""
        return cls(None, None)

    @classmethod
    def of(cls, account: Optional["Account"], ip: Optional[str] = None) -> "Actor":
        return cls(account, ip)


def current_actor() -> Actor:
    """The signed-in user and client address of this request; only the web layer calls this."""
    from flask import g, has_request_context, request

    if not has_request_context():
        return Actor.system()
    user = g.get("user")
    account = user if getattr(user, "is_authenticated", False) else None
    return Actor(account, request.remote_addr)
