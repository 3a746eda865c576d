"""The SQL text of ``ess_accompagnement.domain.indicators`` (SQLite): its temporary tables and their queries.

Kept apart from the computation so each file stays readable; the definitions are in the docstring of
``indicators``, which re-exports ``RURAL_POPULATION`` and ``UNKNOWN`` from here.
"""

from __future__ import annotations

from ess_accompagnement.domain.codes import (
                AppointmentStatus,
                FinancingStatus,
                ProjectStatus,
                ReferralOutcome,
                ReferralStatus,
)

RURAL_POPULATION = 2000  # stands in for INSEE's grille de densité (see the indicators module docstring)
UNKNOWN = "inconnu"

# ---- Tables ------------------------------------------------------------------------------------------

_TEMP_TABLES = ("_ind_scope", "_ind_deleted", "_ind_rdv_keys", "_ind_ref", "_ind_fin", "_ind_pc", "_ind_activity",
                "_ind_projects", "_ind_entered")
_ACCEPTED = f"r.answered_on IS NOT NULL AND r.answer <> '{ReferralStatus.REFUSEE.value}'"
_GRANTED = "('" + "', '".join(s.value for s in (FinancingStatus.ACCORDE, FinancingStatus.VERSE)) + "')"
_PERIOD = "BETWEEN :start AND :end"

_IN_DISPOSITIF = f"""SELECT r.project_id FROM referral r WHERE r.deleted_at IS NULL AND r.to_dispositif_id = :dispositif
        AND r.answered_on <= :end AND {_ACCEPTED}
    UNION SELECT f.project_id FROM financing f WHERE f.deleted_at IS NULL AND f.dispositif_id = :dispositif
        AND f.decided_on <= :end AND f.status IN {_GRANTED}"""

# The appointments starting in the period (UTC bounds of the Paris days), counted per (status, mode,
# permanence) without a sort: every possible combination is a row of _ind_rdv_keys, the outer loop, and
# ix_appointment_status_mode_start hands each one its appointments as one range, already grouped.
# Statuses and modes are closed lists (CHECK constraints); a permanence not in the table (not arrived
# yet through sync) would be missed, so the caller checks the total against _RDV_TOTAL.
_RDV_KEYS = """CREATE TEMP TABLE _ind_rdv_keys AS
SELECT s.value AS status, m.value AS mode, pm.id AS permanence_id
FROM json_each(:statuses) s, json_each(:modes) m, (SELECT id FROM permanence UNION ALL SELECT NULL) pm"""
_RDV_GROUPS = """SELECT k.status, k.mode, k.permanence_id, count(*), group_concat(a.project_id), sum(a.duration_minutes)
FROM _ind_rdv_keys k
JOIN appointment a INDEXED BY ix_appointment_status_mode_start ON a.status = k.status AND a.mode = k.mode
    AND a.permanence_id IS k.permanence_id AND a.starts_at >= :lo AND a.starts_at < :hi
WHERE a.deleted_at IS NULL AND {scope}
GROUP BY k.rowid HAVING count(*) > 0"""
_RDV_SORTED = """SELECT a.status, a.mode, a.permanence_id, count(*), group_concat(a.project_id), sum(a.duration_minutes)
FROM appointment a WHERE a.starts_at >= :lo AND a.starts_at < :hi AND a.deleted_at IS NULL AND {scope}
GROUP BY 1, 2, 3"""
_RDV_TOTAL = """SELECT count(*) FROM appointment a
WHERE a.starts_at >= :lo AND a.starts_at < :hi AND a.deleted_at IS NULL AND {scope}"""

# Referrals with something in the period: proposed, answered, started, closed, or expired in it. A referral
# expires on proposed_on + expiry + 1 days: that day is in the period when proposed_on is in the period moved
# back by expiry + 1 days (:expired_from, :expired_to), which spares a date() per row. A few rows have no flag
# set (proposed just before the period, answered in time): every reader of the table filters on a flag.
_REF_TABLE = f"""CREATE TEMP TABLE _ind_ref AS
SELECT r.project_id, r.from_structure_id AS from_id, r.to_structure_id AS to_id,
    r.to_dispositif_id AS dispositif_id, r.refusal_reason, CAST(julianday(r.answered_on) - julianday(r.proposed_on) AS INTEGER) AS delay,
    r.proposed_on {_PERIOD} AS proposed_in_period,
    r.answered_on {_PERIOD} AS answered_in_period,
    r.answered_on {_PERIOD} AND {_ACCEPTED} AS accepted_in_period,
    r.answered_on {_PERIOD} AND r.answer = '{ReferralStatus.REFUSEE.value}' AS refused_in_period,
    (r.answered_on {_PERIOD} AND {_ACCEPTED}) OR r.started_on {_PERIOD} OR r.closed_on {_PERIOD} AS worked_in_period,
    r.proposed_on BETWEEN :expired_from AND :expired_to
        AND (r.answered_on IS NULL OR r.answered_on > date(r.proposed_on, '+' || :expiry || ' days'))
        AND (r.cancelled_on IS NULL OR r.cancelled_on > date(r.proposed_on, '+' || :expiry || ' days'))
        AS expired_in_period
  FROM referral r WHERE r.deleted_at IS NULL AND {{scope}}{{filters}}
    AND (r.proposed_on BETWEEN :expired_from AND :end OR r.answered_on {_PERIOD}
         OR r.started_on {_PERIOD} OR r.closed_on {_PERIOD})"""

