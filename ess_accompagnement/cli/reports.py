"""Printing a project's « Synthèse d'accompagnement » as a PDF: ``ess-acc report``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ess_accompagnement.cli.context import Context, project_id
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.reports.summary import Variant, build_summary, render_summary

logger = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("report", help="imprimer la synthèse d'accompagnement d'un projet (PDF)")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--out", required=True, metavar="FICHIER.pdf", help="fichier PDF à écrire (remplacé s'il existe)")
    p.add_argument("--variant", default=Variant.INTERNE.value, metavar="VARIANTE",
                   help="interne (tout, notes comprises ; par défaut), partenaire (sans notes, coordonnées des "
                   "porteurs selon leur consentement) ou porteur (« Mon parcours », remis au porteur)")
    p.set_defaults(handler=cmd_report)


def cmd_report(ctx: Context) -> int:
    """Print the summary, as seen by the acting advisor's structure; the output path on standard output."""
    a = ctx.args
    variant = Variant.parse(a.variant)
    out = _output_path(a.out)
    with ctx.db().read() as session:
        structure_id = ctx.actor(session).structure_id
        data = build_summary(session, project_id(session, a.project), printing_structure_id=structure_id,
                             today=ctx.today)
    pages = render_summary(data, out, variant)  # a temporary file, renamed once complete
    logger.debug("report of project %s written: %s variant, %d pages", data.project.id.hex[:8], variant, pages)
    print(out)
    return 0


def _output_path(text: str) -> Path:
    """The PDF to write; the name is not repeated in messages (it may name a person)."""
    path = Path(text).expanduser()
    if path.suffix.lower() != ".pdf" or not path.stem:
        raise ValidationError("--out : le nom du fichier doit se terminer par .pdf (ex. synthese.pdf).", field="--out")
    if not path.parent.is_dir():
        raise ValidationError("--out : le dossier de destination n'existe pas.", field="--out")
    if path.is_dir():
        raise ValidationError("--out : c'est un dossier ; indiquez un nom de fichier .pdf.", field="--out")
    return path.resolve()
