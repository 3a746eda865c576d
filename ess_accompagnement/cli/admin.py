"""Commands that set up and describe a database: init, demo, advisor, catalogue, search, config."""

from __future__ import annotations

import argparse
import sys
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.cli.context import Context, parse_code
from ess_accompagnement.cli.output import print_json, print_table
from ess_accompagnement.domain import advisors, settings
from ess_accompagnement.domain.codes import AdvisorRole, Phase, SupportType
from ess_accompagnement.domain.entities import Advisor, Project, Structure
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.domain.queries import catalogue as catalogue_queries
from ess_accompagnement.domain.queries.search import search
from ess_accompagnement.store import setup

SEARCH_KINDS = {"project": "projet", "person": "personne", "structure": "structure"}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("init", help="créer la base (communes, catalogue) et son conseiller propriétaire")
    p.add_argument("--advisor", metavar="NOM", help="« Prénom Nom » du conseiller qui utilise cette base")
    p.add_argument("--structure", metavar="STRUCTURE", help="sa structure (nom ou clé du catalogue)")
    p.set_defaults(handler=cmd_init)

    p = commands.add_parser("demo", help="créer une base neuve remplie de données de démonstration générées")
    p.add_argument("--projects", type=int, default=300, metavar="N", help="nombre de projets (300 par défaut)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="graine : même graine, mêmes données")
    p.set_defaults(handler=cmd_demo)

    advisor = commands.add_parser("advisor", help="conseillers").add_subparsers(dest="action", required=True,
                                                                             metavar="ACTION")
    p = advisor.add_parser("add", help="ajouter un conseiller")
    p.add_argument("--name", required=True, metavar="NOM")
    p.add_argument("--structure", required=True, metavar="STRUCTURE")
    p.add_argument("--email", metavar="COURRIEL")
    p.add_argument("--role", default="conseiller", help="conseiller, responsable ou lecture")
    p.set_defaults(handler=cmd_advisor_add)
    p = advisor.add_parser("list", help="lister les conseillers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_advisor_list)

    p = commands.add_parser("catalogue", help="structures et dispositifs du catalogue")
    p.add_argument("--phase", help="ne garder que ce qui sert cette phase")
    p.add_argument("--support", help="type d'appui (accompagnement, financement…)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_catalogue)

    p = commands.add_parser("search", help="chercher projets, personnes et structures (sans souci des accents)")
    p.add_argument("text", metavar="TEXTE")
    p.add_argument("--limit", type=int, default=20, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_search)

    p = commands.add_parser("config", help="réglages partagés de la base")
    p.add_argument("--referral-expiry-days", type=int, metavar="JOURS",
                   help="délai après lequel une orientation sans réponse expire (30 par défaut)")
    p.set_defaults(handler=cmd_config)


def cmd_init(ctx: Context) -> int:
    existed = ctx.db_path.exists()
    db = ctx.db(create=True)
    result = setup.initialise(db, advisor_name=ctx.args.advisor, structure=ctx.args.structure)
    verb = "mise à jour" if existed else "créée"
    print(f"Base {verb} : {ctx.db_path} ({result.communes} communes ; catalogue : {result.catalogue.added} ajouts, "
          f"{result.catalogue.updated} mises à jour, {result.catalogue.kept_user_edits} modifications des "
          "utilisateurs conservées).", file=sys.stderr)
    if result.owner_id is not None:
        print(result.owner_id)
    return 0


def cmd_demo(ctx: Context) -> int:
    from ess_accompagnement.demo import generate_demo

    if not 1 <= ctx.args.projects <= 1_000_000:
        raise RuleError("--projects : entre 1 et 1 000 000 projets.", field="projects")
    if ctx.db_path.exists():
        raise RuleError(f"Le fichier {ctx.db_path} existe déjà : la démonstration s'écrit dans une base neuve "
                        "(choisissez un autre --db).", field="db")
    db = ctx.db(create=True)
    try:
        setup.load_reference_data(db)
        summary = generate_demo(db, projects=ctx.args.projects, seed=ctx.args.seed, today=ctx.today,
                                progress=_progress)
        with db.transaction() as session:
            owner = _first_demo_advisor(session)
            advisors.set_owner(session, owner)
    except BaseException:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            ctx.db_path.with_name(ctx.db_path.name + suffix).unlink(missing_ok=True)
        raise
    print(f"\nDémonstration créée : {ctx.db_path} ({summary}).", file=sys.stderr)
    print(owner)
    return 0


def _progress(done: int, total: int) -> None:
    print(f"\r{done} / {total} projets", end="", file=sys.stderr, flush=True)


def _first_demo_advisor(session: Session) -> uuid.UUID:
    """The demo's owner: the first advisor of the structure leading the most projects."""
    busiest = select(Project.lead_structure_id).group_by(Project.lead_structure_id) \
        .order_by(func.count().desc()).limit(1).scalar_subquery()
    return session.execute(
        select(Advisor.id).where(Advisor.structure_id == busiest).order_by(Advisor.sort_key).limit(1)
    ).scalar_one()


def cmd_advisor_add(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        structure = catalogue_queries.resolve_structure(session, ctx.args.structure)
        created = advisors.add_advisor(session, actor, name=ctx.args.name, structure_id=structure.id,
                                       email=ctx.args.email, role=parse_code(AdvisorRole, ctx.args.role, "--role"))
    print(created.id)
    return 0


def cmd_advisor_list(ctx: Context) -> int:
    with ctx.db().read() as session:
        owner = advisors.owner_id(session)
        rows = session.execute(
            select(Advisor.id, Advisor.name, Structure.name, Advisor.role, Advisor.active)
            .join(Structure, Structure.id == Advisor.structure_id)
            .where(Advisor.deleted_at.is_(None)).order_by(Structure.sort_key, Advisor.sort_key)
        ).all()
    if ctx.args.json:
        print_json([{"id": r[0], "name": r[1], "structure": r[2], "role": r[3], "active": r[4],
                     "owner": r[0] == owner} for r in rows])
    else:
        print_table(["Identifiant", "Nom", "Structure", "Rôle", "Propriétaire"],
                    [(r[0], r[1], r[2], r[3], r[0] == owner) for r in rows])
    return 0


def cmd_catalogue(ctx: Context) -> int:
    phase = parse_code(Phase, ctx.args.phase, "--phase") if ctx.args.phase else None
    support = parse_code(SupportType, ctx.args.support, "--support") if ctx.args.support else None
    with ctx.db().read() as session:
        structures = catalogue_queries.list_structures(session, phase=phase, support=support)
        dispositifs = catalogue_queries.list_dispositifs(session, phase=phase, support=support)
    if ctx.args.json:
        print_json({"structures": structures, "dispositifs": dispositifs})
        return 0
    print(f"Structures ({len(structures)})")
    print_table(["Clé", "Nom", "Type", "Phases"],
                [(s.key, s.name, s.kind, _phases(s.phases)) for s in structures], max_width=50)
    print(f"\nDispositifs ({len(dispositifs)})")
    print_table(["Clé", "Nom", "Porté par", "Phases"],
                [(d.key, d.name, d.operator_name, _phases(d.phases)) for d in dispositifs], max_width=50)
    return 0


def _phases(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(Phase(code).label for code in codes) or "—"


def cmd_search(ctx: Context) -> int:
    with ctx.db().read() as session:
        hits = search(session, ctx.args.text, limit=ctx.args.limit)
    if ctx.args.json:
        print_json(hits)
    elif not hits:
        print("Aucun résultat.", file=sys.stderr)
    else:
        print_table(["Type", "Nom", "Précision", "Identifiant"],
                    [(SEARCH_KINDS[h.kind], h.title, h.detail, h.id) for h in hits], max_width=50)
    return 0


def cmd_config(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        if ctx.args.referral_expiry_days is not None:
            ctx.actor(session).require_writer()
            settings.set_referral_expiry_days(session, ctx.args.referral_expiry_days)
        days = settings.referral_expiry_days(session)
    print(f"Les orientations sans réponse expirent après {days} jours.")
    return 0
