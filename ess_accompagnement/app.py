"""The ``ess-accompagnement`` desktop entry point: logging, crash dialog, database, Qt, main window.

This module wires the layers together; it holds no rule of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import logging.handlers
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, Qt, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox

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

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


# ---- Command line

def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest (Qt's own options such as ``-style``) for QApplication."""
    from ess_accompagnement.cli import french_argparse

    french_argparse.install()
    parser = argparse.ArgumentParser(prog="ess-accompagnement", description="Suivi des projets accompagnés (ESS).")
    default_db = str(paths.default_db_path()).replace("%", "%%")  # argparse formats help with %
    parser.add_argument("--db", type=Path, default=None, metavar="CHEMIN",
                        help=f"fichier de la base de données (par défaut : {default_db})")
    parser.add_argument("--demo-projects", type=int, default=300, metavar="N",
                        help="nombre de projets fictifs si la base est créée (par défaut : 300)")
    parser.add_argument("--debug", action="store_true", help="journal détaillé (niveau DEBUG)")
    args, rest = parser.parse_known_args(list(argv))
    if args.demo_projects < 0:
        parser.error("--demo-projects doit être positif ou nul")
    return args, rest


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


def make_excepthook(log_path: Path) -> ExceptHook:
    """A ``sys.excepthook`` that logs the exception at critical and shows the crash dialog."""
    showing = False

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        nonlocal showing
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logger.critical("uncaught exception", exc_info=(exc_type, exc, tb))
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
    except BaseException:
        db.close()
        _remove_database_files(partial)
        raise
    db.close()
    os.replace(partial, path)
    logger.info("demo database ready at %s", path)


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
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
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    log_path = setup_logging(paths.log_dir(), debug=args.debug)
    sys.excepthook = make_excepthook(log_path)
    db_path: Path = args.db if args.db is not None else paths.default_db_path()
    app = create_application([sys.argv[0] if sys.argv else "ess-accompagnement", *qt_args])
    db = open_or_explain(db_path, args.demo_projects)
    if db is None:
        return 1
    try:
        from ess_accompagnement.ui.main_window import MainWindow

        window = MainWindow(db)
        window.show()
        quit_on_interrupt(app)
        status = app.exec()
    finally:
        db.close()
        logger.info("database closed")
    return status
