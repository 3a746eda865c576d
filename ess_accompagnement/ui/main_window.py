"""The main window: navigation bar, lazily built screens, project pages with history, global search.

Screens come from ``views/registry.py`` and are built on first visit (``cls(ctx, parent)``), so the
first paint only pays for the home screen. A project opens as a page on the same stack; Back
(Alt+Left) returns to where the user came from. The toolbar's search (Ctrl+F) finds projects,
persons and structures as you type. Each screen refreshes itself after ``ctx.sig_changed`` (the
flags it shows); Affichage › Actualiser (F5) reloads the visible one.

Public API: ``show_view(key)``, ``open_project(project_id)``, ``go_back()``, ``focus_search()``,
``current_key``, ``page(key)``, ``wait_until_loaded()``; signal ``sig_project_activated(uuid)``.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QDeadlineTimer, QEventLoop, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ess_accompagnement import __version__
from ess_accompagnement.domain.queries.persons import person_projects
from ess_accompagnement.domain.queries.search import SearchHit
from ess_accompagnement.ui.context import AppContext
from ess_accompagnement.ui.ops import Query
from ess_accompagnement.ui.views import registry
from ess_accompagnement.ui.views.registry import VIEWS, ViewSpec
from ess_accompagnement.ui.widgets.dialog_launcher import DialogFactory, launch, load_dialog
from ess_accompagnement.ui.widgets.global_search import GlobalSearchField

logger = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 800)
HISTORY_LIMIT = 30
PROJECT_PAGES_KEPT = 5
"""Project pages kept built (the most recent ones); older ones are rebuilt when visited again."""
NAV_WIDTH = 200

# Per-machine UI state (QSettings, INI).
GEOMETRY_KEY = "ui_state/main_window/geometry"
LAST_VIEW_KEY = "ui_state/main_window/last_view"

PageFactory = Callable[[AppContext, uuid.UUID, QWidget], QWidget]


def project_key(project_id: uuid.UUID) -> str:
    return f"projet:{project_id}"


def plain(title: str) -> str:
    """A navigation title without its mnemonic marker: « &Projets » → « Projets »."""
    return title.replace("&&", "\0").replace("&", "").replace("\0", "&")


class MainWindow(QMainWindow):
    """The advisor's desktop."""

    # ---- Signals

    sig_project_activated = Signal(uuid.UUID)
    """A project was opened (from a list, the home screen or the search): its id."""
    sig_page_shown = Signal(str)
    """A page became the current one: its key (« accueil », « projet:<uuid> »…)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 page_factory: PageFactory | None = None, restore_view: bool = True) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._page_factory = page_factory
        self.dialog_factory: DialogFactory = load_dialog
        self._pages: dict[str, QWidget] = {}
        self._project_pages: OrderedDict[uuid.UUID, QWidget] = OrderedDict()
        self._history: list[str] = []
        self._current_key: str | None = None
        self.setWindowTitle(self.tr("ESS Accompagnement — {name}").format(name=ctx.db.path.name))
        self.stack = QStackedWidget(self)
        self.nav = self._make_nav()
        self.search_field = GlobalSearchField(ctx, self)
        self._make_actions()
        self._build_layout()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore_state(restore_view)
        logger.debug("main window opened")

    # ---- Building

    def _make_nav(self) -> QListWidget:
        nav = QListWidget(self)
        nav.setAccessibleName(self.tr("Navigation"))
        nav.setFixedWidth(NAV_WIDTH)
        nav.setFrameShape(QFrame.Shape.NoFrame)
        nav.setIconSize(QSize(0, 0))
        nav.setStyleSheet("QListWidget { background: palette(window); padding-top: 6px; }"
                          "QListWidget::item { padding: 7px 12px; border-radius: 4px; margin: 1px 6px; }"
                          "QListWidget::item:selected { background: palette(highlight);"
                          " color: palette(highlighted-text); }")
        for spec in VIEWS:
            title = plain(QCoreApplication.translate("Navigation", spec.title))
            item = QListWidgetItem(title, nav)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(f"{title} ({spec.shortcut})")
        return nav

    def _make_actions(self) -> None:
        self.view_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for spec in VIEWS:
            action = QAction(QCoreApplication.translate("Navigation", spec.title), self, checkable=True,
                             shortcut=QKeySequence(spec.shortcut))
            action.setStatusTip(self.tr("Afficher l'écran {title}").format(title=plain(action.text())))
            action.triggered.connect(lambda _checked=False, key=spec.key: self.show_view(key))
            group.addAction(action)
            self.addAction(action)
            self.view_actions[spec.key] = action
        self.back_action = QAction(self.tr("&Retour"), self, shortcut=QKeySequence(QKeySequence.StandardKey.Back))
        self.back_action.setStatusTip(self.tr("Revenir à l'écran précédent"))
        self.find_action = QAction(self.tr("&Rechercher…"), self, shortcut=QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.setStatusTip(self.tr("Rechercher un projet, une personne ou une structure"))
        self.refresh_action = QAction(self.tr("A&ctualiser"), self,
                                      shortcut=QKeySequence(QKeySequence.StandardKey.Refresh))
        self.new_project_action = QAction(self.tr("&Nouveau projet…"), self,
                                          shortcut=QKeySequence(QKeySequence.StandardKey.New))
        self.export_action = QAction(self.tr("&Exporter…"), self)
        self.quit_action = QAction(self.tr("&Quitter"), self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        self.about_action = QAction(self.tr("À &propos d'ESS Accompagnement"), self)
        for action in (self.back_action, self.find_action, self.refresh_action, self.new_project_action,
                       self.quit_action):
            self.addAction(action)

    def _build_layout(self) -> None:
        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        separator = QFrame(central, frameShape=QFrame.Shape.VLine, frameShadow=QFrame.Shadow.Sunken)
        layout.addWidget(separator)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&Fichier"))
        file_menu.addAction(self.new_project_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu(self.tr("&Affichage"))
        for action in self.view_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.back_action, self.find_action, self.refresh_action):
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu(self.tr("A&ide"))
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar(self.tr("Barre d'outils"), self, movable=False, floatable=False)
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.back_action)
        toolbar.addAction(self.new_project_action)
        spacer = QWidget(toolbar)
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        toolbar.addWidget(spacer)
        label = QLabel(self.tr("Rec&hercher :"), toolbar)
        label.setBuddy(self.search_field)
        toolbar.addWidget(label)
        toolbar.addWidget(self.search_field)
        for widget in toolbar.findChildren(QWidget):
            if widget.metaObject().className() == "QToolButton" and not widget.accessibleName():
                widget.setAccessibleName(widget.toolTip() or widget.objectName())
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _build_status_bar(self) -> None:
        self.who_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.who_label)
        with self.ctx.db.read() as session:
            from ess_accompagnement.domain.entities import Advisor, Structure

            advisor = session.get(Advisor, self.ctx.advisor_id)
            structure = session.get(Structure, self.ctx.structure_id)
            names = (advisor.name if advisor else "", structure.short_name or structure.name if structure else "")
        self.who_label.setText(self.tr("{advisor} · {structure}").format(advisor=names[0], structure=names[1]))

    def _connect(self) -> None:
        # Selection, not the current row: a list taking the focus makes its first row current by itself.
        self.nav.itemSelectionChanged.connect(self._on_nav_selection)
        self.back_action.triggered.connect(self.go_back)
        self.find_action.triggered.connect(self.focus_search)
        self.refresh_action.triggered.connect(self.refresh_current)
        self.new_project_action.triggered.connect(self.new_project)
        self.export_action.triggered.connect(self.export_data)
        self.quit_action.triggered.connect(self.close)
        self.about_action.triggered.connect(self.show_about)
        self.search_field.sig_hit_activated.connect(self.open_hit)
        self._update_back()

    # ---- Navigation

    @property
    def current_key(self) -> str | None:
        return self._current_key

    def page(self, key: str) -> QWidget | None:
        """The built page of ``key`` (a view key or « projet:<uuid> »), or None if not built yet."""
        if key.startswith("projet:"):
            return self._project_pages.get(uuid.UUID(key.split(":", 1)[1]))
        return self._pages.get(key)

    def show_view(self, key: str) -> QWidget:
        """Show the screen ``key`` of the registry, building it on first visit."""
        spec = registry.view_spec(key)
        page = self._pages.get(key)
        if page is None:
            page = self._build_view(spec)
            self._pages[key] = page
            self.stack.addWidget(page)
        self._show_page(key, page)
        return page

    def open_project(self, project_id: uuid.UUID) -> QWidget:
        """Show the project's page (built on first visit, kept among the recent ones)."""
        page = self._project_pages.get(project_id)
        if page is None:
            page = self._build_project_page(project_id)
            self.stack.addWidget(page)
            self._project_pages[project_id] = page
            self._drop_old_project_pages()
        else:
            self._project_pages.move_to_end(project_id)
        self._show_page(project_key(project_id), page)
        self._focus_into(page)
        self.sig_project_activated.emit(project_id)
        return page

    def go_back(self) -> None:
        """Return to the previous page (Alt+Left)."""
        while self._history:
            key = self._history.pop()
            if key != self._current_key:
                self._show_key(key, remember=False)
                break
        self._update_back()

    def _show_key(self, key: str, *, remember: bool = True) -> None:
        history = list(self._history)
        if key.startswith("projet:"):
            self.open_project(uuid.UUID(key.split(":", 1)[1]))
        else:
            self.show_view(key)
        if not remember:
            self._history = history
            self._update_back()

    def _show_page(self, key: str, page: QWidget) -> None:
        if self._current_key is not None and self._current_key != key:
            self._history.append(self._current_key)
            del self._history[:-HISTORY_LIMIT]
        self._current_key = key
        self.stack.setCurrentWidget(page)
        self._sync_nav(key)
        self._update_back()
        self.sig_page_shown.emit(key)
        logger.debug("page shown: %s", key.split(":")[0])

    @staticmethod
    def _focus_into(page: QWidget) -> None:
        """Give the keyboard to the page's first focusable widget (not the navigation or the search)."""
        for child in page.findChildren(QWidget):
            if child.focusPolicy() & Qt.FocusPolicy.TabFocus and child.isVisibleTo(page) and child.isEnabled():
                child.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def _sync_nav(self, key: str) -> None:
        keys = [spec.key for spec in VIEWS]
        row = keys.index(key) if key in keys else -1
        blocked = self.nav.blockSignals(True)
        if row >= 0:
            self.nav.setCurrentRow(row)
            self.view_actions[key].setChecked(True)
        else:
            self.nav.clearSelection()
            self.nav.setCurrentRow(-1)
        self.nav.blockSignals(blocked)

    def _on_nav_selection(self) -> None:
        selected = self.nav.selectedItems()
        if selected:
            self.show_view(selected[0].data(Qt.ItemDataRole.UserRole))

    def _update_back(self) -> None:
        self.back_action.setEnabled(bool(self._history))

    # ---- Building pages

    def _build_view(self, spec: ViewSpec) -> QWidget:
        try:
            cls = spec.load()
        except ModuleNotFoundError as exc:
            if exc.name != spec.module:
                raise
            logger.info("view %s is not available yet", spec.key)
            return self._placeholder(plain(QCoreApplication.translate("Navigation", spec.title)))
        page: QWidget = cls(self.ctx, self)
        self._connect_page(page)
        return page

    def _build_project_page(self, project_id: uuid.UUID) -> QWidget:
        if self._page_factory is not None:
            page = self._page_factory(self.ctx, project_id, self)
        else:
            try:
                cls = registry.PROJECT_PAGE.load()
            except ModuleNotFoundError as exc:
                if exc.name != registry.PROJECT_PAGE.module:
                    raise
                return self._placeholder(self.tr("Fiche projet"))
            page = cls(self.ctx, project_id, self)
        self._connect_page(page)
        return page

    def _connect_page(self, page: QWidget) -> None:
        """A screen asks for a project with ``sig_open_project(uuid)``, for a screen with ``sig_show_view(key)``."""
        signal = getattr(page, "sig_open_project", None)
        if signal is not None:
            signal.connect(self.open_project)
        show = getattr(page, "sig_show_view", None)
        if show is not None:
            show.connect(self.show_view)

    def _placeholder(self, title: str) -> QWidget:
        page = QWidget(self)
        label = QLabel(self.tr("L'écran « {title} » n'est pas encore disponible dans cette version.")
                       .format(title=title), page, alignment=Qt.AlignmentFlag.AlignCenter)
        QVBoxLayout(page).addWidget(label)
        return page

    def _drop_old_project_pages(self) -> None:
        while len(self._project_pages) > PROJECT_PAGES_KEPT:
            old_id, old = next(iter(self._project_pages.items()))
            if self._current_key == project_key(old_id):
                break
            del self._project_pages[old_id]
            self.stack.removeWidget(old)
            old.deleteLater()

    # ---- Refreshing

    @staticmethod
    def _refresh_page(page: QWidget) -> None:
        refresh = getattr(page, "refresh", None)
        if callable(refresh):
            refresh()

    def refresh_current(self) -> None:
        current = self.stack.currentWidget()
        if current is not None:
            self._refresh_page(current)

    # ---- Search

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def open_hit(self, hit: SearchHit) -> None:
        """Open what a search result names: the project, the person's project, the structure in the catalogue."""
        logger.debug("search hit opened: %s", hit.kind)
        if hit.kind == "project":
            self.open_project(hit.id)
        elif hit.kind == "person":
            person_id = hit.id
            Query(self, lambda session: person_projects(session, person_id), ctx=self.ctx) \
                .success(lambda projects: self._open_person(person_id, projects)).run()
        else:
            view = self.show_view("structures")
            show_structure = getattr(view, "show_structure", None)
            if callable(show_structure):
                show_structure(hit.id)

    def _open_person(self, person_id: uuid.UUID, projects: list[Any]) -> None:
        if len(projects) == 1:
            self.open_project(projects[0].id)
            return
        view = self.show_view("personnes")
        show_person = getattr(view, "show_person", None)
        if callable(show_person):
            show_person(person_id)

    # ---- Actions

    def new_project(self) -> None:
        """Fichier › Nouveau projet… (Ctrl+N): the project dialog; once saved, the new project's page opens."""
        dialog = launch(self.dialog_factory, "project", self.ctx, parent=self)
        saved = getattr(dialog, "sig_saved", None)
        if saved is not None:
            saved.connect(self.open_project)

    def export_data(self) -> None:
        """Fichier › Exporter…: choose what to export (the lists of this structure), then where."""
        from ess_accompagnement.ui.widgets.export import export_to_file, kind_choices

        kinds = kind_choices()
        labels = [label for _kind, label in kinds]
        chosen, ok = QInputDialog.getItem(self, self.tr("Exporter"), self.tr("&Données à exporter :"), labels, 0,
                                          False)
        if ok:
            export_to_file(self.ctx, self, kinds[labels.index(chosen)][0])

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("À propos d'ESS Accompagnement"),
                          self.tr("<b>ESS Accompagnement</b> {version}<br>Suivi des projets accompagnés par "
                                  "les structures de l'économie sociale et solidaire.").format(version=__version__))

    # ---- Waiting (screenshots, benchmarks, tests)

    def wait_until_loaded(self, timeout_ms: int = 15_000) -> bool:
        """Process events until the worker is idle and no visible page is still loading."""
        deadline = QDeadlineTimer(timeout_ms)
        quiet_rounds = 0
        while not deadline.hasExpired() and quiet_rounds < 3:
            self.ctx.tasks.wait_idle(max(1, deadline.remainingTime()))
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            loading = bool(getattr(self.stack.currentWidget(), "is_loading", False))
            quiet_rounds = 0 if self.ctx.tasks.busy or loading else quiet_rounds + 1
        return quiet_rounds >= 3

    # ---- UI state

    def _restore_state(self, restore_view: bool) -> None:
        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        last = settings.value(LAST_VIEW_KEY) if restore_view else None
        keys = [spec.key for spec in VIEWS]
        self.show_view(last if isinstance(last, str) and last in keys else keys[0])
        self._history.clear()
        self._update_back()

    def _save_state(self) -> None:
        settings = QSettings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        key = self._current_key or ""
        settings.setValue(LAST_VIEW_KEY, key if not key.startswith("projet:") else self._last_view_key())
        for page in self._pages.values():
            save = getattr(page, "save_state", None)
            if callable(save):
                save()

    def _last_view_key(self) -> str:
        for key in reversed(self._history):
            if not key.startswith("projet:"):
                return key
        return VIEWS[0].key

    # ---- Qt overrides

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_state()
        self.search_field.hide_popup()
        logger.debug("main window closed")
        super().closeEvent(event)
