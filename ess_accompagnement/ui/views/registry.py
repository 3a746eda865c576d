"""The navigation entries of the main window, and the classes behind them, imported on first use.

Each view is a ``QWidget`` built as ``cls(ctx, parent)``, with a ``refresh()`` method; the project
page is built as ``ProjectPage(ctx, project_id, parent)``. Importing a screen's module only when it
is first shown keeps the first paint of the window fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP


@dataclass(frozen=True)
class ViewSpec:
    key: str
    """Stable name (``--view``, saved state)."""
    title: str
    """Untranslated French title, marked with QT_TRANSLATE_NOOP("Navigation", …)."""
    shortcut: str
    module: str
    class_name: str

    def load(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)  # type: ignore[no-any-return]


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("accueil", QT_TRANSLATE_NOOP("Navigation", "&Accueil"), "Ctrl+1",
             "ess_accompagnement.ui.views.home", "HomeView"),
    ViewSpec("projets", QT_TRANSLATE_NOOP("Navigation", "&Projets"), "Ctrl+2",
             "ess_accompagnement.ui.views.projects", "ProjectsView"),
    ViewSpec("personnes", QT_TRANSLATE_NOOP("Navigation", "P&ersonnes"), "Ctrl+3",
             "ess_accompagnement.ui.views.persons", "PersonsView"),
    ViewSpec("agenda", QT_TRANSLATE_NOOP("Navigation", "A&genda"), "Ctrl+4",
             "ess_accompagnement.ui.views.agenda", "AgendaView"),
    ViewSpec("orientations", QT_TRANSLATE_NOOP("Navigation", "&Orientations"), "Ctrl+5",
             "ess_accompagnement.ui.views.referrals", "ReferralsView"),
    ViewSpec("structures", QT_TRANSLATE_NOOP("Navigation", "&Structures et dispositifs"), "Ctrl+6",
             "ess_accompagnement.ui.views.catalogue", "CatalogueView"),
    ViewSpec("tableau-de-bord", QT_TRANSLATE_NOOP("Navigation", "&Tableau de bord"), "Ctrl+7",
             "ess_accompagnement.ui.views.dashboard", "DashboardView"),
    ViewSpec("conflits", QT_TRANSLATE_NOOP("Navigation", "&Conflits"), "Ctrl+8",
             "ess_accompagnement.ui.views.conflicts", "ConflictsView"),
    ViewSpec("synchronisation", QT_TRANSLATE_NOOP("Navigation", "S&ynchronisation"), "Ctrl+9",
             "ess_accompagnement.ui.views.sync_view", "SyncView"),
    ViewSpec("doublons", QT_TRANSLATE_NOOP("Navigation", "&Doublons"), "Ctrl+0",
             "ess_accompagnement.ui.views.duplicates", "DuplicatesView"),
)

PROJECT_PAGE = ViewSpec("projet", QT_TRANSLATE_NOOP("Navigation", "Projet"), "",
                        "ess_accompagnement.ui.views.project_page", "ProjectPage")


def view_spec(key: str) -> ViewSpec:
    for spec in VIEWS:
        if spec.key == key:
            return spec
    raise KeyError(key)
