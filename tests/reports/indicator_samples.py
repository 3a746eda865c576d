"""Hand-made ``Indicators`` values for the chart and report tests: every number known in advance."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from ess_accompagnement.domain.indicators import Dimension, Figure, Indicators, ProjectIds, Scope

P = [uuid.UUID(int=i) for i in range(1, 2001)]  # project ids


def ids(*numbers: int) -> ProjectIds:
    return ProjectIds(",".join(P[n].hex for n in numbers))


def fig(indicator: str, dimension: Dimension, bucket: str, label: str, count: int, projects: ProjectIds,
        value: Decimal | None = None) -> Figure:
    return Figure(indicator, dimension, bucket, label, count, projects, value)


def sample_indicators() -> Indicators:
    """1 234 projects accompanied (ids 0…1233), a pipeline of 92 / 41, 15 000,50 € granted."""
    d, many = Dimension, ids(*range(1234))
    figures = (
        fig("projets_accompagnes", d.ALL, "total", "ensemble", 1234, many),
        fig("projets_accompagnes", d.PHASE, "emergence", "émergence", 734, ids(*range(734))),
        fig("projets_accompagnes", d.PHASE, "creation", "création", 500, ids(*range(734, 1234))),
        fig("projets_accompagnes", d.DEPARTEMENT, "37", "37", 1000, ids(*range(1000))),
        fig("projets_accompagnes", d.DEPARTEMENT, "36", "36", 234, ids(*range(1000, 1234))),
        fig("projets_accompagnes", d.STRUCTURE, "urscop", "URSCOP", 1234, many),
        fig("porteurs", d.ALL, "total", "ensemble", 1500, many),
        fig("porteurs", d.GENDER, "femme", "femme", 900, ids(*range(700))),
        fig("parcours_entres", d.STRUCTURE, "urscop", "URSCOP", 92, ids(*range(92))),
        fig("parcours_demarres", d.STRUCTURE, "urscop", "URSCOP", 41, ids(*range(41))),
        fig("parcours_entres", d.STRUCTURE, "fa-cvl", "France Active Centre-Val de Loire", 10, ids(*range(85, 95))),
        fig("parcours_demarres", d.STRUCTURE, "fa-cvl", "France Active Centre-Val de Loire", 0, ids()),
        fig("orientations_envoyees", d.ALL, "total", "ensemble", 7, ids(1, 2, 3)),
        fig("orientations_recues", d.ALL, "total", "ensemble", 6, ids(4, 5)),
        fig("orientations_acceptees", d.ALL, "total", "ensemble", 4, ids(4)),
        fig("orientations_acceptees", d.STRUCTURE, "urscop", "URSCOP", 4, ids(4)),
        fig("orientations_refusees", d.STRUCTURE, "urscop", "URSCOP", 2, ids(5)),
        fig("orientations_refusees", d.REASON, "hors_perimetre", "hors du périmètre de la structure", 2, ids(5)),
        fig("delai_reponse", d.ALL, "total", "ensemble", 6, ids(4, 5), Decimal("4.5")),
        fig("rendez_vous_realises", d.ALL, "total", "ensemble", 2345, many, Decimal("1234.5")),
        fig("rendez_vous_realises", d.MODE, "presentiel", "présentiel", 2000, many, Decimal("1000")),
        fig("rendez_vous_realises", d.MODE, "visio", "visio", 345, ids(1), Decimal("234.5")),
        fig("emplois_crees", d.ALL, "total", "ensemble", 12, ids(*range(12)), Decimal("18.5")),
        fig("financements_accordes", d.ALL, "total", "ensemble", 3, ids(7, 8), Decimal("15000.50")),
        fig("financements_accordes", d.INSTRUMENT, "pret_honneur", "prêt d'honneur", 3, ids(7, 8),
            Decimal("15000.50")),
        fig("financements_demandes", d.INSTRUMENT, "pret_honneur", "prêt d'honneur", 4, ids(7, 8, 9),
            Decimal("20000")),
        fig("projets_accompagnes", d.SECTOR, "=cmd", "=HYPERLINK(\"http://x\")", 1, ids(1)),
    )
    return Indicators(Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), figures)


def empty_indicators() -> Indicators:
    return Indicators(Scope(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), ())
