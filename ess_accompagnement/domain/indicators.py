"""Indicators for a period: what advisors report to funders, the region and the observatory.

Every figure is counted over the period ``[start, end]`` (both days included, French calendar
days), **as of** ``end``: nothing dated after ``end`` counts, and the phase is read from the phase
history, not from the current state. Each figure is a frozen ``Figure`` carrying the ids of the
projects behind it, so any number can be listed and questioned (peers.md §4 item 11).

Definitions
-----------
Work and attribution. A structure *worked on* a project in the period when, in the period:
- one of its advisors held an appointment with it (status « réalisé »; the appointment's
  ``owner_structure_id``, which the use case sets to the advisor's structure);
- a phase change of the project was recorded by it (the phase change's ``owner_structure_id``);
- it moved a referral of the project on as the receiving structure: accepted it (``answered_on``),
  started it or closed it (a refusal is not accompaniment: refusals are counted with the referrals);
- it is the funder of a financing line of the project requested in the period, or granted in it.
Every figure is counted for the structure that did the work (the appointment's or phase change's
owner, the referral's receiver, the financing's funder), never for the project's lead of today, so
a transfer does not rewrite last year's figures.

Projects accompanied (``projets_accompagnes``): the distinct projects some structure (the one of the
``structure`` filter, if given) worked on in the period, broken down by:
- ``phase``: the phase **as of** ``end`` (latest phase change dated on or before ``end``; « sans
  phase » when none is);
- ``statut``: the status **as of** ``end``: the current one, unless a dated status change
  (``status_change``, written by ``projects.set_status``) came after ``end``, in which case the status before
  the first of those. A status changed without a date (a plain edit, an import) reads as it is today;
- ``forme``, ``secteur``: the project's current values (the model keeps no dated history of them, so a past
  period shows today's legal form and sector);
- ``departement``, ``epci``: those of the project's commune; ``territoire``: « rurale » when the
  commune has fewer than 2 000 inhabitants, « urbaine » otherwise. This population threshold stands
  in for INSEE's grille communale de densité, which the commune table does not carry yet and which
  should replace it;
- ``structure``: the structures that worked on it (a project worked on by two structures counts
  once for each, so this breakdown does not add up to the total).
Holders (``porteurs``): the distinct persons who are « porteur » or « co-porteur » of the projects
accompanied, by ``genre`` and by ``age`` band at ``end`` (``end.year - birth_year``: <26, 26–35,
36–50, 51–60, >60, inconnu). Their figures carry the ids of those holders' projects.

The pipeline line « N projets ont intégré le parcours, M ont démarré une activité », per structure
and per dispositif: a project *entered* a structure's parcours in the period when its first
accepted referral to that structure, or its first phase change recorded by it, falls in the period
(not before); it entered a dispositif when its first accepted referral to the dispositif, or its
first financing line of the dispositif granted, falls in the period. Among them, *started* are the
projects whose status as of ``end`` is « activité démarrée » or one of whose referrals was closed with the
outcome « activité démarrée » on or before ``end``.

Referrals, per structure: sent (proposed in the period, for the sender), received (proposed in the
period, for the receiver), accepted and refused (answered in the period, for the receiver; refusals
also by coded reason), expired (became expired in the period: still unanswered and not cancelled on
the day after ``proposed_on + expiry days``, as ``referrals.derived_status`` has it; for the
receiver). The answer delay is ``answered_on - proposed_on`` in days, for the referrals answered in
the period; its median is given overall and per (sender → receiver) pair.

Appointments starting on a day of the period (Paris time): by status; those held (« réalisé ») by
mode and by permanence; each with its hours. Jobs: the sums of the ETP created and maintained
recorded on the projects accompanied (current values). Financing, by instrument and by funder:
lines requested in the period (amount requested) and lines granted in the period (decided in it,
status « accordé » or « versé », amount granted); a funder outside the catalogue counts as « hors
catalogue ».

Filters: ``departement`` and ``epci`` keep the projects whose commune is there; ``dispositif`` keeps
the projects that entered the dispositif on or before ``end``, and only the referrals and financing
lines of that dispositif; ``structure`` keeps the work done by that structure (the referrals it sent
or received, and, in the pipeline, the dispositifs it operates). Deleted rows, and every row of a
deleted project, never count. The SQL is SQLite's (temporary tables, ``date()``, ``julianday()``); the
projects accompanied are read once and grouped by each dimension in memory, and the whole computation reads
the file through a memory map (``store.db.memory_mapped``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, overload

from sqlalchemy import text
from sqlalchemy.orm import Session

from ess_accompagnement.domain import settings
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    Coded,
    Gender,
    Instrument,
    LegalForm,
    MemberRole,
    Phase,
    ProjectStatus,
    RefusalReason,
    Sector,
)
from ess_accompagnement.domain.errors import ValidationError
from ess_accompagnement.domain.indicators_sql import (  # noqa: F401 - RURAL_POPULATION, UNKNOWN: re-exported
    _ACTIVITY_INSERTS,
    _ACTIVITY_TABLE,
    _ENTERED_DISPOSITIF,
    _ENTERED_STRUCTURE,
    _ENTERED_TABLE,
    _FIN_TABLE,
    _HOLDERS_GROUPS,
    _IN_DISPOSITIF,
    _PC_TABLE,
    _PIPELINE_ROWS,
    _PROJECTS_INSERT,
    _PROJECTS_TABLE,
    _RDV_GROUPS,
    _RDV_KEYS,
    _RDV_SORTED,
    _RDV_TOTAL,
    _REF_TABLE,
    _REFERRAL_COUNTS,
    _STARTED_BY_REFERRAL,
    _TEMP_TABLES,
    RURAL_POPULATION,
    UNKNOWN,
)
from ess_accompagnement.domain.text import fold
from ess_accompagnement.domain.validation import PARIS, format_date
from ess_accompagnement.store.db import memory_mapped

logger = logging.getLogger(__name__)

HOLDER_ROLES = (MemberRole.PORTEUR, MemberRole.CO_PORTEUR)
TOTAL = "total"
OUTSIDE_CATALOGUE = "hors_catalogue"
_CHUNK_ROWS = 512  # rows read at a time by _Run.columns (fewer than a collection's threshold, 700)
ID_PREFIX = "id:"  # a bucket naming a row without catalogue key: « id:<hex> » (never exported)
# (code, label, lowest age, highest age), age = end year − birth year
AGE_BANDS = (
    ("moins_26", "moins de 26 ans", 0, 25),
    ("26_35", "26 à 35 ans", 26, 35),
    ("36_50", "36 à 50 ans", 36, 50),
    ("51_60", "51 à 60 ans", 51, 60),
    ("plus_60", "plus de 60 ans", 61, 150),
)


class Dimension(StrEnum):
    """What a figure is broken down by (codes shared by the command line and the observatory file)."""

    ALL = "ensemble"
    PHASE = "phase"
    STATUS = "statut"
    LEGAL_FORM = "forme"
    SECTOR = "secteur"
    DEPARTEMENT = "departement"
    EPCI = "epci"
    TERRITORY = "territoire"
    GENDER = "genre"
    AGE = "age"
    STRUCTURE = "structure"
    DISPOSITIF = "dispositif"
    REASON = "motif"
    PAIR = "paire"
    MODE = "mode"
    PERMANENCE = "permanence"
    INSTRUMENT = "instrument"
    FUNDER = "financeur"

    @property
    def label(self) -> str:
        return _DIMENSION_LABELS.get(self.value, self.value)


_DIMENSION_LABELS = {"forme": "forme juridique", "departement": "département", "epci": "EPCI", "age": "âge",
                     "paire": "paire de structures"}


PROJECT_DIMENSIONS = (Dimension.PHASE, Dimension.STATUS, Dimension.LEGAL_FORM, Dimension.SECTOR,
                      Dimension.DEPARTEMENT, Dimension.EPCI, Dimension.TERRITORY)
HOLDER_DIMENSIONS = (Dimension.GENDER, Dimension.AGE)


@dataclass(frozen=True)
class IndicatorDef:
    key: str
    label: str
    counts: str  # what ``Figure.count`` counts
    value_unit: str | None = None  # what ``Figure.value`` measures


INDICATORS: dict[str, IndicatorDef] = {d.key: d for d in (
    IndicatorDef("projets_accompagnes", "Projets accompagnés", "projets"),
    IndicatorDef("porteurs", "Porteurs des projets accompagnés", "porteurs"),
    IndicatorDef("parcours_entres", "Projets ayant intégré le parcours", "projets"),
    IndicatorDef("parcours_demarres", "… dont activité démarrée", "projets"),
    IndicatorDef("orientations_envoyees", "Orientations envoyées", "orientations"),
    IndicatorDef("orientations_recues", "Orientations reçues", "orientations"),
    IndicatorDef("orientations_acceptees", "Orientations acceptées", "orientations"),
    IndicatorDef("orientations_refusees", "Orientations refusées", "orientations"),
    IndicatorDef("orientations_expirees", "Orientations expirées sans réponse", "orientations"),
    IndicatorDef("delai_reponse", "Délai médian de réponse aux orientations", "orientations", "jours (médiane)"),
    IndicatorDef("rendez_vous", "Rendez-vous de la période", "rendez-vous", "heures"),
    IndicatorDef("rendez_vous_realises", "Rendez-vous réalisés", "rendez-vous", "heures"),
    IndicatorDef("emplois_crees", "Emplois créés", "projets", "ETP"),
    IndicatorDef("emplois_maintenus", "Emplois maintenus", "projets", "ETP"),
    IndicatorDef("financements_demandes", "Financements demandés", "lignes de financement", "euros"),
    IndicatorDef("financements_accordes", "Financements accordés", "lignes de financement", "euros"),
)}


@dataclass(frozen=True)
class Scope:
    """The period (both days included) and the filters of a set of indicators."""

    start: dt.date
    end: dt.date
    structure_id: uuid.UUID | None = None
    dispositif_id: uuid.UUID | None = None
    departement: str | None = None
    epci_siren: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(f"Période : la fin ({format_date(self.end)}) précède le début "
                                  f"({format_date(self.start)}).", field="end")

    @property
    def filters_projects(self) -> bool:
        return any(v is not None for v in (self.dispositif_id, self.departement, self.epci_siren))


@dataclass(frozen=True, eq=False)
class ProjectIds(Sequence[uuid.UUID]):
    """The ids of the projects behind a figure, each once, in id order.

    Kept as the text the database aggregated (32-digit hex ids joined by commas), or as a function that
    lists the hex ids, until read: a year of figures names hundreds of thousands of ids, and parsing them
    all would cost more than the figures themselves, when an advisor looks behind one or two.
    """

    packed: str = ""
    source: Callable[[], Iterable[str]] | None = field(default=None, repr=False)  # used instead of packed

    @classmethod
    def union(cls, parts: Iterable[ProjectIds]) -> ProjectIds:
        """The projects behind any of ``parts`` (read when the union is)."""
        parts = tuple(parts)
        return cls(source=lambda: [hex_id for part in parts for hex_id in part.hexes()])

    def hexes(self) -> Iterable[str]:
        """The hex ids as given (repeats possible), without parsing them."""
        if self.source is not None:
            return self.source()
        return self.packed.split(",") if self.packed else ()

    @functools.cached_property
    def _ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(uuid.UUID(h) for h in sorted(set(self.hexes())))

    @overload
    def __getitem__(self, index: int) -> uuid.UUID: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[uuid.UUID]: ...

    def __getitem__(self, index: int | slice) -> uuid.UUID | Sequence[uuid.UUID]:
        return self._ids[index]

    def __len__(self) -> int:
        return len(self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProjectIds) and self._ids == other._ids

    def __hash__(self) -> int:
        return hash(self._ids)

    def __repr__(self) -> str:
        return f"ProjectIds({len(self)} projets)"


@dataclass(frozen=True)
class Figure:
    """One number, and the projects behind it."""

    indicator: str
    dimension: Dimension
    bucket: str  # code of the value: « creation », a catalogue key, « total »…
    label: str  # French label of the value
    count: int  # in the unit of INDICATORS[indicator].counts
    project_ids: ProjectIds
    value: Decimal | None = None  # in INDICATORS[indicator].value_unit

    @property
    def key(self) -> str:
        """« projets_accompagnes.phase »: the indicator and its dimension."""
        return f"{self.indicator}.{self.dimension.value}"


@dataclass(frozen=True)
class PipelineLine:
    dimension: Dimension  # structure or dispositif
    bucket: str
    label: str
    entered: Figure
    started: Figure

    @property
    def sentence(self) -> str:
        """« 92 projets ont intégré le parcours, 41 ont démarré une activité »."""
        n, m = self.entered.count, self.started.count
        first = {0: "aucun projet n'a intégré le parcours", 1: "1 projet a intégré le parcours"}.get(
            n, f"{n} projets ont intégré le parcours")
        second = {0: "aucun n'a démarré d'activité", 1: "1 a démarré une activité"}.get(
            m, f"{m} ont démarré une activité")
        return f"{first}, {second}"


@dataclass(frozen=True)
class Indicators:
    """Every figure of a scope, as of its end date."""

    scope: Scope
    figures: tuple[Figure, ...]

    def breakdown(self, indicator: str, dimension: Dimension | str = Dimension.ALL) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if f.indicator == indicator and f.dimension == dimension)

    def figure(self, indicator: str, dimension: Dimension | str = Dimension.ALL, bucket: str = TOTAL) \
            -> Figure | None:
        return next((f for f in self.breakdown(indicator, dimension) if f.bucket == bucket), None)

    def count(self, indicator: str, dimension: Dimension | str = Dimension.ALL, bucket: str = TOTAL) -> int:
        found = self.figure(indicator, dimension, bucket)
        return found.count if found else 0

    def projects_behind(self, key: str, bucket: str = TOTAL) -> list[uuid.UUID]:
        """The projects behind ``key`` (« indicator » or « indicator.dimension ») = ``bucket`` (code or label)."""
        return list(find_figure(self, key, bucket).project_ids)

    def pipeline(self, dimension: Dimension = Dimension.STRUCTURE) -> list[PipelineLine]:
        started = {f.bucket: f for f in self.breakdown("parcours_demarres", dimension)}
        return [PipelineLine(dimension, f.bucket, f.label, f, started[f.bucket])
                for f in self.breakdown("parcours_entres", dimension)]


def find_figure(indicators: Indicators, key: str, bucket: str = TOTAL) -> Figure:
    """The figure « indicator[.dimension] » whose bucket code or label is ``bucket``, or a ValidationError."""
    indicator, _, dimension = key.partition(".")
    if indicator not in INDICATORS:
        raise ValidationError(f"indicateur « {indicator} » inconnu. Indicateurs : {', '.join(INDICATORS)}.",
                              field="explain")
    figures = indicators.breakdown(indicator, dimension or Dimension.ALL)
    wanted = fold(bucket)
    for figure in figures:
        if wanted in (fold(figure.bucket), fold(figure.label)):
            return figure
    choices = ", ".join(f.bucket for f in figures) or "aucune sur cette période"
    raise ValidationError(f"« {key}={bucket} » : aucune valeur de ce nom. Valeurs : {choices}.", field="explain")


def compute_indicators(session: Session, scope: Scope) -> Indicators:
    """Every indicator of ``scope``, as of its end date (temporary tables, dropped before returning)."""
    run = _Run(session, scope)
    with memory_mapped(session):
        try:
            run.prepare()
            figures = [*run.accompanied(), *run.holders(), *run.pipeline(), *run.referrals(), *run.appointments(),
                       *run.jobs(), *run.financing()]
        finally:
            run.drop()
    logger.debug("indicators computed: %d figures", len(figures))
    return Indicators(scope, tuple(figures))


# ---- Computation ---------------------------------------------------------------------------------

Labeller = Callable[[Any], tuple[str, str]]
Row = Sequence[Any]


@dataclass
class _Run:
    """One computation: the session, the bound parameters, the temporary tables and the labels."""

    session: Session
    scope: Scope
    params: dict[str, Any] = field(default_factory=dict)
    structures: dict[str, tuple[str, str]] = field(default_factory=dict)  # hex id → (bucket, label)
    dispositifs: dict[str, tuple[str, str]] = field(default_factory=dict)
    projects: list[list[Any]] = field(default_factory=list)  # the columns of _ind_projects, read once

    def __post_init__(self) -> None:
        s = self.scope
        self.params = {
            "start": s.start.isoformat(), "end": s.end.isoformat(), "lo": _utc_text(s.start),
            "hi": _utc_text(s.end + dt.timedelta(days=1)), "year": s.end.year,
            "structure": s.structure_id.hex if s.structure_id else None,
            "dispositif": s.dispositif_id.hex if s.dispositif_id else None,
            "departement": s.departement, "epci": s.epci_siren,
            "expiry": settings.referral_expiry_days(self.session),
        }
        expires_after = dt.timedelta(days=self.params["expiry"] + 1)
        self.params |= {"expired_from": (s.start - expires_after).isoformat(),
                        "expired_to": (s.end - expires_after).isoformat()}

    def sql(self, statement: str, **extra: Any) -> Any:
        return self.session.execute(text(statement), {**self.params, **extra})

    def columns(self, statement: str, width: int) -> list[list[Any]]:
        """The rows of a query as ``width`` column lists, read by chunks: each chunk's row tuples die as soon as
        they are copied, instead of piling up for Python's cycle collector to walk again and again."""
        columns: list[list[Any]] = [[] for _ in range(width)]
        cursor = self.session.connection().connection.cursor()
        try:
            cursor.execute(statement, self.params)
            while chunk := cursor.fetchmany(_CHUNK_ROWS):
                for column, values in zip(columns, zip(*chunk, strict=True), strict=True):
                    column.extend(values)
        finally:
            cursor.close()
        return columns

    def only(self, column: str, key: str = "structure") -> str:
        """`` AND column = :key`` when that filter is set, else nothing."""
        return f" AND {column} = :{key}" if self.params[key] is not None else ""

    def in_scope(self, alias: str) -> str:
        if self.scope.filters_projects:
            return f"{alias}.project_id IN (SELECT project_id FROM _ind_scope)"
        return f"{alias}.project_id NOT IN (SELECT project_id FROM _ind_deleted)"

    def drop(self) -> None:
        for table in _TEMP_TABLES:
            self.sql(f"DROP TABLE IF EXISTS temp.{table}")

    def prepare(self) -> None:
        """The temporary tables every figure is grouped from: one scan of each big table."""
        self.drop()
        self._load_labels()
        self._scope_table()
        # the structure's referrals through the (from, proposed) and (to, proposed) indexes, not a scan
        mine = " AND r.rowid IN (SELECT rowid FROM referral WHERE from_structure_id = :structure " \
            "UNION ALL SELECT rowid FROM referral WHERE to_structure_id = :structure)" \
            if self.params["structure"] is not None else ""
        self.sql(_REF_TABLE.format(scope=self.in_scope("r"),
                                   filters=self.only("r.to_dispositif_id", "dispositif") + mine))
        self.sql(_FIN_TABLE.format(scope=self.in_scope("f"), filters=self.only("f.dispositif_id", "dispositif")))
        self.sql(_PC_TABLE.format(scope=self.in_scope("pc")) + self.only("pc.owner_structure_id"))
        self.sql(_ACTIVITY_TABLE)
        for statement in _ACTIVITY_INSERTS:
            self.sql(statement.format(structure=self.only("structure_id"), owner=self.only("a.owner_structure_id"),
                                      scope=self.in_scope("a")))
        self.sql(_PROJECTS_TABLE)
        # A few projects: probe each one's referrals; many: one scan of the referrals, looked up.
        started = f"EXISTS ({_STARTED_BY_REFERRAL} AND r.project_id = ps.project_id)" \
            if self.params["structure"] is not None else f"ps.project_id IN ({_STARTED_BY_REFERRAL})"
        self.sql(_PROJECTS_INSERT.format(started=started))

    def _scope_table(self) -> None:
        if not self.scope.filters_projects:
            # project_state.live is « deleted_at IS NULL » (kept by triggers), and indexed: no scan of project
            self.sql("CREATE TEMP TABLE _ind_deleted AS SELECT project_id FROM project_state WHERE live = 0")
            return
        self.sql("CREATE TEMP TABLE _ind_scope (project_id CHAR(32) PRIMARY KEY) WITHOUT ROWID")
        statement = "INSERT INTO _ind_scope SELECT p.id FROM project p"
        if self.params["departement"] is not None or self.params["epci"] is not None:
            statement += " JOIN commune c ON c.code = p.commune_code" + self.only("c.departement", "departement") \
                + self.only("c.epci_siren", "epci")
        statement += " WHERE p.deleted_at IS NULL"
        if self.params["dispositif"] is not None:
            statement += f" AND p.id IN ({_IN_DISPOSITIF})"
        self.sql(statement)

    def _load_labels(self) -> None:
        for hex_id, key, label in self.sql("SELECT id, catalogue_key, coalesce(short_name, name) FROM structure"):
            self.structures[hex_id] = (key or f"{ID_PREFIX}{hex_id}", label)
        for hex_id, key, label in self.sql("SELECT id, catalogue_key, name FROM dispositif"):
            self.dispositifs[hex_id] = (key or f"{ID_PREFIX}{hex_id}", label)

    def structure(self, hex_id: str | None) -> tuple[str, str]:
        if hex_id is None:
            return OUTSIDE_CATALOGUE, "hors catalogue"
        return self.structures.get(hex_id, (f"{ID_PREFIX}{hex_id}", "structure inconnue"))

    def dispositif(self, hex_id: str) -> tuple[str, str]:
        return self.dispositifs.get(hex_id, (f"{ID_PREFIX}{hex_id}", "dispositif inconnu"))

    # ---- figures

    def figures(self, indicator: str, dimension: Dimension, rows: Iterable[Row], label: Labeller,
                unit: Callable[[Any], Decimal] | None = None) -> Iterator[Figure]:
        """Figures from rows (bucket, count, packed project ids or ProjectIds[, raw value])."""
        for row in rows:
            code, name = label(row[0])
            value = unit(row[3]) if unit is not None else None
            ids = row[2] if isinstance(row[2], ProjectIds) else ProjectIds(row[2] or "")
            yield Figure(indicator, dimension, code, name, int(row[1]), ids, value)

    def grouped(self, indicator: str, dimension: Dimension, select: str, label: Labeller,
                unit: Callable[[Any], Decimal] | None = None) -> Iterator[Figure]:
        """``select`` is « bucket, count, ids, [value] FROM … [WHERE …] »: grouped by bucket, biggest first."""
        rows = self.sql(f"SELECT {select} GROUP BY 1 HAVING count(*) > 0 ORDER BY 2 DESC, 1")
        return self.figures(indicator, dimension, rows, label, unit)

    def accompanied(self) -> Iterator[Figure]:
        """One read of the projects accompanied, counted in memory by each of their dimensions.

        Seven GROUP BYs would sort the same rows seven times. Each figure lists its projects from the rows
        read only when asked (``ProjectIds.source``).
        """
        columns = self.projects = self.columns(f"SELECT project_id, {', '.join(_PROJECT_COLUMNS.values())}, "
                                               "jobs_created, jobs_maintained FROM _ind_projects",
                                               len(PROJECT_DIMENSIONS) + 3)
        for index, dimension in enumerate(PROJECT_DIMENSIONS, start=1):
            counts = sorted(Counter(columns[index]).items(), key=lambda item: (-item[1], item[0] is not None, item[0]))
            rows = [(code, count, _matching(columns[0], columns[index], code)) for code, count in counts]
            figures = self.figures("projets_accompagnes", dimension, rows, self._labeller(dimension))
            yield from _with_total(list(figures)) if dimension is Dimension.PHASE else figures
        yield from self.grouped("projets_accompagnes", Dimension.STRUCTURE,
                                "structure_id, count(*), group_concat(project_id) FROM _ind_activity", self.structure)

    def _labeller(self, dimension: Dimension) -> Labeller:
        if dimension is not Dimension.EPCI:
            return _LABELLERS[dimension]
        names = dict(self.sql("SELECT DISTINCT epci_siren, epci_name FROM commune WHERE epci_siren IN "
                              "(SELECT epci FROM _ind_projects)").all())
        return lambda code: (code, names.get(code) or ("sans EPCI connu" if code == UNKNOWN else code))

    def holders(self) -> Iterator[Figure]:
        """One grouping by (gender, age band), summed by each: a person has one gender and one age band."""
        rows = self.sql(_HOLDERS_GROUPS.format(age=_age_band_sql(),
                                               roles="', '".join(r.value for r in HOLDER_ROLES))).all()
        # each holder has one gender: the gender breakdown adds up to the total
        yield from _with_total(list(self.figures("porteurs", Dimension.GENDER, _regroup(rows, 0, keys=2),
                                                 _LABELLERS[Dimension.GENDER])))
        yield from self.figures("porteurs", Dimension.AGE, _regroup(rows, 1, keys=2), _LABELLERS[Dimension.AGE])

    def pipeline(self) -> Iterator[Figure]:
        self.sql(_ENTERED_TABLE)
        self.sql(_ENTERED_STRUCTURE + self.only("c.structure_id"))
        operated = " AND c.ref_id IN (SELECT id FROM dispositif WHERE operator_id = :structure)" \
            if self.params["structure"] is not None else ""
        self.sql(_ENTERED_DISPOSITIF + operated)
        for dimension, label in ((Dimension.STRUCTURE, self.structure), (Dimension.DISPOSITIF, self.dispositif)):
            rows = self.sql(_PIPELINE_ROWS, dimension=dimension.value).all()
            yield from self.figures("parcours_entres", dimension, [r[:3] for r in rows], label)
            yield from self.figures("parcours_demarres", dimension, [(r[0], r[3], r[4]) for r in rows], label)

    def referrals(self) -> Iterator[Figure]:
        for indicator, where, side in _REFERRAL_COUNTS:
            select = f"count(*), group_concat(project_id) FROM _ind_ref WHERE {where}{self.only(side)}"
            yield from _with_total(list(self.grouped(indicator, Dimension.STRUCTURE, f"{side}, {select}",
                                                     self.structure)))
            if indicator == "orientations_refusees":
                yield from self.grouped(indicator, Dimension.REASON, f"refusal_reason, {select}",
                                        _LABELLERS[Dimension.REASON])
        yield from self._answer_delays()

    def _answer_delays(self) -> Iterator[Figure]:
        sources, targets, answered, waited = self.columns(
            f"SELECT from_id, to_id, project_id, delay FROM _ind_ref WHERE answered_in_period{self.only('to_id')}", 4)
        if answered:
            yield _delay_figure(Dimension.ALL, (TOTAL, "ensemble"), answered, waited)
        pairs: dict[tuple[str, str], tuple[list[str], list[int]]] = {}
        for source, target, project, days in zip(sources, targets, answered, waited, strict=True):
            found = pairs.get((source, target))
            if found is None:
                pairs[source, target] = ([project], [days])
            else:
                found[0].append(project)
                found[1].append(days)
        for (source, target), (projects, delays) in sorted(pairs.items(), key=lambda item: (-len(item[1][0]), item[0])):
            (a, a_label), (b, b_label) = self.structure(source), self.structure(target)
            yield _delay_figure(Dimension.PAIR, (f"{a}>{b}", f"{a_label} → {b_label}"), projects, delays)

    def appointments(self) -> Iterator[Figure]:
        """One pass over the period's appointments, regrouped by status, mode and permanence."""
        rows = self._appointment_groups()
        held = [r for r in rows if r[0] == AppointmentStatus.REALISE.value]
        names = dict(self.sql("SELECT id, name FROM permanence").all())
        yield from _with_total(list(self.figures("rendez_vous", Dimension.STATUS, _regroup(rows, 0, keys=3),
                                                 lambda code: _coded(AppointmentStatus, code), _hours)))
        yield from _with_total(list(self.figures("rendez_vous_realises", Dimension.MODE, _regroup(held, 1, keys=3),
                                                 _LABELLERS[Dimension.MODE], _hours)))
        yield from self.figures("rendez_vous_realises", Dimension.PERMANENCE,
                                _regroup([r for r in held if r[2] is not None], 2, keys=3),
                                lambda hex_id: (f"{ID_PREFIX}{hex_id}", names.get(hex_id, "permanence inconnue")),
                                _hours)

    def _appointment_groups(self) -> list[Row]:
        """(status, mode, permanence, count, packed project ids, minutes) of the period's appointments."""
        where = self.in_scope("a") + self.only("a.owner_structure_id")
        if self.params["structure"] is not None:  # one structure's appointments: few enough to sort
            return self.sql(_RDV_SORTED.format(scope=where)).all()
        self.sql(_RDV_KEYS, statuses=json.dumps([s.value for s in AppointmentStatus]),
                 modes=json.dumps([m.value for m in AppointmentMode]))
        rows = self.sql(_RDV_GROUPS.format(scope=where)).all()
        if sum(row[3] for row in rows) != self.sql(_RDV_TOTAL.format(scope=where)).scalar_one():
            # an appointment at a permanence this copy does not have (yet): group them by sorting
            rows = self.sql(_RDV_SORTED.format(scope=where)).all()
        return rows

    def jobs(self) -> Iterator[Figure]:
        """The ETP recorded on the projects accompanied (read once by ``accompanied``)."""
        for indicator, column in (("emplois_crees", -2), ("emplois_maintenus", -1)):
            values = [value for value in self.projects[column] if value is not None]
            if values:
                ids = ProjectIds(source=lambda ids=self.projects[0], col=self.projects[column]: [
                    i for i, value in zip(ids, col, strict=True) if value is not None])
                yield Figure(indicator, Dimension.ALL, TOTAL, "ensemble", len(values), ids, _cents(sum(values)))

    def financing(self) -> Iterator[Figure]:
        for indicator, when, amount in (
            ("financements_demandes", "requested_in_period", "amount_requested"),
            ("financements_accordes", "granted_in_period", "amount_granted"),
        ):
            select = (f"count(*), group_concat(project_id), coalesce(sum({amount}), 0) FROM _ind_fin "
                      f"WHERE {when}{self.only('funder_id')}")
            yield from _with_total(list(self.grouped(indicator, Dimension.INSTRUMENT, f"instrument, {select}",
                                                     _LABELLERS[Dimension.INSTRUMENT], _cents)))
            yield from self.grouped(indicator, Dimension.FUNDER, f"funder_id, {select}", self.structure, _cents)


