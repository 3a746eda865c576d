"""Commands on projects: add, list, show, edit, phase, appointment add, financing add, update and remove."""

from __future__ import annotations

import argparse
import uuid

from sqlalchemy.orm import Session

from ess_accompagnement.cli.context import Context, financing_id, parse_code, project_id, short
from ess_accompagnement.cli.output import print_fields, print_json, print_table, text
from ess_accompagnement.domain import appointments, financing, phases, projects
from ess_accompagnement.domain.advisors import resolve_advisor
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    FinancingStatus,
    Instrument,
    LegalForm,
    Phase,
    Prescripteur,
    ProjectStatus,
    Sector,
)
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.queries import catalogue as catalogue_queries
from ess_accompagnement.domain.queries.communes import resolve_commune
from ess_accompagnement.domain.queries.project_detail import ProjectDetail, project_detail
from ess_accompagnement.domain.queries.projects import ProjectFilter, project_ids, project_rows
from ess_accompagnement.domain.validation import amount, french_date, french_datetime

Sub = argparse._SubParsersAction  # type: ignore[type-arg]


def register(commands: Sub) -> None:
    project = commands.add_parser("project", help="projets").add_subparsers(dest="action", required=True,
                                                                          metavar="ACTION")
    _register_add(project)
    _register_list(project)
    p = project.add_parser("show", help="fiche d'un projet et son historique")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_project_show)
    _register_edit(project)

    p = commands.add_parser("phase", help="enregistrer un changement de phase")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--to", required=True, metavar="PHASE", help=", ".join(m.value for m in Phase))
    p.add_argument("--date", metavar="JJ/MM/AAAA", help="date du changement (aujourd'hui par défaut)")
    p.add_argument("--reason", metavar="TEXTE", help="raison (obligatoire pour revenir en arrière ou sauter une phase)")
    p.set_defaults(handler=cmd_phase)

    appointment = commands.add_parser("appointment", help="rendez-vous").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    _register_appointment(appointment)

    fin = commands.add_parser("financing", help="financements").add_subparsers(dest="action", required=True,
                                                                              metavar="ACTION")
    p = fin.add_parser("add", help="ajouter une ligne au tour de table")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--instrument", required=True, help=", ".join(m.value for m in Instrument))
    p.add_argument("--amount", required=True, metavar="MONTANT", help="ex. « 15 000,50 »")
    p.add_argument("--dispositif", metavar="DISPOSITIF")
    p.add_argument("--funder", metavar="FINANCEUR", help="structure financeuse (sinon : celle du dispositif)")
    p.add_argument("--status", default="demande", help=", ".join(m.value for m in FinancingStatus))
    _financing_figures(p)
    p.set_defaults(handler=cmd_financing_add)
    p = fin.add_parser("update", help="suivre une ligne : décision du financeur, versement, correction")
    p.add_argument("line", metavar="LIGNE", help="identifiant de la ligne de financement (ou ses 6 premiers caractères)")
    p.add_argument("--status", required=True, help=", ".join(m.value for m in FinancingStatus))
    p.add_argument("--amount", required=True, metavar="MONTANT", help="montant demandé, ex. « 15 000,50 »")
    _financing_figures(p)
    p.set_defaults(handler=cmd_financing_update)
    p = fin.add_parser("remove", help="retirer une ligne saisie par erreur")
    p.add_argument("line", metavar="LIGNE", help="identifiant de la ligne de financement (ou ses 6 premiers caractères)")
    p.set_defaults(handler=cmd_financing_remove)


def _financing_figures(p: argparse.ArgumentParser) -> None:
    p.add_argument("--granted", metavar="MONTANT", help="montant accordé (par défaut : le montant demandé)")
    p.add_argument("--requested-on", metavar="JJ/MM/AAAA", help="date de la demande (par défaut : aujourd'hui)")
    p.add_argument("--decided-on", metavar="JJ/MM/AAAA", help="date de la décision (par défaut : aujourd'hui)")
    p.add_argument("--comment", metavar="TEXTE")


