"""Derived tables: the accent-insensitive search index and each project's current state.

These tables hold nothing of their own: everything in them is computed from the synced tables, by
SQL triggers, so a row is indexed whatever wrote it (ORM, Core, raw SQL, the sync engine). They are
versioned by ``DERIVED_VERSION`` rather than by Alembic: when the version changes, ``ensure`` drops
them, re-creates them and rebuilds their content from scratch. (Alembic's autogenerate is told to
ignore them, see migrations/env.py.) A bulk load may drop the triggers, insert, and ``rebuild``.

- ``search_fts`` (FTS5, ``unicode61 remove_diacritics 2``): one document per project (title, holders'
  names, commune and EPCI, lead structure), per person and per structure. ``search_key`` maps the
  FTS rowid to the document's kind and UUID. FTS5 does not fold ligatures, so œ/æ are expanded in
  SQL, the same way ``domain.text.fold`` expands them on the query side.
  Structures are also indexed alone in ``search_org`` (a few dozen rows), so a search can always
  rank them all, whereas ``search_fts`` ranks only a bounded set of candidates (see
  ``domain.queries.search``). A project document names its lead structure by its short name only:
  the full names (« … Centre-Val de Loire ») would make « val » or « loire » match every project.
- ``project_state``: one row per project with what the project list filters and sorts on: the
  current phase (latest phase change by date), the date of last activity (the latest dated event:
  phase change, appointment held, referral step, note, financing step — planned appointments are
  not activity), and copies of the project's sort key, status, lead structure and advisor, commune,
  département and EPCI, with indexes that serve the list's filters in title order; also of its legal
  form, sector, jobs (raw ``Cents``) and its commune's population, so that a year of indicators reads
  one narrow row per project instead of the project's and the commune's; and ``status_since``, the date of
  its latest dated status change (``status_change``), so that only the projects whose status changed after a
  period's end look up their status as of then.
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    literal_column,
    text,
)

logger = logging.getLogger(__name__)

DERIVED_VERSION = "6"
_VERSION_KEY = "derived_version"
DERIVED_TABLES = ("search_key", "search_fts", "search_org", "project_state")


# Table objects for queries (kept out of the entities' metadata, so Alembic never manages them).
derived_metadata = MetaData()
search_key = Table(
    "search_key", derived_metadata,
    Column("rowid", Integer, primary_key=True), Column("kind", String), Column("ref_id", Uuid),
)
search_fts = Table(
    "search_fts", derived_metadata,
    Column("rowid", Integer, primary_key=True), Column("title", String), Column("people", String),
    Column("place", String), Column("org", String), Column("rank", String),
)
search_org = Table(
    "search_org", derived_metadata,
    Column("rowid", Integer, primary_key=True), Column("title", String), Column("place", String),
    Column("org", String), Column("rank", String),
)
project_state = Table(
    "project_state", derived_metadata,
    Column("project_id", Uuid, primary_key=True), Column("live", Integer), Column("phase", String(32)),
    Column("phase_since", Date), Column("last_activity", Date), Column("title_key", String),
    Column("status", String(32)), Column("lead_structure_id", Uuid), Column("lead_advisor_id", Uuid),
    Column("commune_code", String(5)), Column("departement", String(3)), Column("epci_siren", String(9)),
    Column("legal_form", String(32)), Column("sector", String(32)), Column("jobs_created", Integer),
    Column("jobs_maintained", Integer), Column("commune_population", Integer), Column("status_since", Date),
)


def fts_match(query: str, table: str = "search_fts") -> ColumnElement[bool]:
    """``<table> MATCH :query`` over every column (a column's own MATCH would search only it)."""
    return literal_column(table).op("MATCH")(query).self_group()  # type: ignore[no-any-return]


def is_derived_table(name: str) -> bool:
    return name in DERIVED_TABLES or name.startswith(("search_fts_", "search_org_"))


def _fold(expr: str) -> str:
    """SQL expanding the ligatures FTS5's tokenizer keeps whole (it strips accents and case itself)."""
    for ligature, expanded in (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss")):
        expr = f"replace({expr}, '{ligature}', '{expanded}')"
    return expr


# ---- Documents ----------------------------------------------------------------------------------

_PROJECT_PEOPLE = f"""(SELECT group_concat({_fold("pe.first_name || ' ' || pe.last_name")}, ' ')
    FROM project_member m JOIN person pe ON pe.id = m.person_id
    WHERE m.project_id = p.id AND m.deleted_at IS NULL AND pe.deleted_at IS NULL)"""
_PROJECT_PLACE = f"""(SELECT {_fold("c.name || ' ' || c.postal_codes || ' ' || coalesce(c.epci_name, '')")}
    FROM commune c WHERE c.code = p.commune_code)"""
_PROJECT_ORG = f"""(SELECT {_fold("coalesce(s.short_name, s.name)")}
    FROM structure s WHERE s.id = p.lead_structure_id)"""


def _refresh_projects(selector: str) -> str:
    """Statements re-indexing the projects ``selector`` (a condition on ``p``) picks."""
    return f"""
    DELETE FROM search_fts WHERE rowid IN (
        SELECT k.rowid FROM search_key k JOIN project p ON k.kind = 'project' AND k.ref_id = p.id WHERE {selector});
    INSERT OR IGNORE INTO search_key(kind, ref_id) SELECT 'project', p.id FROM project p WHERE {selector};
    INSERT INTO search_fts(rowid, title, people, place, org)
        SELECT k.rowid, {_fold("p.title")}, {_PROJECT_PEOPLE}, {_PROJECT_PLACE}, {_PROJECT_ORG}
        FROM project p JOIN search_key k ON k.kind = 'project' AND k.ref_id = p.id
        WHERE p.deleted_at IS NULL AND ({selector});
    """


def _refresh_persons(selector: str) -> str:
    return f"""
    DELETE FROM search_fts WHERE rowid IN (
        SELECT k.rowid FROM search_key k JOIN person pe ON k.kind = 'person' AND k.ref_id = pe.id WHERE {selector});
    INSERT OR IGNORE INTO search_key(kind, ref_id) SELECT 'person', pe.id FROM person pe WHERE {selector};
    INSERT INTO search_fts(rowid, title, people, place, org)
        SELECT k.rowid, {_fold("pe.first_name || ' ' || pe.last_name")},
               coalesce(pe.email, '') || ' ' || coalesce(pe.phone, ''),
               (SELECT {_fold("c.name")} FROM commune c WHERE c.code = pe.commune_code), ''
        FROM person pe JOIN search_key k ON k.kind = 'person' AND k.ref_id = pe.id
        WHERE pe.deleted_at IS NULL AND ({selector});
    """


def _refresh_structures(selector: str) -> str:
    return f"""
    DELETE FROM search_fts WHERE rowid IN (
        SELECT k.rowid FROM search_key k JOIN structure s ON k.kind = 'structure' AND k.ref_id = s.id WHERE {selector});
    DELETE FROM search_org WHERE rowid IN (
        SELECT k.rowid FROM search_key k JOIN structure s ON k.kind = 'structure' AND k.ref_id = s.id WHERE {selector});
    INSERT OR IGNORE INTO search_key(kind, ref_id) SELECT 'structure', s.id FROM structure s WHERE {selector};
    INSERT INTO search_fts(rowid, title, people, place, org)
        SELECT k.rowid, {_STRUCTURE_NAME}, '', coalesce(s.departement, ''), {_STRUCTURE_FORMER}
        FROM structure s JOIN search_key k ON k.kind = 'structure' AND k.ref_id = s.id
        WHERE s.deleted_at IS NULL AND ({selector});
    INSERT INTO search_org(rowid, title, place, org)
        SELECT k.rowid, {_STRUCTURE_NAME}, coalesce(s.departement, ''), {_STRUCTURE_FORMER}
        FROM structure s JOIN search_key k ON k.kind = 'structure' AND k.ref_id = s.id
        WHERE s.deleted_at IS NULL AND ({selector});
    """


_STRUCTURE_NAME = _fold("s.name || ' ' || coalesce(s.short_name, '')")
_STRUCTURE_FORMER = _fold("coalesce((SELECT group_concat(j.value, ' ') FROM json_each(s.former_names) j), '')")


# ---- Project state ------------------------------------------------------------------------------

_LATEST_PHASE = """FROM phase_change pc WHERE pc.project_id = p.id AND pc.deleted_at IS NULL
    ORDER BY pc.effective_date DESC, pc.created_at DESC, pc.id DESC LIMIT 1"""


def _refresh_state(selector: str) -> str:
    return f"""
    INSERT OR REPLACE INTO project_state(project_id, live, phase, phase_since, last_activity, title_key, status,
        lead_structure_id, lead_advisor_id, commune_code, departement, epci_siren, legal_form, sector,
        jobs_created, jobs_maintained, commune_population, status_since)
    SELECT p.id, p.deleted_at IS NULL,
        (SELECT pc.phase {_LATEST_PHASE}),
        (SELECT pc.effective_date {_LATEST_PHASE}),
        {_LAST_ACTIVITY},
        p.sort_key, p.status, p.lead_structure_id, p.lead_advisor_id, p.commune_code,
        (SELECT c.departement FROM commune c WHERE c.code = p.commune_code),
        (SELECT c.epci_siren FROM commune c WHERE c.code = p.commune_code),
        p.legal_form, p.sector, p.jobs_created, p.jobs_maintained,
        (SELECT c.population FROM commune c WHERE c.code = p.commune_code),
        (SELECT kept.status_since FROM project_state kept WHERE kept.project_id = p.id)
    FROM project p WHERE {selector};
    """


_LAST_ACTIVITY = """max(date(p.created_at),
        coalesce((SELECT max(pc.effective_date) FROM phase_change pc
                  WHERE pc.project_id = p.id AND pc.deleted_at IS NULL), ''),
        coalesce((SELECT date(max(a.starts_at)) FROM appointment a
                  WHERE a.project_id = p.id AND a.deleted_at IS NULL AND a.status = 'realise'), ''),
        coalesce((SELECT max(max(r.proposed_on, coalesce(r.answered_on, ''), coalesce(r.closed_on, '')))
                  FROM referral r WHERE r.project_id = p.id AND r.deleted_at IS NULL), ''),
        coalesce((SELECT max(n.written_on) FROM note n WHERE n.project_id = p.id AND n.deleted_at IS NULL), ''),
        coalesce((SELECT max(max(coalesce(f.requested_on, ''), coalesce(f.decided_on, '')))
                  FROM financing f WHERE f.project_id = p.id AND f.deleted_at IS NULL), ''))"""


# ---- Schema -------------------------------------------------------------------------------------

_TABLES = """
CREATE TABLE search_key (
    rowid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref_id CHAR(32) NOT NULL,
    UNIQUE (kind, ref_id)
);
CREATE VIRTUAL TABLE search_fts USING fts5(
    title, people, place, org,
    tokenize = "unicode61 remove_diacritics 2",
    prefix = '2 3'
);
CREATE VIRTUAL TABLE search_org USING fts5(
    title, place, org,
    tokenize = "unicode61 remove_diacritics 2"
);
CREATE TABLE project_state (
    project_id CHAR(32) PRIMARY KEY,
    live INTEGER NOT NULL,
    phase VARCHAR(32),
    phase_since DATE,
    last_activity DATE,
    title_key VARCHAR(200),
    status VARCHAR(32),
    lead_structure_id CHAR(32),
    lead_advisor_id CHAR(32),
    commune_code VARCHAR(5),
    departement VARCHAR(3),
    epci_siren VARCHAR(9),
    legal_form VARCHAR(32),
    sector VARCHAR(32),
    jobs_created INTEGER,
    jobs_maintained INTEGER,
    commune_population INTEGER,
    status_since DATE
);
CREATE INDEX ix_project_state_title ON project_state (live, title_key, project_id);
CREATE INDEX ix_project_state_phase ON project_state (live, phase, departement, title_key, project_id);
CREATE INDEX ix_project_state_departement ON project_state (live, departement, title_key, project_id);
CREATE INDEX ix_project_state_epci ON project_state (live, epci_siren, title_key, project_id);
CREATE INDEX ix_project_state_structure ON project_state (live, lead_structure_id, title_key, project_id);
CREATE INDEX ix_project_state_advisor ON project_state (live, lead_advisor_id, title_key, project_id);
CREATE INDEX ix_project_state_activity ON project_state (live, last_activity, project_id);
"""


def _trigger(name: str, event: str, table: str, body: str) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END;"


def _triggers() -> list[str]:
    by_new_project = "p.id = NEW.project_id"
    by_old_project = "p.id = OLD.project_id"
    triggers = [
        _trigger("trg_project_ins", "INSERT", "project",
                 _refresh_projects("p.id = NEW.id") + _refresh_state("p.id = NEW.id")),
        _trigger("trg_project_upd", "UPDATE OF title, commune_code, lead_structure_id, deleted_at", "project",
                 _refresh_projects("p.id = NEW.id")),
        _trigger("trg_project_state_upd",
                 "UPDATE OF sort_key, status, lead_structure_id, lead_advisor_id, commune_code, deleted_at, "
                 "legal_form, sector, jobs_created, jobs_maintained",
                 "project", _refresh_state("p.id = NEW.id")),
        _trigger("trg_member_ins", "INSERT", "project_member", _refresh_projects(by_new_project)),
        _trigger("trg_member_upd", "UPDATE", "project_member",
                 _refresh_projects(f"{by_new_project} OR {by_old_project}")),
        _trigger("trg_member_del", "DELETE", "project_member", _refresh_projects(by_old_project)),
        _trigger("trg_person_ins", "INSERT", "person", _refresh_persons("pe.id = NEW.id")),
        _trigger("trg_person_upd", "UPDATE OF first_name, last_name, email, phone, commune_code, deleted_at",
                 "person",
                 _refresh_persons("pe.id = NEW.id")
                 + _refresh_projects("p.id IN (SELECT project_id FROM project_member WHERE person_id = NEW.id)")),
        _trigger("trg_structure_ins", "INSERT", "structure", _refresh_structures("s.id = NEW.id")),
        _trigger("trg_structure_upd", "UPDATE OF name, short_name, former_names, departement, deleted_at",
                 "structure",
                 _refresh_structures("s.id = NEW.id") + _refresh_projects("p.lead_structure_id = NEW.id")),
        _trigger("trg_commune_upd", "UPDATE OF name, epci_name, postal_codes", "commune",
                 _refresh_projects("p.commune_code = NEW.code")),
        _trigger("trg_commune_state_upd", "UPDATE OF departement, epci_siren, population", "commune",
                 _refresh_state("p.commune_code = NEW.code")),
    ]
    for table, columns in (
        ("phase_change", "phase, effective_date, deleted_at, project_id"),
        ("appointment", "starts_at, status, deleted_at, project_id"),
        ("referral", "proposed_on, answered_on, closed_on, deleted_at, project_id"),
        ("note", "written_on, deleted_at, project_id"),
        ("financing", "requested_on, decided_on, deleted_at, project_id"),
    ):
        triggers += [
            _trigger(f"trg_state_{table}_ins", "INSERT", table, _refresh_state(by_new_project)),
            _trigger(f"trg_state_{table}_upd", f"UPDATE OF {columns}", table,
                     _refresh_state(f"{by_new_project} OR {by_old_project}")),
            _trigger(f"trg_state_{table}_del", "DELETE", table, _refresh_state(by_old_project)),
        ]
    # status_since is kept by the status_change table's own triggers (refreshing a state keeps it), so that
    # no other trigger reads status_change: a database taken back below migration 0008 drops them with it.
    for event, keys in (("INSERT", ("NEW",)), ("UPDATE OF effective_date, deleted_at, project_id", ("NEW", "OLD")),
                        ("DELETE", ("OLD",))):
        body = "".join(_status_since(f"{key}.project_id") for key in keys)
        triggers.append(_trigger(f"trg_state_status_change_{event.split()[0].lower()}", event, "status_change", body))
    return triggers


def _status_since(project: str) -> str:
    return f"""
    UPDATE project_state SET status_since = (SELECT max(sc.effective_date) FROM status_change sc
        WHERE sc.project_id = {project} AND sc.deleted_at IS NULL) WHERE project_id = {project};
    """


TRIGGER_NAMES = tuple(sql.split()[2] for sql in _triggers())


def _executescript(connection: Connection, script: str) -> None:
    """Run several statements on the connection's current transaction."""
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    for statement in _split(script):
        cursor.execute(statement)
    cursor.close()


def _split(script: str) -> list[str]:
    """Split on semicolons that end a statement (not those inside a CREATE TRIGGER body)."""
    import sqlite3

    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def drop_triggers(connection: Connection) -> None:
    for name in TRIGGER_NAMES:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def create_triggers(connection: Connection) -> None:
    _executescript(connection, "\n".join(_triggers()))


def rebuild(connection: Connection) -> None:
    """Recompute every derived row from the synced tables."""
    connection.exec_driver_sql("DELETE FROM search_fts")
    connection.exec_driver_sql("DELETE FROM search_org")
    connection.exec_driver_sql("DELETE FROM search_key")
    connection.exec_driver_sql("DELETE FROM project_state")
    _executescript(connection, _refresh_structures("1") + _refresh_persons("1") + _refresh_projects("1")
                   + _refresh_state("1") + _status_since("project_state.project_id"))
    connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


def ensure(connection: Connection) -> None:
    """Create or upgrade the derived tables when their version differs from this code's."""
    current = connection.execute(
        text("SELECT value FROM local_setting WHERE key = :key"), {"key": _VERSION_KEY}
    ).scalar()
    if current == DERIVED_VERSION:
        return
    logger.info("building derived tables (version %s -> %s)", current, DERIVED_VERSION)
    drop_triggers(connection)
    for table in reversed(DERIVED_TABLES):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    _executescript(connection, _TABLES)
    create_triggers(connection)
    rebuild(connection)
    connection.execute(
        text("INSERT OR REPLACE INTO local_setting(key, value) VALUES (:key, :value)"),
        {"key": _VERSION_KEY, "value": DERIVED_VERSION},
    )
