"""Commands on next steps: list those waiting (as the home screen does), mark one done, reopen one."""

from __future__ import annotations

import argparse

from ess_accompagnement.cli.context import Context, short, step_id
from ess_accompagnement.cli.output import print_json, print_table
from ess_accompagnement.domain import steps
from ess_accompagnement.domain.queries.home import overdue_steps
from ess_accompagnement.domain.validation import format_date, french_date


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    step = commands.add_parser("step", help="prochaines étapes fixées en rendez-vous").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = step.add_parser("list", help="vos étapes en retard, comme sur l'écran d'accueil")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = step.add_parser("done", help="marquer une étape comme faite")
    p.add_argument("step", metavar="ÉTAPE")
    p.add_argument("--on", metavar="JJ/MM/AAAA", help="date où elle a été faite (aujourd'hui par défaut)")
    p.set_defaults(handler=cmd_done)

    p = step.add_parser("reopen", help="rouvrir une étape marquée faite par erreur")
    p.add_argument("step", metavar="ÉTAPE")
    p.set_defaults(handler=cmd_reopen)


def cmd_list(ctx: Context) -> int:
    with ctx.db().read() as session:
        actor = ctx.actor(session)
        section = overdue_steps(session, actor.advisor_id, ctx.today)
    if ctx.args.json:
        print_json(section.rows)
        return 0
    print_table(["Id", "Échéance", "Retard (jours)", "Projet", "Étape"],
                [(short(s.id), s.due_date, s.days_late, s.project_title, s.text) for s in section.rows], max_width=40)
    if section.total > len(section.rows):
        print(f"… et {section.total - len(section.rows)} autres (les plus anciennes).")
    return 0


def cmd_done(ctx: Context) -> int:
    a = ctx.args
    done_on = french_date(a.on, "--on") if a.on else ctx.today
    with ctx.db().transaction() as session:
        sid = step_id(session, a.step)
        steps.mark_step_done(session, ctx.actor(session), sid, done_on=done_on, today=ctx.today)
    print(f"Étape {short(sid)} marquée comme faite le {format_date(done_on)}.")
    return 0


def cmd_reopen(ctx: Context) -> int:
    with ctx.db().transaction() as session:
        sid = step_id(session, ctx.args.step)
        steps.reopen_step(session, ctx.actor(session), sid)
    print(f"Étape {short(sid)} rouverte : elle attend de nouveau.")
    return 0
