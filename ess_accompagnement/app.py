"""The ``ess-accompagnement`` desktop entry point: logging, crash dialog, database, Qt, main window.

This module wires the layers together; it holds no rule of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import logging.handlers
import os
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, Qt, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ess_accompagnement import APP_AUTHOR, APP_NAME, __version__, paths
from ess_accompagnement.domain.errors import UserFacingError
from ess_accompagnement.store.db import Database, open_database

logger = logging.getLogger(__name__)

LOG_FILENAME = "ess-accompagnement.log"
LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 5
DEMO_ADVISOR = "Conseillère démo"
DEMO_STRUCTURE = "cress-cvl"
"""Catalogue key of the demo advisor's structure (resources/catalogue/catalogue.toml)."""
DEMO_SEED = 1
SYNC_STATE_SUFFIX = ".syncstate"
"""The sync engine's companion file beside a database (sync/site.py), left behind by a renamed demo build."""

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


# ---- Command line

def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest (Qt's own options such as ``-style``) for QApplication."""
    _french_argparse().install()
    parser = argparse.ArgumentParser(prog="ess-accompagnement", description="Suivi des projets accompagnés (ESS).")
    default_db = str(paths.default_db_path()).replace("%", "%%")  # argparse formats help with %
    parser.add_argument("--db", type=Path, default=None, metavar="CHEMIN",
                        help=f"fichier de la base de données (par défaut : {default_db})")
    parser.add_argument("--demo-projects", type=int, default=300, metavar="N",
                        help="nombre de projets fictifs si la base est créée (par défaut : 300)")
    parser.add_argument("--debug", action="store_true", help="journal détaillé (niveau DEBUG)")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="IMAGE.png",
                        help="dessiner un écran hors écran (1440×900) dans cette image PNG, puis quitter")
    parser.add_argument("--view", default=None, metavar="ÉCRAN",
                        help=f"écran à afficher : {', '.join(screen_keys())} ou projet:<identifiant>")
    parser.add_argument("--today", type=_iso_date, default=None, metavar="AAAA-MM-JJ",
                        help="date du jour à utiliser (captures reproductibles)")
    parser.add_argument("--measure-startup", action="store_true",
                        help="afficher l'heure du premier dessin de la fenêtre (secondes depuis l'époque) et quitter")
    args, rest = parser.parse_known_args(list(argv))
    if args.demo_projects < 0:
        parser.error("--demo-projects doit être positif ou nul")
    if args.view is not None and not valid_view(args.view):
        parser.exit(2, f"ess-accompagnement : écran inconnu « {args.view} » "
                       f"(choix : {', '.join(screen_keys())}, projet:<identifiant>)\n")
    return args, rest


def _french_argparse() -> Any:
    """``cli/french_argparse.py``, loaded alone: importing it through ``ess_accompagnement.cli`` would run
    the package's ``__init__``, which imports every command (reportlab, openpyxl…: about 1.9 s of the start)."""
    name = "ess_accompagnement.cli.french_argparse"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "cli" / "french_argparse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date invalide « {text} » : écrivez-la AAAA-MM-JJ") from None


def screen_keys() -> list[str]:
    from ess_accompagnement.ui.views.registry import VIEWS

    return [spec.key for spec in VIEWS]


def valid_view(key: str) -> bool:
    """A registry key, or « projet:<uuid> » (whether the project exists is checked once the base is open)."""
    if key.startswith("projet:"):
        try:
            uuid.UUID(key.split(":", 1)[1])
        except ValueError:
            return False
        return True
    return key in screen_keys()


# ---- Logging and crashes

def setup_logging(directory: Path, *, debug: bool = False) -> Path:
    """Log to a rotating file in ``directory``; return its path.

    Log lines carry ids, counts and paths, never names or other personal details (STYLE.md §12).
    """
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / LOG_FILENAME
    handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s [%(threadName)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.DEBUG if debug else logging.WARNING)  # one line per plugin
    logger.info("ESS Accompagnement %s starting (pid %d)", __version__, os.getpid())
    return log_path


