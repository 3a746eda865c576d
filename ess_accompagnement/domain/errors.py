"""The errors a user can fix, in French, naming the field or the line at fault.

Anything else raised in the domain is a bug: logged with its traceback and shown in a crash dialog.
Messages never contain personal data (holders' names, contacts, notes): they name fields and ids.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Bad input, a forbidden transition, a missing record… explained in French.

    ``field`` names the input at fault (``commune``, ``--date``…) so a form can show the message
    next to it and the command line can name the option.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(UserFacingError):
    """A value does not have the right form (a SIRET, a date, an amount…)."""


class NotFoundError(UserFacingError):
    """A named or identified record does not exist (or was deleted)."""


class AmbiguousError(UserFacingError):
    """A name matches several records; the message lists the candidates to choose from."""


class RuleError(UserFacingError):
    """The action breaks a rule of the domain (phase order, referral state machine, rights)."""
