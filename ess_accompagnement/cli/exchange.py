"""Commands that move lists in and out: ``export`` (XLSX, CSV for French Excel) and ``import`` (CSV, XLSX)."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from pathlib import Path

from ess_accompagnement.cli.context import Context
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.queries import catalogue as catalogue_queries
from ess_accompagnement.reports import exports, imports

logger = logging.getLogger(__name__)

Sub = argparse._SubParsersAction  # type: ignore[type-arg]
BIG_EXPORT = 10_000  # rows from which progress is shown on standard error
KIND_HELP = "projects (projets), persons (porteurs), appointments (rendez-vous), referrals (orientations), " \
    "financing (financements)"


def register(commands: Sub) -> None:
    p = commands.add_parser("export", help="exporter une liste en XLSX ou en CSV pour Excel")
    p.add_argument("kind", metavar="LISTE", choices=[k.value for k in exports.ExportKind], help=KIND_HELP)
    p.add_argument("--format", choices=[f.value for f in exports.ExportFormat],
                   help="xlsx ou csv (par défaut : d'après l'extension de --out, sinon xlsx)")
    p.add_argument("--out", required=True, metavar="FICHIER", help="fichier à écrire (remplacé s'il existe)")
    p.add_argument("--structure", metavar="STRUCTURE", help="structure dont exporter les données (la vôtre par "
                   "défaut)")
    p.add_argument("--all-structures", action="store_true", help="toutes les données de la base, sans filtre")
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("import", help="importer des projets et leurs porteurs depuis un CSV ou un XLSX")
    p.add_argument("file", metavar="FICHIER", help="CSV (« ; », « , » ou tabulation ; UTF-8 ou Windows-1252) ou XLSX")
    p.add_argument("--dry-run", action="store_true", help="montrer ce qui serait importé, sans rien écrire")
    p.add_argument("--map", action="append", default=[], metavar="« Colonne=champ »",
                   help="forcer la correspondance d'une colonne (répétable) ; champ : "
                   + ", ".join(f.key + ("[N]" if f.holder else "") for f in imports.FIELDS)
                   + ", ou « ignorer »")
    p.add_argument("--link-probable", action="store_true",
                   help="relier aussi les porteurs dont le nom est très proche d'une personne de la même commune")
    p.set_defaults(handler=cmd_import)


# ---- export -------------------------------------------------------------------------------------


def cmd_export(ctx: Context) -> int:
    a = ctx.args
    out = Path(a.out)
    fmt = exports.ExportFormat(a.format) if a.format else _format_of(out)
    kind = exports.ExportKind(a.kind)
    db = ctx.db()
    with db.read() as session:
        structure_id = _structure(ctx, session)
    result = exports.export_list(db, kind, fmt, out, structure_id=structure_id, today=ctx.today,
                                 progress=_Progress())
    print(f"{result.rows} ligne{'s' if result.rows > 1 else ''} exportée{'s' if result.rows > 1 else ''}.",
          file=sys.stderr)
    print(result.path)
    return 0


def _format_of(out: Path) -> exports.ExportFormat:
    return exports.ExportFormat.CSV if out.suffix.lower() == ".csv" else exports.ExportFormat.XLSX


def _structure(ctx: Context, session: object) -> uuid.UUID | None:
    a = ctx.args
    if a.all_structures and a.structure:
        raise ValidationError("--structure et --all-structures s'excluent : choisissez l'un des deux.",
                              field="--structure")
    if a.all_structures:
        return None
    if a.structure:
        return catalogue_queries.resolve_structure(session, a.structure).id  # type: ignore[arg-type]
    return ctx.actor(session).structure_id  # type: ignore[arg-type]


class _Progress:
    """« 12000 / 100000 lignes » on standard error, for big exports only."""

    def __init__(self) -> None:
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if total < BIG_EXPORT:
            return
        self._shown = True
        end = "\n" if done >= total else ""
        print(f"\rExport : {done} / {total} lignes", end=end, file=sys.stderr, flush=True)


# ---- import -------------------------------------------------------------------------------------


def cmd_import(ctx: Context) -> int:
    a = ctx.args
    overrides = _overrides(a.map)
    table = imports.read_table(a.file)
    db = ctx.db()
    with db.read() as session:
        actor = ctx.actor(session)
    if a.dry_run:
        preview = imports.dry_run(db, actor, table, today=ctx.today, overrides=overrides,
                                  link_probable=a.link_probable)
        _print_preview(preview)
        if preview.errors:
            raise imports.ImportRejected(preview)
        print("Simulation (--dry-run) : rien n'a été enregistré.")
        return 0
    try:
        result = imports.apply_import(db, actor, table, today=ctx.today, overrides=overrides,
                                      link_probable=a.link_probable)
    except imports.ImportRejected as rejected:
        _print_preview(rejected.preview)
        raise
    _print_preview(result.preview)
    print(f"Import terminé : {_count(len(result.project_ids), 'projet créé', 'projets créés')}, "
          f"{_count(result.created_persons, 'personne créée', 'personnes créées')}, "
          f"{_count(result.linked_persons, 'personne existante reliée', 'personnes existantes reliées')}.")
    return 0


def _overrides(pairs: list[str]) -> dict[str, str | None]:
    overrides: dict[str, str | None] = {}
    for pair in pairs:
        column, equals, target = pair.partition("=")
        if not equals or not column.strip():
            raise ValidationError(f"--map « {pair} » : écrivez « Colonne=champ » (ex. « Ville=commune », "
                                  "« Tél. portable=telephone2 », « Remarques=ignorer »).", field="--map")
        overrides[column.strip()] = target.strip() or None
    return overrides


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n <= 1 else plural}"


def _print_preview(preview: imports.Preview) -> None:
    print(f"Fichier : {preview.source.describe()}")
    print("Colonnes :")
    for header, target in zip(preview.headers, preview.mapping.targets, strict=True):
        if header:
            print(f"  « {header} » → {target.describe() if target else 'ignorée'}")
    for note in preview.mapping.notes:
        print(f"  ({note})")
    print(f"{_count(preview.projects, 'projet', 'projets')}, {_count(preview.holders, 'porteur', 'porteurs')} "
          f"(dont {_count(preview.new_persons, 'nouvelle personne', 'nouvelles personnes')}), "
          f"{_count(preview.matches, 'correspondance', 'correspondances')}.")
    for line in preview.lines:
        for holder in line.holders:
            described = _describe_match(line.line, holder)
            if described:
                print(f"  {described}")


def _describe_match(line: int, holder: imports.HolderPlan) -> str | None:
    who = f"Ligne {line}, porteur {holder.number} ({holder.draft.first_name} {holder.draft.last_name})"
    if holder.same_as is not None:
        rule = holder.same_rule.label if holder.same_rule else ""
        return f"{who} : même personne que ligne {holder.same_as[0]}, porteur {holder.same_as[1]} ({rule})."
    match = holder.match
    if match is None:
        return None
    if match.certain:
        return f"{who} : personne existante « {match.name} » ({match.rule.label}), reliée."
    if holder.linked:
        return f"{who} : probablement « {match.name} » ({match.rule.label}), reliée à votre demande."
    return (f"{who} : probablement « {match.name} » ({match.rule.label}) ; non reliée, une nouvelle personne sera "
            "créée (--link-probable pour la relier).")
