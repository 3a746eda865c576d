"""What a use case changed, so screens refresh only what they show (like Anki's OpChanges)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    projects: bool = False
    persons: bool = False
    phases: bool = False
    appointments: bool = False
    referrals: bool = False
    financing: bool = False
    notes: bool = False
    catalogue: bool = False
    advisors: bool = False


@dataclass(frozen=True)
class Created:
    """The id of what a use case created, and what it changed."""

    id: uuid.UUID
    changes: Changes = field(default_factory=Changes)
