"""Benchmark of the « Synthèse d'accompagnement » PDF: a project with 60 appointments, read then drawn.

Target: under 300 ms for reading and drawing the internal variant (the longest one, with every note).
``bench_summary(db_path)`` opens (or creates) the database, adds the benchmark project the first time
(a project titled ``BENCH_TITLE``, led by the catalogue's URSCOP; the catalogue is loaded if missing), then
times ``build_summary`` and ``render_summary``: the median of ``RUNS`` runs after one warm-up run, whose
time (font loading included) is reported as ``cold_ms``.

Standalone, on a scratch database: ``python -m benchmarks.bench_reports``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ess_accompagnement.domain import advisors, appointments, financing, phases, projects
from ess_accompagnement.domain.actors import Actor, load_actor
from ess_accompagnement.domain.codes import AdvisorRole, AppointmentMode, FinancingStatus, Instrument, Phase
from ess_accompagnement.domain.entities import Commune, Project, Structure
from ess_accompagnement.domain.ids import catalogue_id
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.reports.summary import Variant, build_summary, render_summary
from ess_accompagnement.store import setup
from ess_accompagnement.store.db import Database, open_database

logger = logging.getLogger(__name__)

APPOINTMENTS = 60
TARGET_MS = 300.0
RUNS = 5
BENCH_TITLE = "Banc d'essai – synthèse à 60 rendez-vous"
TODAY = dt.date(2026, 11, 23)
NOTE = ("Point sur l'avancement : statuts relus avec les associés, prévisionnel à consolider (chiffre d'affaires "
        "de la première année jugé optimiste), recherche d'un local en centre-bourg, contacts pris avec la mairie "
        "et la communauté de communes. Prochain rendez-vous après la réunion des associés.")
TOPICS = ("statuts", "prévisionnel", "local", "financement", "gouvernance", "recrutement")


def bench_summary(db_path: Path | str) -> dict[str, Any]:
    """Time the summary of a project with 60 appointments in the database at ``db_path``."""
    db = open_database(db_path)
    try:
        project_id, structure_id = _bench_project(db)
        cold = _run(db, project_id, structure_id)
        runs = [_run(db, project_id, structure_id) for _ in range(RUNS)]
    finally:
        db.close()
    total_ms = statistics.median(run.build_ms + run.render_ms for run in runs)
    return {
        "name": "summary_pdf", "appointments": APPOINTMENTS, "variant": Variant.INTERNE.value, "pages": cold.pages,
        "runs": RUNS, "cold_ms": round(cold.build_ms + cold.render_ms, 1),
        "build_ms": round(statistics.median(run.build_ms for run in runs), 1),
        "render_ms": round(statistics.median(run.render_ms for run in runs), 1),
        "total_ms": round(total_ms, 1),
        "total_cpu_ms": round(statistics.median(run.cpu_ms for run in runs), 1),  # steadier on a busy machine
        "target_ms": TARGET_MS, "within_target": total_ms < TARGET_MS,
    }


@dataclass(frozen=True)
class _Run:
    build_ms: float
    render_ms: float
    cpu_ms: float
    pages: int


def _run(db: Database, project_id: uuid.UUID, structure_id: uuid.UUID) -> _Run:
    """One read and one draw of the internal summary, timed."""
    cpu, start = time.process_time(), time.perf_counter()
    with db.read() as session:
        data = build_summary(session, project_id, printing_structure_id=structure_id, today=TODAY)
    built = time.perf_counter()
    pages = render_summary(data, io.BytesIO(), Variant.INTERNE)
    drawn = time.perf_counter()
    return _Run((built - start) * 1000, (drawn - built) * 1000, (time.process_time() - cpu) * 1000, pages)


# ---- The benchmark project ----------------------------------------------------------------------


def _bench_project(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """The benchmark project and its lead structure, created on first use."""
    with db.read() as session:
        found = session.execute(
            select(Project.id, Project.lead_structure_id).where(Project.title == BENCH_TITLE,
                                                                Project.deleted_at.is_(None))
        ).first()
    if found is not None:
        return found[0], found[1]
    actor = _bench_advisor(db)
    with db.transaction() as session:
        commune = session.execute(select(Commune.code).order_by(Commune.code).limit(1)).scalar()
        draft = projects.ProjectDraft(
            title=BENCH_TITLE, lead_structure_id=actor.structure_id, commune_code=commune,
            holders=(projects.HolderDraft("Inès", "Lefèvre"), projects.HolderDraft("Karim", "Benali")),
            phase_date=dt.date(2024, 1, 8), summary="Projet de démonstration pour mesurer l'impression.")
        project_id = projects.create_project(session, actor, draft, today=TODAY).id
        phases.change_phase(session, actor, project_id, Phase.CREATION, date=dt.date(2025, 1, 6), reason=None,
                            today=TODAY)
        for index, instrument in enumerate((Instrument.PRET_HONNEUR, Instrument.SUBVENTION, Instrument.GARANTIE)):
            financing.add_financing(session, actor, financing.FinancingDraft(
                project_id, instrument, Decimal("15000.50") + index * 1000, FinancingStatus.DEMANDE,
                funder_name="Financeur du banc d'essai"), today=TODAY)
    _add_appointments(db, actor, project_id)
    logger.info("benchmark project created with %d appointments", APPOINTMENTS)
    return project_id, actor.structure_id


def _bench_advisor(db: Database) -> Actor:
    """An advisor of the catalogue's URSCOP (reference data loaded if the database is empty)."""
    structure_id = catalogue_id("structure", "urscop")
    with db.read() as session:
        has_catalogue = session.get(Structure, structure_id) is not None
    if not has_catalogue:
        setup.load_reference_data(db)
    with db.transaction() as session:
        advisor_id = advisors.add_advisor(session, None, name="Conseillère Banc d'essai", structure_id=structure_id,
                                          role=AdvisorRole.CONSEILLER).id
        return load_actor(session, advisor_id)


def _add_appointments(db: Database, actor: Actor, project_id: uuid.UUID) -> None:
    first = dt.datetime(2024, 1, 9, 14, 0, tzinfo=PARIS)
    now = dt.datetime.combine(TODAY, dt.time(12), tzinfo=PARIS)
    with db.transaction() as session:
        for index in range(APPOINTMENTS):
            draft = appointments.AppointmentDraft(
                project_id, first + dt.timedelta(days=12 * index), 60 + 15 * (index % 3), AppointmentMode.PRESENTIEL,
                place="Locaux de la structure", topics=(TOPICS[index % 6], TOPICS[(index + 1) % 6]), notes=NOTE,
                next_steps=(appointments.NextStepDraft(f"Étape n° {index + 1} à préparer",
                                                       TODAY + dt.timedelta(days=index)),),
            )
            appointments.add_appointment(session, actor, draft, now=now)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as directory:
        result = bench_summary(Path(directory) / "bench.db")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