def _register_add(project: Sub) -> None:
    p = project.add_parser("add", help="créer un projet")
    p.add_argument("--title", required=True, metavar="TITRE")
    p.add_argument("--holder", action="append", required=True, metavar="« Prénom Nom »",
                   help="porteur (répétable ; le premier est le porteur principal)")
    p.add_argument("--commune", required=True, metavar="COMMUNE", help="nom, « Nom (dép.) », code INSEE ou postal")
    p.add_argument("--structure", metavar="STRUCTURE", help="structure qui mène le projet (la vôtre par défaut)")
    p.add_argument("--advisor", metavar="CONSEILLER", help="conseiller référent (vous par défaut)")
    p.add_argument("--phase", default="emergence", help=", ".join(m.value for m in Phase))
    p.add_argument("--since", metavar="JJ/MM/AAAA", help="date d'entrée dans cette phase (aujourd'hui par défaut)")
    p.add_argument("--legal-form", help="forme juridique actuelle")
    p.add_argument("--envisaged-legal-form", help="forme juridique envisagée")
    p.add_argument("--sector", help="secteur d'activité")
    p.add_argument("--siret", metavar="SIRET")
    p.add_argument("--rna", metavar="RNA")
    p.add_argument("--prescripteur", help="qui a envoyé le projet (" + ", ".join(m.value for m in Prescripteur) + ")")
    p.add_argument("--summary", metavar="TEXTE")
    p.add_argument("--confidential", action="store_true", help="projet confidentiel")
    p.set_defaults(handler=cmd_project_add)


def _register_list(project: Sub) -> None:
    p = project.add_parser("list", help="lister les projets")
    p.add_argument("--phase")
    p.add_argument("--status", help=", ".join(m.value for m in ProjectStatus))
    p.add_argument("--structure", metavar="STRUCTURE")
    p.add_argument("--departement", metavar="DÉP", help="numéro de département, ex. 37")
    p.add_argument("--search", metavar="TEXTE")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_project_list)


def _register_edit(project: Sub) -> None:
    p = project.add_parser("edit", help="modifier un projet")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--title", metavar="TITRE")
    p.add_argument("--summary", metavar="TEXTE")
    p.add_argument("--status", help=", ".join(m.value for m in ProjectStatus))
    p.add_argument("--legal-form")
    p.add_argument("--envisaged-legal-form")
    p.add_argument("--sector")
    p.add_argument("--siret", metavar="SIRET", help="« » pour l'effacer")
    p.add_argument("--rna", metavar="RNA")
    p.add_argument("--commune", metavar="COMMUNE")
    p.add_argument("--jobs-created", metavar="ETP", help="emplois créés, en ETP (ex. 2,5)")
    p.add_argument("--jobs-maintained", metavar="ETP", help="emplois maintenus, en ETP")
    p.set_defaults(handler=cmd_project_edit)


def _register_appointment(appointment: Sub) -> None:
    p = appointment.add_parser("add", help="enregistrer un rendez-vous (passé ou prévu)")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--date", required=True, metavar="« JJ/MM/AAAA HH:MM »")
    p.add_argument("--duration", required=True, metavar="MINUTES")
    p.add_argument("--mode", required=True, help=", ".join(m.value for m in AppointmentMode))
    p.add_argument("--status", help=", ".join(m.value for m in AppointmentStatus) + " (selon la date par défaut)")
    p.add_argument("--place", metavar="LIEU")
    p.add_argument("--topic", action="append", default=[], metavar="SUJET", help="sujet abordé (répétable)")
    p.add_argument("--notes", metavar="TEXTE")
    p.add_argument("--next-step", action="append", default=[], metavar="TEXTE", help="prochaine étape (répétable)")
    p.add_argument("--due", action="append", default=[], metavar="JJ/MM/AAAA",
                   help="échéance de la prochaine étape de même rang")
    p.set_defaults(handler=cmd_appointment_add)


# ---- Handlers -----------------------------------------------------------------------------------