def _with_total(figures: list[Figure]) -> Iterator[Figure]:
    """The « ensemble » figure of a breakdown whose buckets partition what is counted, then the breakdown."""
    if figures:
        first = figures[0]
        value = sum((f.value or Decimal(0) for f in figures), Decimal(0)) if first.value is not None else None
        yield Figure(first.indicator, Dimension.ALL, TOTAL, "ensemble", sum(f.count for f in figures),
                     ProjectIds.union(f.project_ids for f in figures), value)
    yield from figures


def _matching(ids: Sequence[str], codes: Sequence[Any], code: Any) -> ProjectIds:
    """The ids whose code is ``code`` (two columns of the same rows), listed when read."""
    return ProjectIds(source=lambda: [i for i, c in zip(ids, codes, strict=True) if c == code])


def _regroup(rows: Sequence[Row], column: int, keys: int) -> list[tuple[Any, int, str, int]]:
    """Rows (``keys`` key columns, count, packed ids[, minutes]) summed by key column ``column``, biggest first
    (then by code, NULL first, as SQL's « ORDER BY count DESC, code »)."""
    merged: dict[Any, list[Any]] = {}
    for row in rows:
        total = merged.setdefault(row[column], [0, [], 0])
        total[0] += row[keys]
        total[1].append(row[keys + 1])
        total[2] += (row[keys + 2] or 0) if len(row) > keys + 2 else 0
    ordered = sorted(merged.items(), key=lambda item: (-item[1][0], item[0] is not None, item[0]))
    return [(code, count, ",".join(packed), value) for code, (count, packed, value) in ordered]