_FIN_TABLE = f"""CREATE TEMP TABLE _ind_fin AS
SELECT * FROM (SELECT f.project_id, f.funder_structure_id AS funder_id, f.dispositif_id, f.instrument,
    f.amount_requested,
    f.amount_granted, f.requested_on {_PERIOD} AS requested_in_period,
    f.decided_on {_PERIOD} AND f.status IN {_GRANTED} AS granted_in_period
  FROM financing f WHERE f.deleted_at IS NULL AND {{scope}}{{filters}})
WHERE requested_in_period OR granted_in_period"""

_PC_TABLE = f"""CREATE TEMP TABLE _ind_pc AS
SELECT pc.project_id, pc.owner_structure_id AS structure_id FROM phase_change pc
WHERE pc.deleted_at IS NULL AND pc.effective_date {_PERIOD} AND {{scope}}"""

_ACTIVITY_TABLE = """CREATE TEMP TABLE _ind_activity (project_id CHAR(32), structure_id CHAR(32),
    PRIMARY KEY (project_id, structure_id)) WITHOUT ROWID"""
# The work of the period, as the module docstring defines it ({structure}, {owner}: the structure filter).
_ACTIVITY_INSERTS = (
    "INSERT OR IGNORE INTO _ind_activity SELECT a.project_id, a.owner_structure_id "
    "FROM appointment a INDEXED BY ix_appointment_start_covering "
    f"WHERE a.starts_at >= :lo AND a.starts_at < :hi AND a.deleted_at IS NULL "
    f"AND a.status = '{AppointmentStatus.REALISE.value}' AND {{scope}}{{owner}}",
    "INSERT OR IGNORE INTO _ind_activity SELECT project_id, structure_id FROM _ind_pc WHERE 1{structure}",
    "INSERT OR IGNORE INTO _ind_activity SELECT * FROM (SELECT project_id, to_id AS structure_id FROM _ind_ref "
    "WHERE worked_in_period) WHERE 1{structure}",
    "INSERT OR IGNORE INTO _ind_activity SELECT * FROM (SELECT project_id, funder_id AS structure_id FROM _ind_fin "
    "WHERE funder_id IS NOT NULL) WHERE 1{structure}",
)

_STARTED_BY_REFERRAL = f"""SELECT r.project_id FROM referral r WHERE r.deleted_at IS NULL
    AND r.outcome = '{ReferralOutcome.ACTIVITE_DEMARREE.value}' AND r.closed_on <= :end"""

# The status as of :end: the current one, unless a dated status change (status_change) came after :end; then
# the status before the first of those. project_state.status_since (the latest change's date) spares the
# lookup to every project whose status has not changed since :end.
_STATUS_AS_OF = """CASE WHEN ps.status_since IS NULL OR ps.status_since <= :end THEN ps.status ELSE
        coalesce((SELECT sc.previous_status FROM status_change sc
                  WHERE sc.project_id = ps.project_id AND sc.deleted_at IS NULL AND sc.effective_date > :end
                  ORDER BY sc.effective_date, sc.created_at, sc.id LIMIT 1), ps.status) END"""
_STARTED_AS_OF = f"({_STATUS_AS_OF}) = '{ProjectStatus.ACTIVITE_DEMARREE.value}'"

# The phase as of :end: the current one (derived project_state) when it started on or before :end,
# else the latest phase change dated on or before :end (same order as project_state). The status as of :end
# too (above). Everything else is the copy project_state keeps of the project and its commune: one narrow row
# per project.
_PROJECTS_TABLE = """CREATE TEMP TABLE _ind_projects (project_id CHAR(32) PRIMARY KEY, phase, status, legal_form,
    sector, departement, epci, territory, jobs_created, jobs_maintained, started)"""
_PROJECTS_INSERT = f"""INSERT INTO _ind_projects
SELECT ps.project_id,
    CASE WHEN ps.phase_since <= :end THEN ps.phase ELSE
        coalesce((SELECT pc.phase FROM phase_change pc
                  WHERE pc.project_id = ps.project_id AND pc.deleted_at IS NULL AND pc.effective_date <= :end
                  ORDER BY pc.effective_date DESC, pc.created_at DESC, pc.id DESC LIMIT 1), '{UNKNOWN}') END,
    {_STATUS_AS_OF}, ps.legal_form, coalesce(ps.sector, '{UNKNOWN}'),
    coalesce(ps.departement, '{UNKNOWN}'), coalesce(ps.epci_siren, '{UNKNOWN}'),
    CASE WHEN ps.commune_population IS NULL THEN '{UNKNOWN}'
         WHEN ps.commune_population < {RURAL_POPULATION} THEN 'rurale' ELSE 'urbaine' END,
    ps.jobs_created, ps.jobs_maintained,
    {_STARTED_AS_OF} OR {{started}}
FROM (SELECT DISTINCT project_id FROM _ind_activity) a
JOIN project_state ps ON ps.project_id = a.project_id AND ps.live = 1"""

