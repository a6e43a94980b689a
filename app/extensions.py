"""Extension objects, created unbound; create_app binds them."""
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

from app.replica import ReplicaAwareSession

#: the session class sends the reads of ``on_replica()`` blocks to the replica (app/replica.py)
db = SQLA(session_options={"class_": ReplicaAwareSession})
migrate = Migrate()
