"""Commands that print and export figures: indicators, rapport d'activité, agenda (.ics), observatory export."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy.orm import Session

from ess_accompagnement.cli.context import Context, short
from ess_accompagnement.cli.output import print_json, print_table
from ess_accompagnement.cli.projects import _departement
from ess_accompagnement.domain import indicators as ind
from ess_accompagnement.domain.advisors import resolve_advisor
from ess_accompagnement.domain.entities import Advisor
from ess_accompagnement.domain.errors import UserFacingError, ValidationError
from ess_accompagnement.domain.queries import catalogue as catalogue_queries
from ess_accompagnement.domain.queries.projects import project_rows
from ess_accompagnement.domain.validation import format_date, french_date
from ess_accompagnement.reports.activity import build_activity_report, check_output, write_activity_report
from ess_accompagnement.reports.calendar import export_agenda
from ess_accompagnement.reports.observatory import ObservatoryFormat, export_observatory

BY_CHOICES = tuple(d.value for d in (*ind.PROJECT_DIMENSIONS, *ind.HOLDER_DIMENSIONS, ind.Dimension.STRUCTURE))
_EPCI = re.compile(r"^\d{9}$")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("indicators", help="indicateurs d'une période (projets, parcours, orientations…)")
    p.add_argument("--from", dest="start", required=True, metavar="JJ/MM/AAAA", help="premier jour de la période")
    p.add_argument("--to", dest="end", required=True, metavar="JJ/MM/AAAA", help="dernier jour (date « au »)")
    p.add_argument("--by", choices=BY_CHOICES, metavar="DIMENSION",
                   help="ventiler les projets accompagnés : " + ", ".join(BY_CHOICES))
    p.add_argument("--structure", metavar="STRUCTURE", help="le travail de cette structure seulement")
    p.add_argument("--dispositif", metavar="DISPOSITIF", help="les projets entrés dans ce dispositif")
    p.add_argument("--departement", metavar="DÉP", help="projets des communes de ce département (ex. 37)")
    p.add_argument("--epci", metavar="SIREN", help="projets des communes de cet EPCI (SIREN à 9 chiffres)")
    p.add_argument("--explain", metavar="INDICATEUR=VALEUR",
                   help="lister les projets derrière un chiffre, ex. projets_accompagnes.phase=creation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_indicators)

    p = commands.add_parser("rapport", help="rapport d'activité d'une période, en PDF ou en XLSX")
    p.add_argument("--from", dest="start", required=True, metavar="JJ/MM/AAAA", help="premier jour de la période")
    p.add_argument("--to", dest="end", required=True, metavar="JJ/MM/AAAA", help="dernier jour (date « au »)")
    p.add_argument("--out", required=True, metavar="FICHIER.pdf|FICHIER.xlsx",
                   help="fichier à écrire (remplacé s'il existe) ; le format suit l'extension")
    p.add_argument("--structure", metavar="STRUCTURE", help="le travail de cette structure seulement")
    p.add_argument("--departement", metavar="DÉP", help="projets des communes de ce département (ex. 37)")
    p.set_defaults(handler=cmd_rapport, dispositif=None, epci=None)

    p = commands.add_parser("agenda", help="écrire les rendez-vous d'un conseiller dans un fichier .ics")
    p.add_argument("--out", required=True, metavar="FICHIER.ics")
    p.add_argument("--advisor", metavar="CONSEILLER", help="nom ou identifiant (vous par défaut)")
    p.add_argument("--from", dest="start", metavar="JJ/MM/AAAA", help="à partir de ce jour")
    p.add_argument("--to", dest="end", metavar="JJ/MM/AAAA", help="jusqu'à ce jour inclus")
    p.add_argument("--permanences", action="store_true", help="ajouter les permanences de sa structure")
    p.set_defaults(handler=cmd_agenda)

    p = commands.add_parser("observatory", help="export annuel agrégé et anonymisé pour l'observatoire de la CRESS")
    p.add_argument("--year", required=True, type=int, metavar="AAAA")
    p.add_argument("--out", required=True, metavar="FICHIER")
    p.add_argument("--format", choices=[f.value for f in ObservatoryFormat],
                   help="csv ou json (par défaut : selon l'extension du fichier, sinon csv)")
    p.set_defaults(handler=cmd_observatory)


@contextlib.contextmanager
def naming(option: str, *, field: str | None = None) -> Iterator[None]:
    """Re-raise a user-facing error (whose field is ``field``, if given) with the option at fault at the
    head of its message."""
    try:
        yield
    except UserFacingError as exc:
        if (field is not None and exc.field != field) or exc.message.startswith(option):
            raise
        raise type(exc)(f"{option} : {exc.message}", field=option) from None


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    with naming(option):
        return french_date(value, option)


def _period(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationError(f"--to : le {format_date(end)} précède le début de la période "
                              f"(--from {format_date(start)}).", field="--to")


# ---- indicators ----------------------------------------------------------------------------------


def cmd_indicators(ctx: Context) -> int:
    a = ctx.args
    start, end = _date(a.start, "--from"), _date(a.end, "--to")
    assert start is not None and end is not None
    _period(start, end)
    explain = _explain_request(a.explain)
    with ctx.db().read() as session:
        scope = _scope(session, a, start, end)
        figures = ind.compute_indicators(session, scope)
        if explain is not None:
            return _print_explained(session, figures, *explain, as_json=a.json)
    if a.json:
        print_json({"periode": {"debut": start, "fin": end}, "chiffres": [_jsonable(f) for f in _selected(figures, a.by)]})
    elif a.by:
        _print_breakdown(figures, ind.Dimension(a.by))
    else:
        _print_summary(figures)
    return 0


def _scope(session: Session, a: argparse.Namespace, start: dt.date, end: dt.date) -> ind.Scope:
    structure = dispositif = None
    if a.structure:
        with naming("--structure"):
            structure = catalogue_queries.resolve_structure(session, a.structure).id
    if a.dispositif:
        with naming("--dispositif"):
            dispositif = catalogue_queries.resolve_dispositif(session, a.dispositif).id
    if a.epci is not None and not _EPCI.match(a.epci.strip()):
        raise ValidationError(f"--epci « {a.epci} » : SIREN de l'EPCI attendu (9 chiffres, ex. 243700754).",
                              field="--epci")
    return ind.Scope(start, end, structure_id=structure, dispositif_id=dispositif,
                     departement=_departement(a.departement), epci_siren=a.epci.strip() if a.epci else None)


def _explain_request(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    key, sep, bucket = value.partition("=")
    if not sep or not key.strip() or not bucket.strip():
        raise ValidationError(f"--explain « {value} » : forme attendue INDICATEUR[.DIMENSION]=VALEUR "
                              "(ex. projets_accompagnes.phase=creation, parcours_entres.structure=urscop).",
                              field="--explain")
    return key.strip(), bucket.strip()


def _selected(figures: ind.Indicators, by: str | None) -> tuple[ind.Figure, ...]:
    if by is None:
        return figures.figures
    return tuple(f for f in figures.figures if f.dimension.value == by or f.dimension is ind.Dimension.ALL)


def _jsonable(figure: ind.Figure) -> dict[str, Any]:
    return {"cle": figure.key, "indicateur": figure.indicator, "dimension": figure.dimension.value,
            "valeur": figure.bucket, "libelle": figure.label, "effectif": figure.count,
            "unite": ind.INDICATORS[figure.indicator].counts, "montant": figure.value,
            "unite_montant": ind.INDICATORS[figure.indicator].value_unit}


def _print_explained(session: Session, figures: ind.Indicators, key: str, bucket: str, *, as_json: bool) -> int:
    with naming("--explain"):
        figure = ind.find_figure(figures, key, bucket)
    ids = list(figure.project_ids)
    if as_json:
        print_json({"chiffre": _jsonable(figure), "projets": ids})
        return 0
    rows = project_rows(session, ids)
    definition = ind.INDICATORS[figure.indicator]
    print(f"{definition.label} — {figure.label} : {figure.count} {definition.counts}, "
          f"{len(ids)} projet{'s' if len(ids) > 1 else ''} derrière ce chiffre")
    print_table(["Id", "Titre", "Commune", "Phase actuelle", "Statut", "Structure"],
                [(short(r.id), r.title, r.commune, r.phase, r.status, r.lead_structure) for r in rows], max_width=36)
    return 0


def _heading(figures: ind.Indicators) -> str:
    scope = figures.scope
    return (f"Indicateurs du {format_date(scope.start)} au {format_date(scope.end)} "
            f"(situation au {format_date(scope.end)})")


def _print_summary(figures: ind.Indicators) -> None:
    print(_heading(figures))
    print()
    totals = [(ind.INDICATORS[f.indicator], f) for f in figures.figures if f.dimension is ind.Dimension.ALL]
    print_table(["Indicateur", "Effectif", "Mesure"],
                [(d.label, f"{f.count} {d.counts}", _measure(f, d)) for d, f in totals])
    for dimension, title in ((ind.Dimension.STRUCTURE, "Parcours par structure"),
                             (ind.Dimension.DISPOSITIF, "Parcours par dispositif")):
        lines = figures.pipeline(dimension)
        if lines:
            print(f"\n{title}")
            for line in lines:
                print(f"  {line.label} ({line.bucket}) : {line.sentence}")
    _print_referrals(figures)
    print("\nDétail d'un chiffre : --explain INDICATEUR[.DIMENSION]=VALEUR (ex. projets_accompagnes=total).")


def _measure(figure: ind.Figure | None, definition: ind.IndicatorDef) -> str:
    if figure is None or figure.value is None or definition.value_unit is None:
        return ""
    return f"{format_decimal(figure.value, locale='fr_FR')} {definition.value_unit}"


def _print_referrals(figures: ind.Indicators) -> None:
    keys = ("orientations_envoyees", "orientations_recues", "orientations_acceptees", "orientations_refusees",
            "orientations_expirees")
    by_structure: dict[str, dict[str, Any]] = {}
    for key in keys:
        for f in figures.breakdown(key, ind.Dimension.STRUCTURE):
            by_structure.setdefault(f.label, {})[key] = f.count
    if by_structure:
        print("\nOrientations par structure")
        print_table(["Structure", "Envoyées", "Reçues", "Acceptées", "Refusées", "Expirées"],
                    [(name, *(counts.get(k, 0) for k in keys)) for name, counts in sorted(by_structure.items())])


def _print_breakdown(figures: ind.Indicators, dimension: ind.Dimension) -> None:
    indicator = "porteurs" if dimension in ind.HOLDER_DIMENSIONS else "projets_accompagnes"
    definition = ind.INDICATORS[indicator]
    total = figures.count(indicator)
    print(f"{_heading(figures)}\n{definition.label} par {dimension.label} ({total} {definition.counts})\n")
    rows = [(f.label, f.bucket, f.count, f"{100 * f.count / total:.1f} %".replace(".", ",") if total else "")
            for f in figures.breakdown(indicator, dimension)]
    print_table(["Valeur", "Code", definition.counts.capitalize(), "Part"], rows, max_width=50)
    print(f"\nDétail : --explain {indicator}.{dimension.value}=CODE")


# ---- rapport d'activité ------------------------------------------------------------------------


def cmd_rapport(ctx: Context) -> int:
    """Write the activity report of a period; its path on standard output, a summary on standard error."""
    a = ctx.args
    start, end = _date(a.start, "--from"), _date(a.end, "--to")
    assert start is not None and end is not None
    _period(start, end)
    with naming("--out", field="out"):
        out = check_output(a.out)
    with ctx.db().read() as session:
        scope = _scope(session, a, start, end)
        report = build_activity_report(session, scope, printing_structure_id=ctx.actor(session).structure_id,
                                       today=ctx.today)
    with naming("--out", field="out"):
        write_activity_report(report, out)
    print(out.resolve())
    print(f"Rapport d'activité du {format_date(start)} au {format_date(end)} écrit : "
          f"{report.indicators.count('projets_accompagnes')} projets accompagnés.", file=sys.stderr)
    return 0


# ---- agenda --------------------------------------------------------------------------------------


def cmd_agenda(ctx: Context) -> int:
    a = ctx.args
    out = Path(a.out)
    if out.suffix.lower() != ".ics":
        raise ValidationError(f"--out « {a.out} » : le fichier d'agenda doit se terminer par .ics.", field="--out")
    start, end = _date(a.start, "--from"), _date(a.end, "--to")
    _period(start, end)
    with ctx.db().read() as session:
        advisor_id = _advisor(ctx, session, a.advisor)
        structure = session.get(Advisor, advisor_id).structure_id if a.permanences else None  # type: ignore[union-attr]
        with naming("--out", field="out"):
            summary = export_agenda(session, out, advisor_id, start=start, end=end, permanences_of=structure)
    message = f"Agenda écrit : {out} ({summary.appointments} rendez-vous"
    message += f", {summary.permanences} permanences)" if a.permanences else ")"
    if summary.skipped_permanences:
        message += (f" ; {summary.skipped_permanences} permanence(s) non écrite(s) : hors fuseau Europe/Paris, "
                    "sans première séance ou récurrence illisible")
    print(message, file=sys.stderr)
    return 0


def _advisor(ctx: Context, session: Session, value: str | None) -> uuid.UUID:
    if value is None:
        return ctx.actor(session).advisor_id
    with naming("--advisor"):
        return resolve_advisor(session, value)


# ---- observatory ---------------------------------------------------------------------------------


def cmd_observatory(ctx: Context) -> int:
    a = ctx.args
    out = Path(a.out)
    fmt = ObservatoryFormat(a.format) if a.format else \
        ObservatoryFormat.JSON if out.suffix.lower() == ".json" else ObservatoryFormat.CSV
    with ctx.db().read() as session, naming("--year", field="year"), naming("--out", field="out"):
        report = export_observatory(session, a.year, out, fmt, today=ctx.today)
    secret = sum(r.secret for r in report.rows)
    print(f"Export pour l'observatoire ({report.year}, format {fmt.value}) écrit : {out} — {len(report.rows)} lignes, "
          f"dont {secret} sous secret statistique.", file=sys.stderr)
    return 0

