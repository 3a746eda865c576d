"""``ess-acc``: administration and automation, through the same use cases as the desktop (no Qt).

Exit codes: 0 success; 2 bad input or a refused action (French message on standard error, nothing
written); 1 an unexpected error (a bug: logged with its traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ess_accompagnement import __version__
from ess_accompagnement.cli import admin, exchange, figures, french_argparse, projects, referrals, reports, steps, sync
from ess_accompagnement.cli.context import Context
from ess_accompagnement.domain.errors import UserFacingError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_BUG, EXIT_USER = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    french_argparse.install()
    parser = argparse.ArgumentParser(
        prog="ess-acc",
        description="ESS Accompagnement en ligne de commande : projets, porteurs, rendez-vous, orientations.",
        epilog="Structures, dispositifs et communes se désignent par leur nom (sans souci des accents ni des "
        "majuscules), leur clé de catalogue ou leur identifiant ; projets et orientations par leur identifiant "
        "ou ses premiers caractères.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="CHEMIN", help="fichier de la base (par défaut : dossier de données de "
                        "l'utilisateur)")
    parser.add_argument("--as", dest="as_advisor", metavar="CONSEILLER",
                        help="conseiller pour qui agir (nom ou identifiant ; par défaut, le propriétaire de la base)")
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé sur la sortie d'erreur")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE", title="commandes", required=True)
    admin.register(commands)
    projects.register(commands)
    referrals.register(commands)
    steps.register(commands)
    exchange.register(commands)
    reports.register(commands)
    figures.register(commands)
    sync.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    context = Context(args)
    try:
        return int(args.handler(context) or EXIT_OK)
    except UserFacingError as exc:
        option = f" [{exc.field}]" if exc.field and args.verbose else ""
        print(f"Erreur{option} : {exc.message}", file=sys.stderr)
        return EXIT_USER
    except BrokenPipeError:
        # The reader of our output went away (``ess-acc project list | head``): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("Interrompu : rien n'a été enregistré pour la commande en cours.", file=sys.stderr)
        return EXIT_USER
    except Exception:
        logger.exception("unexpected error in command %s", args.command)
        print("Erreur inattendue : la commande a été annulée sans rien enregistrer. Relancez avec -v pour le "
              "détail et signalez-la.", file=sys.stderr)
        return EXIT_BUG
    finally:
        context.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