def make_excepthook(log_path: Path, *, interactive: bool = True) -> ExceptHook:
    """A ``sys.excepthook`` that logs the exception at critical and shows the crash dialog.

    Not ``interactive`` (screenshots, measures: nobody could close a dialog), it prints the traceback
    and ends the event loop with status 1 instead.
    """
    showing = False

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        nonlocal showing
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logger.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        if not interactive:
            traceback.print_exception(exc_type, exc, tb)
            QCoreApplication.exit(1)
            return
        if showing or QApplication.instance() is None:
            return
        showing = True
        try:
            show_crash_dialog("".join(traceback.format_exception(exc_type, exc, tb)), log_path)
        finally:
            showing = False

    return hook


def show_crash_dialog(details: str, log_path: Path) -> None:
    """The dialog telling the user that the app hit a bug, and where the log is."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("CrashDialog", text)

    box = QMessageBox(QMessageBox.Icon.Critical, tr("Erreur inattendue"),
                      tr("ESS Accompagnement a rencontré une erreur inattendue. Vos données déjà enregistrées "
                         "ne sont pas perdues, mais l'action en cours n'a peut-être pas abouti."))
    box.setInformativeText(tr("Le détail est enregistré dans le journal :\n{path}\n"
                              "Joignez ce fichier à votre signalement.").format(path=log_path))
    box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


# ---- Database

def ensure_database(path: Path, demo_projects: int, *,
                    progress: Callable[[int, int], None] | None = None) -> Database:
    """Open the database at ``path``; when the file is missing, create it with a demo data set first.

    The new database is built under a temporary name and renamed when complete, so an interrupted
    creation never leaves a half-filled file that the next start would take for a real one.
    """
    if not path.exists():
        create_demo_database(path, demo_projects, progress=progress)
    return open_database(path, create=False)


def create_demo_database(path: Path, demo_projects: int, *,
                         progress: Callable[[int, int], None] | None = None) -> None:
    from ess_accompagnement.demo import generate_demo
    from ess_accompagnement.store.setup import initialise

    print(f"Création d'une base de démonstration ({demo_projects} projets) : {path}")
    logger.info("creating a demo database with %d projects at %s", demo_projects, path)
    partial = path.with_name(path.name + ".part")
    _remove_database_files(partial)
    db = open_database(partial)
    try:
        initialise(db, advisor_name=DEMO_ADVISOR, structure=DEMO_STRUCTURE)
        generate_demo(db, projects=demo_projects, seed=DEMO_SEED, today=date.today(), progress=progress)
        hand_demo_to_busiest_advisor(db, date.today())
    except BaseException:
        db.close()
        _remove_database_files(partial)
        raise
    db.close()
    os.replace(partial, path)
    partial.with_name(partial.name + SYNC_STATE_SUFFIX).unlink(missing_ok=True)  # the copy gets its own at open
    logger.info("demo database ready at %s", path)


def hand_demo_to_busiest_advisor(db: Database, today: date) -> uuid.UUID | None:
    """Make the demo advisor with the most recent appointments the owner, so the screens have work to show."""
    from ess_accompagnement.domain.advisors import set_owner
    from ess_accompagnement.domain.queries.home import busiest_advisor

    with db.transaction() as session:
        advisor_id = busiest_advisor(session, today)
        if advisor_id is not None:
            set_owner(session, advisor_id)
    logger.info("demo owner set to the busiest advisor (%s)", advisor_id)
    return advisor_id


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", SYNC_STATE_SUFFIX):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


# ---- Qt

def create_application(qt_args: list[str]) -> QApplication:
    """The QApplication, with its names, INI settings, French locale and Qt's French translation."""
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    app = QApplication(qt_args)
    install_qt_translation(app)
    return app


def install_qt_translation(app: QCoreApplication) -> QTranslator | None:
    """Install Qt's own French strings (standard buttons, context menus, dialogs); None if missing."""
    translator = QTranslator(app)
    directory = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(QLocale.Language.French, QLocale.Country.France), "qtbase", "_", directory):
        logger.warning("Qt's French translation (qtbase_fr.qm) not found in %s", directory)
        return None
    app.installTranslator(translator)
    return translator


def quit_on_interrupt(app: QApplication) -> QTimer:
    """Ctrl+C in the launching terminal closes the windows (saving their state) and quits.

    Python runs signal handlers only between bytecodes, never inside Qt's event loop: the returned
    timer wakes the interpreter up a few times a second so the handler gets its turn.
    """
    signal.signal(signal.SIGINT, lambda *_args: app.closeAllWindows())
    timer = QTimer(app, interval=250)
    timer.timeout.connect(lambda: None)
    timer.start()
    return timer


@contextlib.contextmanager
def busy_cursor() -> Iterator[None]:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