def cmd_project_add(ctx: Context) -> int:
    a = ctx.args
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        structure_id = catalogue_queries.resolve_structure(session, a.structure).id if a.structure \
            else actor.structure_id
        draft = projects.ProjectDraft(
            title=a.title,
            lead_structure_id=structure_id,
            commune_code=resolve_commune(session, a.commune).code,
            holders=tuple(projects.HolderDraft.parse(h) for h in a.holder),
            lead_advisor_id=_advisor(session, a.advisor),
            phase=parse_code(Phase, a.phase, "--phase"),
            phase_date=french_date(a.since, "--since") if a.since else None,
            summary=a.summary,
            legal_form=parse_code(LegalForm, a.legal_form, "--legal-form") if a.legal_form else LegalForm.NON_DEFINIE,
            envisaged_legal_form=_optional(LegalForm, a.envisaged_legal_form, "--envisaged-legal-form"),
            sector=_optional(Sector, a.sector, "--sector"),
            siret=a.siret,
            rna=a.rna,
            prescripteur=_optional(Prescripteur, a.prescripteur, "--prescripteur"),
            confidential=a.confidential,
        )
        created = projects.create_project(session, actor, draft, today=ctx.today)
    print(created.id)
    return 0


def _optional(enum_cls: type, value: str | None, option: str) -> object:
    return parse_code(enum_cls, value, option) if value else None


def _advisor(session: Session, value: str | None) -> uuid.UUID | None:
    return resolve_advisor(session, value) if value else None


def cmd_project_list(ctx: Context) -> int:
    a = ctx.args
    if not 1 <= a.limit <= 100_000:
        raise ValidationError("--limit : entre 1 et 100 000.", field="--limit")
    with ctx.db().read() as session:
        criteria = ProjectFilter(
            phase=_optional(Phase, a.phase, "--phase"),  # type: ignore[arg-type]
            status=_optional(ProjectStatus, a.status, "--status"),  # type: ignore[arg-type]
            structure_id=catalogue_queries.resolve_structure(session, a.structure).id if a.structure else None,
            departement=_departement(a.departement),
            search=a.search,
        )
        rows = project_rows(session, project_ids(session, criteria, limit=a.limit))
    if a.json:
        print_json(rows)
        return 0
    print_table(["Id", "Titre", "Porteurs", "Commune", "Phase", "Statut", "Structure", "Activité"],
                [(short(r.id), r.title, r.holders, r.commune, r.phase, r.status, r.lead_structure, r.last_activity)
                 for r in rows], max_width=32)
    return 0