# The holders of the projects accompanied, counted per (gender, age band) in one sort; the caller sums
# them by gender and by age. CROSS JOIN keeps the projects accompanied as the outer loop (else SQLite scans
# every member and person).
_HOLDERS_GROUPS = """SELECT pe.gender, {age} AS age, count(DISTINCT pe.id), group_concat(m.project_id)
FROM _ind_projects ip
CROSS JOIN project_member m ON m.project_id = ip.project_id AND m.deleted_at IS NULL AND m.role IN ('{roles}')
JOIN person pe ON pe.id = m.person_id AND pe.deleted_at IS NULL
GROUP BY 1, 2"""

_ENTERED_TABLE = """CREATE TEMP TABLE _ind_entered (dimension TEXT, ref_id CHAR(32), project_id CHAR(32),
    PRIMARY KEY (dimension, ref_id, project_id)) WITHOUT ROWID"""

# A project entered a structure's parcours in the period: an entry event in it, none before it. (UNION ALL:
# INSERT OR IGNORE drops the pairs seen twice, so deduplicating the candidates first would sort them twice.)
# (Both probes go through the (project, structure, date) indexes ix_phase_change_project_owner_date and
# ix_referral_project_to_answered.)
_ENTERED_STRUCTURE = f"""INSERT OR IGNORE INTO _ind_entered
SELECT 'structure', c.structure_id, c.project_id FROM (
    SELECT project_id, structure_id FROM _ind_pc
    UNION ALL SELECT project_id, to_id FROM _ind_ref r WHERE accepted_in_period
) c
WHERE NOT EXISTS (SELECT 1 FROM phase_change e WHERE e.project_id = c.project_id
    AND e.owner_structure_id = c.structure_id AND e.deleted_at IS NULL AND e.effective_date < :start)
AND NOT EXISTS (SELECT 1 FROM referral r WHERE r.project_id = c.project_id AND r.to_structure_id = c.structure_id
    AND r.deleted_at IS NULL AND r.answered_on < :start AND {_ACCEPTED})"""

# The same for a dispositif (probes through ix_referral_project_dispositif and ix_financing_project_dispositif,
# which hold the deletion, answer and status checked: the rows themselves are never read).
_ENTERED_DISPOSITIF = f"""INSERT OR IGNORE INTO _ind_entered
SELECT 'dispositif', c.ref_id, c.project_id FROM (
    SELECT project_id, dispositif_id AS ref_id FROM _ind_ref WHERE accepted_in_period AND dispositif_id IS NOT NULL
    UNION ALL SELECT project_id, dispositif_id FROM _ind_fin WHERE granted_in_period AND dispositif_id IS NOT NULL
) c
WHERE NOT EXISTS (SELECT 1 FROM referral r WHERE r.project_id = c.project_id AND r.to_dispositif_id = c.ref_id
    AND r.deleted_at IS NULL AND r.answered_on < :start AND {_ACCEPTED})
AND NOT EXISTS (SELECT 1 FROM financing f WHERE f.project_id = c.project_id AND f.dispositif_id = c.ref_id
    AND f.deleted_at IS NULL AND f.decided_on < :start AND f.status IN {_GRANTED})"""

_STARTED = f"""(EXISTS (SELECT 1 FROM project_state ps WHERE ps.project_id = e.project_id
        AND {_STARTED_AS_OF}) OR e.project_id IN ({_STARTED_BY_REFERRAL}))"""

# « started » was computed for the projects accompanied; an entered project is one of them but for odd data
_PIPELINE_ROWS = f"""SELECT ref_id, count(*), group_concat(project_id), sum(started),
    group_concat(CASE WHEN started THEN project_id END)
FROM (SELECT e.ref_id, e.project_id, coalesce(ip.started, {_STARTED}) AS started
      FROM _ind_entered e LEFT JOIN _ind_projects ip ON ip.project_id = e.project_id
      WHERE e.dimension = :dimension)
GROUP BY ref_id ORDER BY count(*) DESC, ref_id"""

# (indicator, condition on _ind_ref, the side it is counted for)
_REFERRAL_COUNTS: tuple[tuple[str, str, str], ...] = (
    ("orientations_envoyees", "proposed_in_period", "from_id"),
    ("orientations_recues", "proposed_in_period", "to_id"),
    ("orientations_acceptees", "accepted_in_period", "to_id"),
    ("orientations_refusees", "refused_in_period", "to_id"),
    ("orientations_expirees", "expired_in_period", "to_id"),
)