def _delay_figure(dimension: Dimension, bucket: tuple[str, str], projects: list[str], delays: list[int]) -> Figure:
    median = Decimal(str(statistics.median(delays))).quantize(Decimal("0.1"))
    return Figure("delai_reponse", dimension, bucket[0], bucket[1], len(delays), ProjectIds(",".join(projects)), median)


def _utc_text(day: dt.date) -> str:
    """Midnight of ``day`` in Paris, as the UTC text appointments are stored in."""
    moment = dt.datetime.combine(day, dt.time.min, tzinfo=PARIS).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _cents(raw: int | None) -> Decimal:
    """A sum of a ``Cents`` column (stored in hundredths) in units."""
    return (Decimal(raw or 0) / 100).quantize(Decimal("0.01"))


def _hours(minutes: int | None) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(Decimal("0.01"))


def _age_band_sql() -> str:
    cases = " ".join(f"WHEN :year - pe.birth_year BETWEEN {low} AND {high} THEN '{code}'"
                     for code, _, low, high in AGE_BANDS)
    return f"CASE WHEN pe.birth_year IS NULL THEN '{UNKNOWN}' {cases} ELSE '{UNKNOWN}' END"


# ---- Labels ---------------------------------------------------------------------------------------


def _coded(enum_cls: type[Coded], code: str | None, missing: str = "non renseigné") -> tuple[str, str]:
    if code is None or code == UNKNOWN:
        return UNKNOWN, missing
    return code, enum_cls(code).label


