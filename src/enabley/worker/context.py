"""What a worker's tasks share: settings, the database, keys, the webhook dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from enabley.config import Settings
from enabley.db.database import Database
from enabley.security import KeyRing
from enabley.webhooks.dispatch import Dispatcher
from enabley.webhooks.signing import secret_box


@dataclass(slots=True)
class WorkerContext:
    settings: Settings
    db: Database
    keyring: KeyRing
    dispatcher: Dispatcher

    @classmethod
    def open(cls, settings: Settings, db: Database) -> WorkerContext:
        """A worker's context on ``db``; call it on the event loop the worker will run on."""
        keyring = KeyRing(settings)
        with db.session() as session:
            keyring.load(session)
        return cls(settings, db, keyring, Dispatcher(db, secret_box(keyring), settings))
