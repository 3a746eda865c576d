"""Commands on referrals (orientations): add, answer, start, close, cancel, remind, list."""

from __future__ import annotations

import argparse

from ess_accompagnement.cli.context import Context, parse_code, project_id, referral_id, short
from ess_accompagnement.cli.output import print_json, print_table
from ess_accompagnement.domain import referrals
from ess_accompagnement.domain.codes import ReferralOutcome, ReferralStatus, RefusalReason
from ess_accompagnement.domain.entities import Advisor, Structure
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.queries import catalogue as catalogue_queries
from ess_accompagnement.domain.queries.referrals import Box, referral_rows, reminder_text


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    referral = commands.add_parser("referral", help="orientations vers d'autres structures").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = referral.add_parser("add", help="orienter un projet vers une structure")
    p.add_argument("project", metavar="PROJET")
    p.add_argument("--to", required=True, metavar="STRUCTURE")
    p.add_argument("--dispositif", metavar="DISPOSITIF")
    p.add_argument("--motive", required=True, metavar="TEXTE", help="motif : ce dont le projet a besoin")
    p.set_defaults(handler=cmd_add)

    p = referral.add_parser("answer", help="répondre à une orientation reçue")
    p.add_argument("referral", metavar="ORIENTATION")
    choice = p.add_mutually_exclusive_group(required=True)
    choice.add_argument("--accept", action="store_true", help="accepter")
    choice.add_argument("--refuse", action="store_true", help="refuser (avec --reason)")
    p.add_argument("--reason", help="motif du refus : " + ", ".join(m.value for m in RefusalReason))
    p.add_argument("--comment", metavar="TEXTE")
    p.set_defaults(handler=cmd_answer)

    p = referral.add_parser("start", help="noter que l'accompagnement orienté a commencé")
    p.add_argument("referral", metavar="ORIENTATION")
    p.set_defaults(handler=cmd_start)

    p = referral.add_parser("close", help="clore une orientation acceptée : aboutie ou abandonnée")
    p.add_argument("referral", metavar="ORIENTATION")
    p.add_argument("--outcome", required=True, help=", ".join(m.value for m in ReferralOutcome))
    p.add_argument("--comment", metavar="TEXTE")
    p.set_defaults(handler=cmd_close)

    p = referral.add_parser("cancel", help="annuler une orientation envoyée, tant qu'elle est sans réponse")
    p.add_argument("referral", metavar="ORIENTATION")
    p.add_argument("--comment", metavar="TEXTE")
    p.set_defaults(handler=cmd_cancel)

    p = referral.add_parser("remind", help="relancer la structure destinataire d'une orientation sans réponse "
                            "(enregistre la relance et affiche le texte du courriel)")
    p.add_argument("referral", metavar="ORIENTATION")
    p.set_defaults(handler=cmd_remind)

    p = referral.add_parser("list", help="orientations reçues et envoyées par votre structure")
    box = p.add_mutually_exclusive_group()
    box.add_argument("--inbox", action="store_true", help="reçues seulement")
    box.add_argument("--outbox", action="store_true", help="envoyées seulement")
    p.add_argument("--project", metavar="PROJET", help="celles d'un projet")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)


def cmd_add(ctx: Context) -> int:
    a = ctx.args
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        target = catalogue_queries.resolve_structure(session, a.to)
        dispositif = catalogue_queries.resolve_dispositif(session, a.dispositif, operator_id=target.id).id \
            if a.dispositif else None
        draft = referrals.ReferralDraft(project_id(session, a.project), target.id, a.motive, dispositif)
        created = referrals.propose(session, actor, draft, today=ctx.today)
    print(created.id)
    return 0


def cmd_answer(ctx: Context) -> int:
    a = ctx.args
    if a.accept and a.reason:
        raise ValidationError("--reason : un motif ne s'indique qu'avec --refuse.", field="--reason")
    reason = parse_code(RefusalReason, a.reason, "--reason") if a.reason else None
    to = ReferralStatus.ACCEPTEE if a.accept else ReferralStatus.REFUSEE
    return _answer(ctx, to, reason=reason, comment=a.comment)


def cmd_start(ctx: Context) -> int:
    return _answer(ctx, ReferralStatus.EN_COURS)


def cmd_close(ctx: Context) -> int:
    outcome = parse_code(ReferralOutcome, ctx.args.outcome, "--outcome")
    to = ReferralStatus.ABANDONNEE if outcome in referrals.ABANDON_OUTCOMES else ReferralStatus.ABOUTIE
    return _answer(ctx, to, outcome=outcome, comment=ctx.args.comment)


def _answer(ctx: Context, to: ReferralStatus, **details: object) -> int:
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        referrals.answer(session, actor, referral_id(session, ctx.args.referral), to, today=ctx.today,
                         **details)  # type: ignore[arg-type]
    return 0


def cmd_cancel(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        referrals.cancel(session, actor, referral_id(session, ctx.args.referral), today=ctx.today,
                         comment=ctx.args.comment)
    return 0


def cmd_remind(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        actor = ctx.actor(session)
        rid = referral_id(session, ctx.args.referral)
        rows = referral_rows(session, actor.structure_id, box=Box.OUTBOX, today=ctx.today)
        referrals.record_reminder(session, actor, rid, today=ctx.today)
        row = next(r for r in rows if r.id == rid)  # record_reminder refused any referral not in our outbox
        advisor, structure = session.get(Advisor, actor.advisor_id), session.get(Structure, actor.structure_id)
        text = reminder_text(row, advisor=advisor.name if advisor else "",
                             structure=structure.name if structure else row.from_structure)
    print(text, end="")
    return 0


def cmd_list(ctx: Context) -> int:
    a = ctx.args
    box = Box.INBOX if a.inbox else Box.OUTBOX if a.outbox else Box.BOTH
    with ctx.db().read() as session:
        actor = ctx.actor(session)
        project = project_id(session, a.project) if a.project else None
        rows = referral_rows(session, actor.structure_id, box=box, today=ctx.today, project_id=project)
    if a.json:
        print_json(rows)
        return 0
    print_table(["Id", "Projet", "De", "Vers", "Dispositif", "Statut", "Proposée le", "Jours"],
                [(short(r.id), r.project_title, r.from_structure, r.to_structure, r.dispositif, r.status,
                  r.proposed_on, r.age_days) for r in rows], max_width=30)
    return 0