def open_or_explain(path: Path, demo_projects: int) -> Database | None:
    """The database, or None after telling the user why it cannot be opened."""
    try:
        with busy_cursor():
            return ensure_database(path, demo_projects)
    except UserFacingError as exc:
        logger.error("cannot open the database at %s: %s", path, exc)
        QMessageBox.critical(None, QCoreApplication.translate("App", "Base de données inaccessible"), str(exc))
        return None


def main(argv: Sequence[str] | None = None) -> int:
    started = time.time()
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    log_path = setup_logging(paths.log_dir(), debug=args.debug)
    unattended = args.screenshot is not None or args.measure_startup
    sys.excepthook = make_excepthook(log_path, interactive=not unattended)
    db_path: Path = args.db if args.db is not None else paths.default_db_path()
    if unattended:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before the QApplication exists
    app = create_application([sys.argv[0] if sys.argv else "ess-accompagnement", *qt_args])
    if unattended:  # a screenshot or a measure never reads nor changes the user's window state
        settings_dir = tempfile.TemporaryDirectory(prefix="ess-acc-settings-")
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir.name)
    db = open_or_explain(db_path, args.demo_projects)
    if db is None:
        return 1
    try:
        return run_window(app, db, args, started)
    finally:
        db.close()
        logger.info("database closed")


def run_window(app: QApplication, db: Database, args: argparse.Namespace, started: float) -> int:
    """Build the context and the main window, then run the event loop (or take the screenshot)."""
    from ess_accompagnement.ui import context
    from ess_accompagnement.ui.main_window import MainWindow

    today: date | None = args.today
    try:
        ctx = context.for_owner(db, today=(lambda: today) if today is not None else date.today)
    except UserFacingError as exc:
        if args.screenshot is not None or args.measure_startup:  # unattended: nobody to close a dialog
            print(f"ess-accompagnement : {exc}", file=sys.stderr)
            return 2
        QMessageBox.critical(None, QCoreApplication.translate("App", "Base de données inaccessible"), str(exc))
        return 1
    window = MainWindow(ctx, restore_view=args.view is None and args.screenshot is None)
    try:
        if args.screenshot is not None:
            return take_screenshot(window, args.view or "accueil", args.screenshot)
        if args.view is not None and not show_key(window, args.view):
            return 2
        if args.measure_startup:
            report_first_paint(app, window, started)
        window.show()
        quit_on_interrupt(app)
        return app.exec()
    finally:
        ctx.tasks.wait_idle()
        ctx.close()
        dispose(window)


def dispose(window: QWidget) -> None:
    """Delete the window's C++ objects now, while Python is alive (not at interpreter exit)."""
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, 0)
    QCoreApplication.processEvents()


def show_key(window: Any, key: str) -> bool:
    """Show a screen or « projet:<id> »; False (with a French message) if that project does not exist."""
    if not key.startswith("projet:"):
        window.show_view(key)
        return True
    from ess_accompagnement.domain.entities import Project

    project_id = uuid.UUID(key.split(":", 1)[1])
    with window.ctx.db.read() as session:
        project = session.get(Project, project_id)
        exists = project is not None and project.deleted_at is None
    if not exists:
        print(f"ess-accompagnement : aucun projet d'identifiant {project_id} dans cette base.", file=sys.stderr)
        return False
    window.open_project(project_id)
    return True


SCREENSHOT_SIZE = (1440, 900)


def take_screenshot(window: Any, key: str, out: Path) -> int:
    """Render ``key`` offscreen at 1440×900 once every load finished, save it as PNG; 0, or 2 if unknown."""
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    if not show_key(window, key):
        window.close()
        return 2
    window.wait_until_loaded()
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(out), "PNG")
    window.close()
    if not saved:
        print(f"ess-accompagnement : impossible d'écrire l'image {out}.", file=sys.stderr)
        return 1
    logger.info("screenshot of %s written", key.split(":")[0])
    return 0


def report_first_paint(app: QApplication, window: Any, started: float) -> None:
    """--measure-startup: print when the window is first painted (and since the process started), then quit."""
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and watched is window:
                now = time.time()
                print(f"first-paint {now:.6f} elapsed {now - started:.3f}", flush=True)
                app.removeEventFilter(self)
                QTimer.singleShot(0, app.quit)
            return False

    app.installEventFilter(FirstPaint(app))
