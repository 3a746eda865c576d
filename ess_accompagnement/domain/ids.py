"""Identifiers made on the device: UUIDv7 for new rows, UUIDv5 for rows with a natural identity."""

from __future__ import annotations

import uuid

import uuid6

# Fixed namespace of the app: never change it, every copy of the database derives ids from it.
NAMESPACE = uuid.UUID("6f0c3b8e-5a4d-4c1e-9b7a-2d8e1f0a9c53")


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7: unique across copies, and index-friendly."""
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def catalogue_id(kind: str, key: str) -> uuid.UUID:
    """The id of a catalogue entry, the same in every copy: UUIDv5 of ``kind:key``."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def member_id(project_id: uuid.UUID, person_id: uuid.UUID) -> uuid.UUID:
    """The id of a project↔person link, so two copies adding the same link make one row."""
    return uuid.uuid5(NAMESPACE, f"project:{project_id}|person:{person_id}")