def _departement(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper().zfill(2)
    if not (code.isdigit() and len(code) in (2, 3)) and code not in ("2A", "2B"):
        raise ValidationError(f"--departement « {value} » : numéro de département attendu (ex. 37, 2A, 974).",
                              field="--departement")
    return code


def cmd_project_show(ctx: Context) -> int:
    with ctx.db().read() as session:
        detail = project_detail(session, project_id(session, ctx.args.project), today=ctx.today,
                                reader_structure_id=ctx.actor(session).structure_id)
    if ctx.args.json:
        print_json(detail)
    else:
        _print_detail(detail)
    return 0


def _print_detail(d: ProjectDetail) -> None:
    print(d.title)
    print("=" * len(d.title))
    place = f"{d.commune} ({d.departement})" if d.commune else None
    print_fields([
        ("Identifiant", d.id), ("Phase", f"{text(d.phase)} depuis le {text(d.phase_since)}"), ("Statut", d.status),
        ("Structure", d.lead_structure), ("Conseiller", d.lead_advisor), ("Commune", place), ("EPCI", d.epci),
        ("Forme juridique", d.legal_form), ("Forme envisagée", d.envisaged_legal_form), ("Secteur", d.sector),
        ("Prescripteur", d.prescripteur), ("SIRET", d.siret), ("RNA", d.rna),
        ("Emplois créés (ETP)", d.jobs_created), ("Emplois maintenus (ETP)", d.jobs_maintained),
        ("Innovation sociale", d.innovation_sociale), ("ESUS", d.esus), ("Confidentiel", d.confidential),
    ])
    if d.summary:
        print(f"\n{d.summary}")
    print("\nPorteurs")
    for h in d.holders:
        print(f"  - {h.first_name} {h.last_name} ({h.role.label})")
    if d.open_next_steps:
        print("\nProchaines étapes")
        for step, due in d.open_next_steps:
            print(f"  - {step}" + (f" (avant le {text(due)})" if due else ""))
    print("\nHistorique")
    for e in d.timeline:
        when = text(e.when)
        print(f"  {when:16}  {e.title}" + (f" — {e.structure}" if e.structure else ""))
        if e.detail:
            print(f"  {'':16}  {e.detail}")


def cmd_project_edit(ctx: Context) -> int:
    a = ctx.args
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        edit = projects.ProjectEdit(
            title=a.title, summary=a.summary,
            status=_optional(ProjectStatus, a.status, "--status"),  # type: ignore[arg-type]
            legal_form=_optional(LegalForm, a.legal_form, "--legal-form"),  # type: ignore[arg-type]
            envisaged_legal_form=_optional(LegalForm, a.envisaged_legal_form,  # type: ignore[arg-type]
                                           "--envisaged-legal-form"),
            sector=_optional(Sector, a.sector, "--sector"),  # type: ignore[arg-type]
            siret=a.siret, rna=a.rna,
            commune_code=resolve_commune(session, a.commune).code if a.commune else None,
            jobs_created=amount(a.jobs_created, "--jobs-created") if a.jobs_created else None,
            jobs_maintained=amount(a.jobs_maintained, "--jobs-maintained") if a.jobs_maintained else None,
        )
        projects.edit_project(session, actor, project_id(session, a.project), edit)
    return 0


def cmd_phase(ctx: Context) -> int:
    a = ctx.args
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        date = french_date(a.date, "--date") if a.date else ctx.today
        phases.change_phase(session, actor, project_id(session, a.project), parse_code(Phase, a.to, "--to"),
                            date=date, reason=a.reason, today=ctx.today)
    return 0


def cmd_appointment_add(ctx: Context) -> int:
    a = ctx.args
    if len(a.due) > len(a.next_step):
        raise ValidationError("--due : chaque échéance suit une --next-step.", field="--due")
    steps = tuple(
        appointments.NextStepDraft(step, french_date(a.due[i], "--due") if i < len(a.due) else None)
        for i, step in enumerate(a.next_step)
    )
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        draft = appointments.AppointmentDraft(
            project_id=project_id(session, a.project),
            starts_at=french_datetime(a.date, "--date"),
            duration_minutes=a.duration,
            mode=parse_code(AppointmentMode, a.mode, "--mode"),
            status=_optional(AppointmentStatus, a.status, "--status"),  # type: ignore[arg-type]
            place=a.place, topics=tuple(a.topic), notes=a.notes, next_steps=steps,
        )
        created = appointments.add_appointment(session, actor, draft, now=ctx.now)
    print(created.id)
    return 0


def cmd_financing_add(ctx: Context) -> int:
    a = ctx.args
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        funder = catalogue_queries.resolve_structure(session, a.funder).id if a.funder else None
        dispositif = catalogue_queries.resolve_dispositif(session, a.dispositif, operator_id=funder).id \
            if a.dispositif else None
        draft = financing.FinancingDraft(
            project_id=project_id(session, a.project),
            instrument=parse_code(Instrument, a.instrument, "--instrument"),
            amount=amount(a.amount, "--amount"),
            status=parse_code(FinancingStatus, a.status, "--status"),
            dispositif_id=dispositif, funder_structure_id=funder, comment=a.comment,
            amount_granted=amount(a.granted, "--granted") if a.granted else None,
            requested_on=french_date(a.requested_on, "--requested-on") if a.requested_on else None,
            decided_on=french_date(a.decided_on, "--decided-on") if a.decided_on else None,
        )
        created = financing.add_financing(session, actor, draft, today=ctx.today)
    print(created.id)
    return 0


def cmd_financing_remove(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        line_id = financing_id(session, ctx.args.line)
        financing.remove_financing(session, ctx.actor(session), line_id, now=ctx.now)
    print(f"Ligne {short(line_id)} retirée du tour de table.")
    return 0


def cmd_financing_update(ctx: Context) -> int:
    a = ctx.args
    update = financing.FinancingUpdate(
        status=parse_code(FinancingStatus, a.status, "--status"), amount_requested=amount(a.amount, "--amount"),
        amount_granted=amount(a.granted, "--granted") if a.granted else None,
        requested_on=french_date(a.requested_on, "--requested-on") if a.requested_on else None,
        decided_on=french_date(a.decided_on, "--decided-on") if a.decided_on else None, comment=a.comment)
    with ctx.db().transaction() as session:
        line_id = financing_id(session, a.line)
        financing.update_financing(session, ctx.actor(session), line_id, update, today=ctx.today)
    print(line_id)
    return 0
