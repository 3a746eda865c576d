"""A stand-in for the dialogs of ``ui/dialogs``: records how a screen asked for them."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal


class FakeDialog(QObject):
    sig_saved = Signal(object)

    def __init__(self, key: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.key, self.args, self.kwargs = key, args, kwargs
        self.opened = False

    def open(self) -> None:
        self.opened = True


class DialogRecorder:
    """Use as a screen's ``dialog_factory``; ``calls`` lists the dialogs asked for."""

    def __init__(self) -> None:
        self.calls: list[FakeDialog] = []

    def __call__(self, key: str, *args: Any, **kwargs: Any) -> FakeDialog:
        dialog = FakeDialog(key, args, kwargs)
        self.calls.append(dialog)
        return dialog

    @property
    def last(self) -> FakeDialog:
        return self.calls[-1]