_THRESHOLD = f"{RURAL_POPULATION:,}".replace(",", "\u00a0")
_TERRITORIES = {"rurale": f"rurale (moins de {_THRESHOLD} habitants)",
                "urbaine": f"urbaine ({_THRESHOLD} habitants ou plus)", UNKNOWN: "commune inconnue"}
_AGES = {code: label for code, label, _, _ in AGE_BANDS} | {UNKNOWN: "âge inconnu"}
_LABELLERS: dict[Dimension, Labeller] = {
    Dimension.PHASE: lambda code: (code, "sans phase") if code == UNKNOWN else (code, Phase(code).label),
    Dimension.STATUS: lambda code: _coded(ProjectStatus, code),
    Dimension.LEGAL_FORM: lambda code: _coded(LegalForm, code),
    Dimension.SECTOR: lambda code: _coded(Sector, code),
    Dimension.DEPARTEMENT: lambda code: (code, "commune inconnue" if code == UNKNOWN else code),
    Dimension.TERRITORY: lambda code: (code, _TERRITORIES[code]),
    Dimension.GENDER: lambda code: _coded(Gender, code),
    Dimension.AGE: lambda code: (code, _AGES[code]),
    Dimension.REASON: lambda code: _coded(RefusalReason, code, "motif non renseigné"),
    Dimension.MODE: lambda code: _coded(AppointmentMode, code),
    Dimension.INSTRUMENT: lambda code: _coded(Instrument, code),
}
_PROJECT_COLUMNS = {d: {Dimension.STATUS: "status", Dimension.LEGAL_FORM: "legal_form", Dimension.SECTOR: "sector",
                        Dimension.TERRITORY: "territory"}.get(d, d.value) for d in PROJECT_DIMENSIONS}
