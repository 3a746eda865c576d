"""Commands of offline synchronisation: ``sync`` (bundles, keys, trusted devices) and ``conflicts``.

Bundles carry personal data encrypted; what these commands print is ids, counts and fingerprints, plus,
for ``conflicts``, the competing values the advisor must choose between (standard output only, never logs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from ess_accompagnement.cli.context import Context
from ess_accompagnement.cli.output import print_fields, print_json, print_table, text
from ess_accompagnement.domain.errors import AmbiguousError, NotFoundError, ValidationError
from ess_accompagnement.domain.validation import french_date
from ess_accompagnement.sync import api, exchange
from ess_accompagnement.sync.keys import KeyStore

Sub = argparse._SubParsersAction  # type: ignore[type-arg]
KEEP_HELP = ("valeur à garder : l'une des valeurs affichées par « conflicts list », ou le nom de la structure ou le "
             "début de l'identifiant du poste qui l'a écrite ; pour un conflit de suppression, « supprimer » ou "
             "« garder »")


def register(commands: Sub) -> None:
    sync = commands.add_parser("sync", help="synchronisation hors ligne par fichiers (clé USB, courriel)")
    actions = sync.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("export", help="écrire un fichier de synchronisation chiffré et signé")
    p.add_argument("--out", required=True, metavar="FICHIER", help="fichier à écrire (extension .essync conseillée)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--for", dest="for_site", metavar="POSTE", help="ce qui manque à ce poste (d'après son accusé "
                      "de réception ; identifiant affiché par « sync status »)")
    what.add_argument("--since", metavar="JJ/MM/AAAA", help="les modifications depuis cette date")
    what.add_argument("--all", action="store_true", help="tout ce que votre structure peut partager")
    p.set_defaults(handler=cmd_export)

    p = actions.add_parser("import", help="vérifier puis importer un fichier de synchronisation")
    p.add_argument("file", metavar="FICHIER")
    p.add_argument("--dry-run", action="store_true", help="vérifier et montrer ce qui serait importé, sans rien écrire")
    p.add_argument("--receipt-out", metavar="FICHIER", help="écrire ensuite un accusé de réception pour l'expéditeur")
    p.set_defaults(handler=cmd_import)

    p = actions.add_parser("status", help="identité de ce poste, collègues, derniers fichiers, conflits")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)
    _register_keys(actions)
    register_conflicts(commands)


def _register_keys(actions: Sub) -> None:
    key = actions.add_parser("key", help="clé de réseau (partagée par les collègues) et empreinte de ce poste")
    key_actions = key.add_subparsers(dest="key_action", required=True, metavar="ACTION")
    key_actions.add_parser("show", help="afficher l'empreinte de ce poste et la clé de réseau").set_defaults(
        handler=cmd_key_show)
    p = key_actions.add_parser("new", help="créer la clé de réseau d'un nouveau groupe de postes")
    p.add_argument("--replace", action="store_true", help="remplacer la clé existante")
    p.set_defaults(handler=cmd_key_new)
    p = key_actions.add_parser("set", help="installer la clé de réseau reçue d'un collègue")
    p.add_argument("key", metavar="CLÉ", help="texte « ESSK-… »")
    p.set_defaults(handler=cmd_key_set)

    trust = actions.add_parser("trust", help="postes reconnus (empreintes)")
    trust_actions = trust.add_subparsers(dest="trust_action", required=True, metavar="ACTION")
    trust_actions.add_parser("list", help="postes dont des fichiers ont été acceptés").set_defaults(
        handler=cmd_trust_list)
    p = trust_actions.add_parser("revoke", help="refuser désormais les fichiers d'un poste (perdu, départ)")
    p.add_argument("fingerprint", metavar="EMPREINTE")
    p.set_defaults(handler=cmd_trust_revoke)


def register_conflicts(commands: Sub) -> None:
    conflicts = commands.add_parser("conflicts", help="conflits de synchronisation à trancher")
    actions = conflicts.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("list", help="conflits ouverts, champ par champ")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_conflicts_list)
    p = actions.add_parser("resolve", help="trancher un conflit (la décision se synchronise comme une modification)",
                           epilog="ID : identifiant du conflit ou son début, s'il est unique. " + KEEP_HELP + ".")
    p.add_argument("id", metavar="ID")
    choice = p.add_mutually_exclusive_group(required=True)
    choice.add_argument("--keep", metavar="VALEUR", help=KEEP_HELP)
    choice.add_argument("--value", metavar="TEXTE", help="nouvelle valeur (par exemple les deux textes réunis)")
    p.set_defaults(handler=cmd_conflicts_resolve)


def _keys(ctx: Context) -> KeyStore:
    return exchange.keystore_for(ctx.db_path)


# ---- sync export / import / status


def cmd_export(ctx: Context) -> int:
    a = ctx.args
    since = french_date(a.since, "--since") if a.since else None
    report = exchange.export_bundle(ctx.db(), _keys(ctx), Path(a.out), for_site=a.for_site, since=since,
                                    everything=a.all, progress=_progress("Export (transactions)", 10_000))
    print(f"Fichier {report.bundle_id} : {report.transactions} transactions, {report.changes} modifications "
          f"({', '.join(report.scopes) or 'aucune portée'}).", file=sys.stderr)
    print(report.path)
    return 0


def _progress(label: str, threshold: int) -> exchange.Progress:
    """« Import : 12 / 40 » on standard error, for big files only (``threshold`` in the callback's unit)."""
    def show(done: int, total: int) -> None:
        if total >= threshold:
            print(f"\r{label} : {done} / {total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)
    return show


def cmd_import(ctx: Context) -> int:
    a = ctx.args
    db, keys = ctx.db(), _keys(ctx)
    if a.dry_run:
        _print_preview(exchange.inspect_bundle(db, keys, Path(a.file)))
        print("Simulation (--dry-run) : rien n'a été enregistré.")
        return 0
    report = exchange.import_bundle(db, keys, Path(a.file), progress=_progress("Import (octets)", 8 << 20))
    _print_report(report)
    if a.receipt_out:
        print(f"Accusé de réception : {exchange.write_receipt_bundle(db, keys, Path(a.receipt_out))}")
    return 0


def _print_preview(p: exchange.ImportPreview) -> None:
    print(f"Fichier {p.bundle_id} ({'accusé de réception' if p.kind == 'receipt' else 'modifications'}) du poste "
          f"{p.source_site}, empreinte {p.device_fingerprint}{' (nouveau poste)' if p.new_device else ''}, "
          f"créé le {p.created_utc}.")
    if p.already_imported:
        print("Ce fichier a déjà été importé : l'importer de nouveau ne changera rien.")
    if p.kind == "receipt":
        print(f"Portées : {', '.join(p.receipt_scopes) or 'aucune'}.")
        return
    print(f"{p.transactions} transactions : {p.new} nouvelles, {p.known} déjà connues, {p.waiting} en attente, "
          f"{p.out_of_scope} hors de votre structure, {p.rejected} refusées.")
    if p.waiting_for:
        print(f"En attente de modifications antérieures des postes : {', '.join(p.waiting_for)}.")
    if p.needs_update:
        print(f"{p.needs_update} transaction(s) en attente : {api.UPDATE_NEEDED_MESSAGE}")
    if p.expected_conflicts:
        print(f"Conflits attendus : {len(p.expected_conflicts)} ({', '.join(c[:8] for c in p.expected_conflicts)}).")


def _print_report(r: exchange.ImportReport) -> None:
    if r.already_imported:
        print(f"Fichier {r.bundle_id} déjà importé : rien n'a changé.")
        return
    if r.kind == "receipt":
        print(f"Accusé de réception du poste {r.source_site} enregistré : le prochain export pour lui sera allégé.")
        return
    print(f"Import du fichier {r.bundle_id} terminé : {r.applied} transactions appliquées ({r.field_changes} "
          f"modifications), {r.known} déjà connues, {r.waiting} en attente, {r.out_of_scope} hors de votre "
          f"structure, {r.rejected} refusées, {r.refused_changes} modifications non autorisées ignorées.")
    if r.waiting_for:
        print(f"En attente de modifications antérieures des postes : {', '.join(r.waiting_for)}.")
    if r.needs_update:
        print(f"{r.needs_update} transaction(s) en attente : {api.UPDATE_NEEDED_MESSAGE}")
    if r.new_conflicts:
        print(f"Nouveaux conflits : {len(r.new_conflicts)} (« ess-acc conflicts list »).")


def cmd_status(ctx: Context) -> int:
    s = exchange.status(ctx.db(), _keys(ctx))
    if ctx.args.json:
        print_json(s)
        return 0
    print_fields([("Poste", s.site_id), ("Époque", s.epoch), ("Structure", s.structure_name or "non liée"),
                  ("Empreinte", s.device_fingerprint), ("Clé de réseau", s.network_key_id or "absente"),
                  ("Conflits ouverts", s.open_conflicts)])
    if s.awaiting_update:
        print(f"\n{s.awaiting_update} transaction(s) en attente : {api.UPDATE_NEEDED_MESSAGE}")
    if s.peers:
        print("\nCollègues")
        print_table(["Poste", "Structure", "Transactions reçues", "Vu le"],
                    [(p.site, p.structure_id, sum(sum(v.values()) for v in p.received.values()), p.last_seen)
                     for p in s.peers])
    for label, entries in (("Derniers fichiers reçus", s.last_in), ("Derniers fichiers envoyés", s.last_out)):
        if entries:
            print(f"\n{label}")
            print_table(["Fichier", "Poste", "Le"], [(e.bundle_id, e.source_site, e.at) for e in entries])
    return 0


# ---- sync key / trust


def cmd_key_show(ctx: Context) -> int:
    keys = _keys(ctx)
    print(f"Empreinte de ce poste : {keys.device_key().fingerprint}")
    print(f"Clé de réseau : {keys.network_key().to_text() if keys.has_network_key() else 'absente'}")
    return 0


def cmd_key_new(ctx: Context) -> int:
    key = exchange.init_network_key(_keys(ctx), replace=ctx.args.replace)
    exchange.ensure_bound(ctx.db())
    print("Clé de réseau créée : donnez-la à vos collègues par un autre moyen que les fichiers.", file=sys.stderr)
    print(key)
    return 0


def cmd_key_set(ctx: Context) -> int:
    exchange.set_network_key(_keys(ctx), ctx.args.key)
    exchange.ensure_bound(ctx.db())
    print("Clé de réseau installée.")
    return 0


def cmd_trust_list(ctx: Context) -> int:
    keys = _keys(ctx)
    revoked = keys.revoked_fingerprints()
    print_table(["Poste", "Empreinte", "Reconnu le", "Révoqué"],
                [(d.site_id, d.fingerprint, d.first_seen, d.fingerprint in revoked) for d in keys.trusted_devices()])
    return 0


def cmd_trust_revoke(ctx: Context) -> int:
    _keys(ctx).revoke(ctx.args.fingerprint)
    print("Poste révoqué : ses fichiers seront refusés.")
    return 0


# ---- conflicts


def cmd_conflicts_list(ctx: Context) -> int:
    with ctx.db().read() as session:
        rows = api.list_conflicts(session)
        names = _structure_names(session)
    if ctx.args.json:
        print_json([{**_conflict_json(c), "structures": {leaf.site: names.get(leaf.structure or "")
                                                           for leaf in c.leaves}} for c in rows])
        return 0
    for c in rows:
        print(f"Conflit {c.id} ({'suppression' if c.kind == 'delete' else 'valeur'}) : {c.table} {c.row_id[:8]}, "
              f"champ {c.field}")
        for leaf in c.leaves:
            who = names.get(leaf.structure or "", "structure inconnue")
            mark = " (affichée)" if leaf.winner else ""
            print(f"  {leaf.field} = « {text(leaf.value)} » — poste {leaf.site[:8]}, {who}, {text(leaf.at)}{mark}")
    print(f"{len(rows)} conflit{'s' if len(rows) > 1 else ''} ouvert{'s' if len(rows) > 1 else ''}.", file=sys.stderr)
    return 0


def _conflict_json(c: api.ConflictRow) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "table": c.table, "row_id": c.row_id, "field": c.field,
            "leaves": [{"field": leaf.field, "value": leaf.value, "site": leaf.site, "seq": leaf.seq,
                        "structure": leaf.structure, "at": leaf.at, "winner": leaf.winner} for leaf in c.leaves]}


def _structure_names(session: Session) -> dict[str, str]:
    return {r[0]: r[1] for r in session.execute(sql_text("SELECT id, name FROM structure"))}


def cmd_conflicts_resolve(ctx: Context) -> int:
    a = ctx.args
    db = ctx.db()
    with db.read() as session:
        conflict = _find_conflict(api.list_conflicts(session), a.id)
        names = _structure_names(session)
    value = a.value if a.value is not None else _kept_value(conflict, a.keep, names)
    api.resolve_conflict(db, conflict.id, value)
    print(f"Conflit {conflict.id} résolu.")
    return 0


def _find_conflict(rows: list[api.ConflictRow], prefix: str) -> api.ConflictRow:
    wanted = prefix.strip().lower()
    found = [c for c in rows if c.id.startswith(wanted)] if wanted else []
    if not found:
        raise NotFoundError(f"Aucun conflit ouvert ne commence par « {prefix} ».", field="ID")
    if len(found) > 1:
        raise AmbiguousError(f"« {prefix} » désigne plusieurs conflits : donnez plus de caractères.", field="ID")
    return found[0]


def _kept_value(c: api.ConflictRow, keep: str, names: dict[str, str]) -> Any:
    if c.kind == "delete" and keep.strip().lower() in ("garder", "supprimer"):
        deleted = next(leaf.value for leaf in c.leaves if leaf.field == c.field and leaf.value is not None)
        return None if keep.strip().lower() == "garder" else deleted
    leaves = [leaf for leaf in c.leaves if leaf.field == c.field]
    for match in (lambda leaf: text(leaf.value) == keep or str(leaf.value) == keep,
                  lambda leaf: (names.get(leaf.structure or "") or "").casefold() == keep.casefold(),
                  lambda leaf: len(keep) >= 4 and leaf.site.startswith(keep.lower())):
        values = {repr(leaf.value): leaf.value for leaf in leaves if match(leaf)}
        if len(values) == 1:
            return next(iter(values.values()))
        if len(values) > 1:
            raise AmbiguousError(f"--keep « {keep} » désigne plusieurs valeurs : donnez la valeur elle-même.",
                                 field="--keep")
    raise ValidationError(f"--keep « {keep} » : ce n'est ni une valeur du conflit, ni une structure ou un poste "
                          "qui l'a écrite.", field="--keep")
