"""A plausible, deterministic demo database: projects accompanied along the chain in Centre-Val de Loire.

``generate_demo`` fills an initialised database (communes and catalogue loaded) with advisors,
permanences, holders, projects and ten years of their history: phase changes, appointments and
next steps, referrals between the catalogue's structures (A VOS ID + Alter'Incub → CAP ASSO → CAP
Région SCOP-SCIC, France Active garantie and Fonds de confiance, DLA for consolidation, reprise en
SCOP via the URSCOP…), financing lines (« tours de table ») and notes. The rows follow the domain's
rules: phases move forward by date and never in the future, a referral's receiver fields match its
status, every row of a project belongs to the project's lead structure.

Determinism: every value comes from random streams seeded by ``seed`` (one per batch of projects)
and from ``today``, never from the clock, so the same seed and the same day give the same rows,
ids included (UUIDv7-shaped ids built from the row's creation time and the seeded stream). Names are
combinations of common French first names and surnames listed below, never real people's data;
e-mails use the domain ``exemple.fr``.

Writing, in one transaction (a failure leaves nothing): the derived tables' triggers and the
secondary indexes of the loaded tables are dropped, the rows are inserted batch by batch with
SQLAlchemy Core ``insert()`` statements run as executemany, parents before children (so the deferred
foreign keys never count a violation, and SQLite never scans a child table while a parent is
inserted), then the indexes are re-created in one sorted pass each, the derived tables rebuilt and
the triggers re-created. Projects come in chronological order, so their time-ordered ids are mostly
appended to the primary-key indexes.

Small runs (below ``PARALLEL_FROM`` projects) pass the row dicts to ``connection.execute(insert(table),
rows)``. Larger ones have ``GENERATORS`` child processes make the batches while this process writes:
the children turn the rows into DB-API tuples with converters checked against the columns' own
SQLAlchemy type processors, and this process runs the compiled Core statement over them (SQLAlchemy's
per-row parameter processing, about 14 µs a row here, would add half a minute to the writer's share of
100 000 projects). Both paths store the same bytes; tests/test_demo.py checks it.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import gc
import hashlib
import itertools
import json
import logging
import operator
import os
import pickle
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from dateutil.rrule import rrulestr
from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeDecorator, TypeEngine
from stdnum import luhn

from ess_accompagnement.domain.codes import (
    AdvisorRole,
    AppointmentMode,
    AppointmentStatus,
    ConsentScope,
    ConsentSource,
    FinancingStatus,
    Gender,
    Instrument,
    LegalForm,
    MemberRole,
    Phase,
    Prescripteur,
    ProjectStatus,
    ReferralOutcome,
    ReferralStatus,
    RefusalReason,
    Sector,
    Situation,
)
from ess_accompagnement.domain.entities import Commune, Dispositif, Project, Structure
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.domain.ids import member_id
from ess_accompagnement.domain.text import fold, sort_key
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.store import derived
from ess_accompagnement.store.db import Database
from ess_accompagnement.store.types import Base, UTCDateTime

logger = logging.getLogger(__name__)

T = TypeVar("T")
Row = dict[str, Any]
P = Phase

CVL_DEPARTEMENTS = ("18", "28", "36", "37", "41", "45")
HISTORY_DAYS = 10 * 365 + 2  # « ten years of records » (issue 3)
FOLLOW_UP_DAYS = (540, 1460)  # an accompaniment, post-creation follow-up included, lasts 18 months to 4 years
BATCH_PROJECTS = 2000
PARALLEL_FROM = 10_000  # projects from which a second process generates the batches
GENERATORS = 2  # processes generating batches while this one writes
LOAD_CACHE_KIB = 128 * 1024  # SQLite page cache while loading (random primary-key inserts), restored afterwards
EXPIRY_DAYS = 30  # the default referral expiry (domain.settings): receivers answer before it
REMINDED_AFTER_DAYS = 21  # an unanswered referral is reminded (« relancée ») once, three weeks after it was sent
TABLE_ORDER = ("person", "project", "project_member", "phase_change", "status_change", "appointment", "next_step", "referral",
               "financing", "note")

# ---- Word lists (generated combinations only: no real person's data) -----------------------------

FEMALE_NAMES = (
    "Marie Camille Léa Manon Chloé Emma Inès Sarah Julie Laura Pauline Mathilde Clara Anaïs Lucie Élodie "
    "Aurélie Céline Sandrine Nathalie Isabelle Sophie Stéphanie Valérie Catherine Christine Sylvie Martine "
    "Françoise Hélène Claire Agnès Anne Émilie Charlotte Juliette Margaux Océane Jade Louise Alice Zoé Nadia "
    "Fatima Samira Amina Leïla Yasmine Aïcha Karine Virginie Delphine Audrey Mélanie Caroline Patricia Brigitte "
    "Odile Solène Maëlle Noémie Margot Elsa Gaëlle Coralie Justine Marion Morgane Estelle Bérénice Ophélie Armelle "
    "Rose"
).split()
MALE_NAMES = (
    "Jean Pierre Michel Philippe Alain Nicolas Christophe Stéphane Laurent Sébastien Julien David Thomas "
    "Antoine Maxime Alexandre Romain Guillaume Kévin Mathieu Olivier François Frédéric Éric Patrick Thierry Bruno "
    "Didier Pascal Gilles Hugo Lucas Louis Théo Nathan Baptiste Quentin Clément Adrien Benoît Jérôme Yannick "
    "Cédric Arnaud Damien Vincent Fabrice Hervé Bernard Gérard Karim Mehdi Rachid Youssef Mamadou Ibrahim Samuel "
    "Raphaël Gaël Loïc Florian Jérémy Anthony Bastien Valentin Aurélien Matthieu Yves Serge Joël Noël Tristan "
    "Émile"
).split()
SURNAMES = (
    "Martin,Bernard,Thomas,Petit,Robert,Richard,Durand,Dubois,Moreau,Laurent,Simon,Michel,Lefèvre,Leroy,Roux,"
    "David,Bertrand,Morel,Fournier,Girard,Bonnet,Dupont,Lambert,Fontaine,Rousseau,Vincent,Muller,Faure,André,"
    "Mercier,Blanc,Guérin,Boyer,Garnier,Chevalier,François,Legrand,Gauthier,Garcia,Perrin,Robin,Clément,Morin,"
    "Nicolas,Henry,Roussel,Mathieu,Masson,Marchand,Duval,Denis,Dumont,Lemaire,Noël,Meyer,Dufour,Meunier,Brun,"
    "Blanchard,Giraud,Joly,Rivière,Lucas,Brunet,Gaillard,Barbier,Arnaud,Martinez,Gérard,Roche,Renard,Schmitt,Roy,"
    "Leroux,Colin,Vidal,Caron,Picard,Roger,Fabre,Aubert,Lemoine,Renaud,Dumas,Lacroix,Olivier,Philippe,Bourgeois,"
    "Benoît,Rey,Leclerc,Rolland,Guillaume,Lecomte,Lopez,Dupuy,Guillot,Hubert,Berger,Carpentier,Sanchez,Dupuis,"
    "Moulin,Deschamps,Huet,Vasseur,Perez,Boucher,Fleury,Royer,Klein,Jacquet,Adam,Poirier,Marty,Aubry,Guyot,Carré,"
    "Renault,Charpentier,Ménard,Maillard,Baron,Bertin,Bailly,Hervé,Schneider,Fernandez,Le Gall,Collet,Léger,"
    "Bouvier,Julien,Prévost,Millet,Perrot,Le Roux,Cousin,Germain,Breton,Besson,Langlois,Rémy,Le Goff,Pelletier,"
    "Lévêque,Perrier,Leblanc,Barré,Lebrun,Marchal,Weber,Mallet,Hamon,Boulanger,Jacob,Monnier,Michaud,Guichard,"
    "Gillet,Étienne,Poulain,Tessier,Chauvin,Da Silva,Bouchet,Lemaître,Bénard,Maréchal,Humbert,Reynaud,Barthélemy,"
    "Cordier,Pichon,Lejeune,Gilbert,Lamy,Delaunay,Pasquier,Laporte,Nguyen,Diallo,Traoré,Benali,Haddad,Mendes,"
    "Ferreira,Kaya,Dos Santos,Camara,Cissé,Rabier,Moussa,Desbois,Chaumeil,Beaufils,Texier,Morisset,Goujon"
).split(",")

BRANDS = (
    "La Clé des champs", "Le Grand Chemin", "Les Mains vertes", "La Fourmilière", "Le Chaudron", "La Ruche",
    "L'Établi", "Les Communs", "La Bricole", "Le Lien", "La Traverse", "Les Sentiers", "La Passerelle",
    "L'Escale", "Le Potager d'Œuvre", "La Belle Ouvrage", "Le Relais", "L'Atelier du Cher", "Les Tisserands",
    "La Guinguette", "Le Moulin", "Les Coteaux", "La Boussole", "Le Fil d'Ariane", "L'Îlot", "Le Bocage",
    "La Source", "Les Graines", "Le Comptoir", "La Sève",
)
ACTIVITIES: dict[Sector, tuple[str, ...]] = {
    Sector.ALIMENTATION: ("Épicerie solidaire", "Cantine coopérative", "Légumerie", "Conserverie artisanale",
                          "Boulangerie paysanne", "Drive fermier"),
    Sector.REEMPLOI: ("Ressourcerie", "Recyclerie", "Atelier de réparation", "Boutique de réemploi"),
    Sector.MOBILITE: ("Atelier vélo", "Garage solidaire", "Vélo-école", "Autopartage", "Transport solidaire"),
    Sector.CULTURE: ("Café-culture", "Compagnie de théâtre", "Librairie coopérative", "Cinéma itinérant",
                     "Festival"),
    Sector.ENVIRONNEMENT_ENERGIE: ("Centrale villageoise", "Énergie citoyenne", "Méthanisation collective",
                                   "Chaufferie bois"),
    Sector.AIDE_DOMICILE: ("Aide à domicile", "Habitat inclusif", "Plateforme de répit"),
    Sector.INSERTION: ("Chantier d'insertion", "Entreprise d'insertion", "Régie de quartier"),
    Sector.AGRICULTURE: ("Ferme partagée", "Maraîchage bio", "Couveuse agricole", "Pépinière coopérative"),
    Sector.NUMERIQUE: ("Fab lab", "Médiation numérique", "Tiers-lieu numérique"),
    Sector.HABITAT_BATIMENT: ("Habitat participatif", "Menuiserie", "Éco-construction", "Rénovation du bâti ancien"),
    Sector.TOURISME: ("Gîte coopératif", "Base de loisirs", "Camping solidaire"),
    Sector.SANTE: ("Centre de santé", "Maison de santé"),
    Sector.ENSEIGNEMENT_FORMATION: ("École de production", "Organisme de formation"),
    Sector.COMMERCE: ("Café associatif", "Bar-épicerie", "Multiple rural"),
    Sector.SERVICES: ("Conciergerie solidaire", "Groupement d'employeurs"),
    Sector.ACTION_SOCIALE: ("Épicerie sociale", "Crèche parentale", "Accueil de jour"),
    Sector.ARTISANAT_INDUSTRIE: ("Atelier partagé", "Imprimerie coopérative", "Verrerie", "Fonderie"),
    Sector.SPORT_LOISIRS: ("Club nature", "Centre équestre associatif"),
}
SECTORS = tuple(ACTIVITIES)
SECTOR_WEIGHTS = (14, 10, 7, 9, 6, 5, 8, 8, 4, 6, 4, 3, 3, 5, 3, 4, 4, 2)
TOPICS: dict[Phase, tuple[str, ...]] = {
    P.EMERGENCE: ("besoins du territoire", "étude de marché", "modèle économique", "choix du statut juridique",
                  "constitution du collectif", "financements d'amorçage", "étude de faisabilité"),
    P.CREATION: ("statut juridique", "plan de financement", "prévisionnel", "recherche de locaux", "immatriculation",
                 "gouvernance", "pacte d'associés", "prêt d'honneur", "garantie bancaire"),
    P.CONSOLIDATION: ("stratégie commerciale", "recrutement", "trésorerie", "tableau de bord", "fonction employeur",
                      "partenariats", "diversification des ressources", "gouvernance"),
    P.CHANGEMENT_ECHELLE: ("essaimage", "duplication", "mutualisation", "coopération territoriale", "levée de fonds",
                           "mesure d'impact"),
    P.REPRISE_TRANSMISSION: ("transmission", "reprise par les salariés", "valorisation de l'entreprise",
                             "capital des salariés", "montage financier de la reprise", "gouvernance coopérative"),
    P.DIFFICULTE: ("trésorerie", "plan de redressement", "procédure de sauvegarde", "échéancier social et fiscal",
                   "restructuration", "recherche de fonds propres"),
}
# Every run of one to three consecutive topics of a phase: an appointment's topics are one of them.
TOPIC_CHOICES = {phase: tuple([topics[(start + offset) % len(topics)] for offset in range(count)]
                              for start in range(len(topics)) for count in (1, 2, 3))
                 for phase, topics in TOPICS.items()}
NOTE_OPENERS = ("Point d'étape sur", "Échange avec le collectif sur", "Travail approfondi sur", "Premier entretien :",
                "Relecture du dossier :", "Atelier avec les porteurs sur")
NOTE_FOLLOWS = (
    "Le porteur doit revenir avec des chiffres consolidés.", "Prochain rendez-vous dans un mois.",
    "Dossier bien avancé, à présenter en comité.", "Besoin d'un appui juridique, orientation envisagée.",
    "Le collectif s'est élargi à deux nouveaux membres.", "Points de vigilance sur la trésorerie.",
    "Les élus locaux soutiennent le projet.", "Hypothèses de chiffre d'affaires à revoir à la baisse.",
    "Bonne dynamique, calendrier tenu.", "Le porteur hésite encore entre association et SCIC.",
)
PROJECT_NOTES = (
    "Projet présenté au comité technique régional.", "Rencontre avec les élus de la communauté de communes.",
    "Visite du site : le local nécessite des travaux de mise aux normes.", "Relance du porteur restée sans réponse.",
    "Le projet a été présenté lors d'une réunion d'information collective.",
    "Contact pris avec l'expert-comptable du projet.", "Le collectif a tenu son assemblée générale constitutive.",
    "Article paru dans la presse locale sur le projet.", "Point avec les partenaires financeurs du tour de table.",
)
NEXT_STEPS = (
    "Transmettre le budget prévisionnel", "Rédiger les statuts", "Prendre contact avec l'expert-comptable",
    "Contacter la mairie pour le local", "Préparer le dossier de demande de subvention",
    "Organiser l'assemblée générale constitutive", "Envoyer les comptes du dernier exercice",
    "Compléter l'étude de marché", "Réunir les futurs associés", "Rencontrer la banque",
    "Préparer le plan de trésorerie", "Mettre à jour le tableau de bord", "Rédiger la fiche de poste",
    "Déposer la demande d'agrément ESUS", "Présenter le projet au comité d'engagement",
)
BANKS = ("Crédit Coopératif", "La Nef", "Crédit Agricole Centre Loire", "Banque Populaire Val de France",
         "Caisse d'Épargne Loire-Centre", "Crédit Mutuel", "CIC Ouest")
PERMANENCE_PLACES = (("France Services", "Espace France Services"), ("Mairie", "Place de la Mairie"),
                     ("Tiers-lieu", "Rue de la Gare"), ("Maison des associations", "Rue des Écoles"),
                     ("Communauté de communes", "Avenue de la République"))
PERMANENCE_RULES = ("FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=1TH", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
                    "FREQ=MONTHLY;BYDAY=3FR", "FREQ=MONTHLY;BYDAY=-1MO", "FREQ=MONTHLY;BYDAY=4TU")
PERMANENCES_PER_DEPARTEMENT = {"18": 4, "28": 3, "36": 4, "37": 3, "41": 3, "45": 3}
FINANCING_COMMENTS = (None, None, "Tour de table en cours de bouclage.", "Décision du comité d'engagement.",
                      "Versement en deux tranches.", "Pièces complémentaires demandées.")
CANCEL_COMMENTS = ("Le porteur a trouvé une autre solution.", "Orientation faite par erreur.",
                   "Le projet est mis en pause.")
ACCEPT_COMMENTS = (None, None, "Premier rendez-vous fixé.", "Le projet entre dans la prochaine promotion.")
OUTCOME_COMMENTS = (None, "Bilan partagé avec la structure émettrice.", "Voir le compte rendu joint au dossier.",
                    "Le porteur a été informé.")
REFUSAL_COMMENTS = {
    RefusalReason.HORS_PERIMETRE: "Le projet ne relève pas de nos critères d'intervention.",
    RefusalReason.PROJET_PAS_MUR: "À revoir quand le modèle économique sera stabilisé.",
    RefusalReason.DEJA_ACCOMPAGNE: "Le projet est déjà suivi par un autre réseau.",
    RefusalReason.CAPACITE: "Plus de place dans la promotion en cours.",
    RefusalReason.PORTEUR_INJOIGNABLE: "Trois relances sans réponse.",
    RefusalReason.PORTEUR_RENONCE: "Le porteur préfère attendre.",
    RefusalReason.AUTRE: "Voir avec la structure émettrice.",
}
AREA_CODES = {"18": "48", "28": "37", "36": "54", "37": "47", "41": "54", "45": "38"}  # 02 48…, 02 37…
MOBILE_PREFIXES = ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78")
_M = MemberRole
CO_ROLES = {"asso_vers_scop": (_M.CO_PORTEUR, _M.DIRIGEANT_BENEVOLE, _M.BENEVOLE),
            "creation_france_active": (_M.CO_PORTEUR, _M.CO_PORTEUR, _M.SALARIE),
            "consolidation_dla": (_M.DIRIGEANT_BENEVOLE, _M.SALARIE, _M.BENEVOLE),
            "reprise_scop": (_M.ASSOCIE_SALARIE,), "creation_scop_scic": (_M.ASSOCIE_SALARIE, _M.COOPERATEUR),
            "cae": (_M.ENTREPRENEUR_SALARIE, _M.CO_PORTEUR), "difficulte": (_M.CO_PORTEUR, _M.SALARIE),
            "emergence_rurale": (_M.CO_PORTEUR, _M.BENEVOLE, _M.COOPERATEUR)}
_A = AppointmentMode
DURATIONS = {_A.PRESENTIEL: (45, 60, 60, 90, 120), _A.TELEPHONE: (15, 20, 30, 45), _A.VISIO: (30, 45, 60, 60, 90),
             _A.PERMANENCE: (30, 40, 40, 60)}
MAIN_TRACK = (P.EMERGENCE, P.CREATION, P.CONSOLIDATION, P.CHANGEMENT_ECHELLE)
_F = FinancingStatus
DECIDED = frozenset({_F.ACCORDE, _F.VERSE, _F.REFUSE})  # statuses with a decision date
_R = ReferralStatus
_O = ReferralOutcome


class Weighted(Generic[T]):
    """A weighted choice, drawn with one uniform number (``random.choices`` costs far more per draw)."""

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items, weights = zip(*pairs, strict=True)
        self.items: tuple[T, ...] = tuple(items)
        self.cumulated = list(itertools.accumulate(weights))
        self.total = self.cumulated[-1]

    def __call__(self, draw: Draw) -> T:
        return self.items[bisect.bisect(self.cumulated, draw.random() * self.total)]


SECTOR = Weighted(zip(SECTORS, SECTOR_WEIGHTS, strict=True))
PRESCRIPTEUR = Weighted(zip(Prescripteur, (16, 10, 12, 5, 8, 4, 4, 3, 10, 3, 8, 14, 3), strict=True))
PRESCRIPTEUR_KEYS = {Prescripteur.CHAMBRE_CONSULAIRE: "consulaires", Prescripteur.FRANCE_TRAVAIL: "pole-emploi",
                     Prescripteur.MISSION_LOCALE: "missions-locales", Prescripteur.INCUBATEUR: "alter-incub",
                     Prescripteur.FABRIQUE: "fabrique", Prescripteur.TIERS_LIEU: "tiers-lieux",
                     Prescripteur.RESEAU_ESS: "cress-cvl"}
HOLDER_COUNT = Weighted(((1, 60), (2, 30), (3, 10)))
GENDER = Weighted(((Gender.FEMME, 48), (Gender.HOMME, 47), (Gender.AUTRE, 1), (Gender.NON_RENSEIGNE, 4)))
SITUATION = Weighted(zip(Situation, (30, 35, 10, 5, 6, 8, 6), strict=True))
CONSENT_SCOPE = Weighted(zip(ConsentScope, (40, 45, 15), strict=True))
CONSENT_SOURCE = Weighted(zip(ConsentSource, (30, 25, 20, 25), strict=True))
MODE = Weighted(((_A.PRESENTIEL, 38), (_A.TELEPHONE, 25), (_A.VISIO, 22), (_A.PERMANENCE, 15)))
PAST_STATUS = Weighted(((AppointmentStatus.REALISE, 86), (AppointmentStatus.ANNULE, 7),
                        (AppointmentStatus.ABSENT, 7)))
NEXT_STEP_COUNT = Weighted(((0, 68), (1, 27), (2, 5)))
NOTE_COUNT = Weighted(((0, 35), (1, 35), (2, 20), (3, 10)))
OWN_DECISION = Weighted(((_F.ACCORDE, 35), (_F.VERSE, 40), (_F.REFUSE, 15), (_F.ABANDONNE, 10)))
# What the receiver (or the sender, for a cancellation) did; None: nobody answered (proposée, or expirée).
RECENT_ANSWER = Weighted(((None, 35), (_R.ANNULEE, 5), (_R.ACCEPTEE, 35), (_R.REFUSEE, 10), (_R.EN_COURS, 15)))
OLD_ANSWER = Weighted(((None, 4), (_R.ANNULEE, 4), (_R.REFUSEE, 14), (_R.ABANDONNEE, 9), (_R.ABOUTIE, 57),
                       (_R.EN_COURS, 7), (_R.ACCEPTEE, 5)))
REFUSAL = Weighted(zip(RefusalReason, (20, 30, 12, 15, 10, 10, 3), strict=True))
COMPLETED_WITH_MONEY = Weighted(((_O.FINANCEMENT_ACCORDE, 70), (_O.ACCOMPAGNEMENT_REALISE, 20),
                                 (_O.ACTIVITE_DEMARREE, 10)))
COMPLETED_WITHOUT_MONEY = Weighted(((_O.ACCOMPAGNEMENT_REALISE, 60), (_O.ACTIVITE_DEMARREE, 25),
                                    (_O.REORIENTE, 15)))
ABANDONED = Weighted(((_O.PORTEUR_INJOIGNABLE, 30), (_O.PORTEUR_RENONCE, 35), (_O.PROJET_ARRETE, 30),
                      (_O.AUTRE, 5)))


# ---- Scenarios: the typical paths of a project along the chain ------------------------------------


@dataclass(frozen=True)
class Step:
    """A referral (and maybe a financing line) a path makes while the project is in ``phase``."""

    target: str  # a dispositif key (its operator receives the referral) or a structure key
    phase: Phase
    motive: str
    chance: float
    amounts: tuple[int, int] | None = None  # euros requested, when the step asks for money


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int
    leads: tuple[tuple[str, int], ...]
    entry: Weighted[Phase]
    legal_forms: tuple[LegalForm, ...]
    steps: tuple[Step, ...]


SCENARIOS = (
    Scenario("asso_vers_scop", 12, (("cress-cvl", 3), ("alter-incub", 3), ("mouv-asso", 2), ("tiers-lieux", 1),
                                    ("fabrique", 1)),
             Weighted(((P.EMERGENCE, 1),)), (LegalForm.ASSOCIATION,), (
        Step("a-vos-id", P.EMERGENCE, "Amorçage du projet collectif : demande A VOS ID.", 0.85, (5_000, 30_000)),
        Step("alter-incub", P.EMERGENCE, "Incubation pour structurer le projet et valider sa faisabilité technique "
             "et économique.", 0.75),
        Step("cap-asso", P.CONSOLIDATION, "Déploiement : création de postes avec CAP ASSO.", 0.85, (15_000, 60_000)),
        Step("cap-scop-scic", P.CONSOLIDATION, "Transformation de l'association en SCOP : apport en capital "
             "doublé par la Région.", 0.55, (10_000, 80_000)),
        Step("fa-garantie", P.CREATION, "Garantie d'un prêt bancaire pour l'investissement de départ.", 0.35,
             (10_000, 60_000)))),
    Scenario("creation_france_active", 20, (("fa-cvl", 4), ("bge", 3), ("cress-cvl", 1), ("alter-incub", 1)),
             Weighted(((P.EMERGENCE, 7), (P.CREATION, 3))),
             (LegalForm.SOCIETE_COMMERCIALE_ESS, LegalForm.SAS, LegalForm.SARL, LegalForm.ASSOCIATION,
              LegalForm.SCIC), (
        Step("fonds-confiance", P.EMERGENCE, "Étude de faisabilité portée par une entreprise d'accueil.", 0.5,
             (10_000, 40_000)),
        Step("fa-garantie", P.CREATION, "Garantie France Active du prêt bancaire de démarrage.", 0.7,
             (10_000, 100_000)),
        Step("effervesens", P.CREATION, "Campagne de financement participatif.", 0.3, (5_000, 20_000)),
        Step("envol-ess", P.CREATION, "Entrée au capital par un club Cigales.", 0.25, (5_000, 40_000)),
        Step("dla-accompagnement", P.CONSOLIDATION, "Consolidation du modèle économique après deux exercices.",
             0.25))),
    Scenario("consolidation_dla", 18, (("dla", 4), ("mouv-asso", 2), ("cress-cvl", 1), ("fa-cvl", 1)),
             Weighted(((P.CONSOLIDATION, 8), (P.CREATION, 2))), (LegalForm.ASSOCIATION,), (
        Step("dla-accompagnement", P.CONSOLIDATION, "Diagnostic partagé et accompagnement DLA : consolidation du "
             "modèle économique.", 0.85),
        Step("cap-asso", P.CONSOLIDATION, "Pérennisation d'un poste de coordination avec CAP ASSO.", 0.6,
             (15_000, 60_000)),
        Step("fa-garantie", P.CONSOLIDATION, "Renforcement des fonds propres et garantie bancaire.", 0.35,
             (10_000, 80_000)),
        Step("cap-region-eco", P.CHANGEMENT_ECHELLE, "Investissement pour essaimer sur un second site.", 0.4,
             (20_000, 150_000)))),
    Scenario("reprise_scop", 8, (("urscop", 5), ("fa-cvl", 1), ("cress-cvl", 1)),
             Weighted(((P.REPRISE_TRANSMISSION, 1),)), (LegalForm.SCOP,), (
        Step("urscop", P.REPRISE_TRANSMISSION, "Reprise de l'entreprise par ses salariés en SCOP.", 0.9),
        Step("cap-scop-scic", P.REPRISE_TRANSMISSION, "Doublement de l'apport en capital des salariés repreneurs.",
             0.8, (20_000, 150_000)),
        Step("bpi-garantie", P.REPRISE_TRANSMISSION, "Garantie du prêt bancaire de reprise.", 0.5,
             (30_000, 150_000)),
        Step("fa-garantie", P.REPRISE_TRANSMISSION, "Garantie France Active et prêt participatif de reprise.", 0.5,
             (20_000, 100_000)))),
    Scenario("creation_scop_scic", 10, (("urscop", 4), ("alter-incub", 2), ("cress-cvl", 1)),
             Weighted(((P.EMERGENCE, 6), (P.CREATION, 4))), (LegalForm.SCOP, LegalForm.SCIC), (
        Step("alter-incub", P.EMERGENCE, "Incubation du projet d'innovation sociale.", 0.5),
        Step("a-vos-id", P.EMERGENCE, "Étude d'opportunité financée par A VOS ID.", 0.5, (5_000, 25_000)),
        Step("cap-scop-scic", P.CREATION, "Apport en capital des associés fondateurs abondé par la Région.", 0.7,
             (10_000, 100_000)),
        Step("fa-garantie", P.CREATION, "Garantie du prêt d'équipement.", 0.5, (10_000, 80_000)),
        Step("envol-ess", P.CREATION, "Entrée au capital de la SCIC par Envol'ESS.", 0.3, (5_000, 30_000)))),
    Scenario("cae", 14, (("cae", 1),), Weighted(((P.EMERGENCE, 5), (P.CREATION, 5))), (LegalForm.CAE,), (
        Step("ph-cae", P.CREATION, "Prêt d'honneur pour l'équipement de l'entrepreneur salarié.", 0.5,
             (5_000, 8_000)),
        Step("fa-cvl", P.CREATION, "Accès à un prêt bancaire garanti pour le démarrage.", 0.2))),
    Scenario("difficulte", 6, (("urscop", 2), ("fa-cvl", 2), ("dla", 2)), Weighted(((P.CONSOLIDATION, 1),)),
             (LegalForm.SCOP, LegalForm.ASSOCIATION, LegalForm.SCIC), (
        Step("dla-accompagnement", P.DIFFICULTE, "Entreprise en difficulté : diagnostic et plan d'action.", 0.6),
        Step("urscop", P.DIFFICULTE, "Difficultés : étude d'une reprise par les salariés.", 0.4),
        Step("fa-cvl", P.DIFFICULTE, "Renforcement des fonds propres pour passer le cap.", 0.5),
        Step("fp-droit-reprise", P.DIFFICULTE, "Avance en fonds propres en attente des fonds européens.", 0.3,
             (20_000, 120_000)))),
    Scenario("emergence_rurale", 12, (("cress-cvl", 2), ("fabrique", 2), ("tiers-lieux", 2), ("bge", 2)),
             Weighted(((P.EMERGENCE, 1),)), (LegalForm.ASSOCIATION, LegalForm.SCIC, LegalForm.COOPERATIVE_AUTRE), (
        Step("a-vos-id", P.EMERGENCE, "Projet collectif rural : demande A VOS ID.", 0.7, (5_000, 30_000)),
        Step("leader", P.EMERGENCE, "Cofinancement LEADER du groupe d'action locale.", 0.4, (5_000, 50_000)),
        Step("alter-incub", P.EMERGENCE, "Candidature à l'appel à projets de l'incubateur.", 0.3),
        Step("cap-asso", P.CONSOLIDATION, "Création du premier emploi salarié.", 0.6, (15_000, 45_000)))),
)
DEFAULT_INSTRUMENT = {"fa-cvl": Instrument.FONDS_PROPRES}


# ---- Public API ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """How many rows the demo generation wrote, table by table, and how long it took."""

    advisors: int
    permanences: int
    persons: int
    projects: int
    members: int
    phase_changes: int
    appointments: int
    next_steps: int
    referrals: int
    financings: int
    notes: int
    seconds: float


def generate_demo(
    db: Database,
    *,
    projects: int,
    seed: int,
    today: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill ``db`` (with no project yet) with ``projects`` demo projects and their history, in one transaction.

    ``progress(done, total)`` is called after each batch of projects is written.
    """
    if projects < 0:
        raise RuleError("Nombre de projets de démonstration : il doit être positif ou nul.", field="projects")
    started = time.perf_counter()
    _ensure_reference_data(db)
    counts: Counter[str] = Counter()
    with db.transaction() as session:
        connection = session.connection()
        _refuse_existing_projects(connection)
        world = _build_world(connection, seed, today)
        derived.drop_triggers(connection)
        with _large_cache(connection), _bulk_load(connection):
            indexes = _drop_indexes(connection)
            _insert_rows(connection, "advisor", world.advisor_rows, counts)
            _insert_rows(connection, "permanence", world.permanence_rows, counts)
            for done in _write_projects(connection, world, projects, counts):
                if progress is not None:
                    progress(done, projects)
            logger.info("demo rows written after %.1f s; indexing", time.perf_counter() - started)
            _restore_indexes(connection, indexes)
            derived.rebuild(connection)
        derived.create_triggers(connection)
        logger.info("demo derived tables rebuilt after %.1f s; committing", time.perf_counter() - started)
    summary = _summary(counts, time.perf_counter() - started)
    logger.info("demo generated: %s", summary)
    return summary


@contextlib.contextmanager
def _bulk_load(connection: Connection) -> Iterator[None]:
    """Sync capture off while the demo rows are written; they are sealed at the first exchange instead.

    Capturing a million appointments field by field in one transaction would hold tens of millions of
    pending changes; the deferred baseline seals them a chunk at a time (``sync.install``).
    """
    from ess_accompagnement.sync import capture
    from ess_accompagnement.sync import install as sync_install
    from ess_accompagnement.sync.codec import driver

    raw = driver(connection)
    capture.drop(raw)
    yield
    capture.install(raw)
    sync_install.mark_baseline_pending(raw)


def _ensure_reference_data(db: Database) -> None:
    with db.read() as session:
        has_structures = session.execute(select(Structure.id).limit(1)).first() is not None
    if not has_structures:
        from ess_accompagnement.store.setup import load_reference_data

        load_reference_data(db)


def _refuse_existing_projects(connection: Connection) -> None:
    if connection.execute(select(Project.id).limit(1)).first() is not None:
        raise RuleError("La base contient déjà des projets : la démonstration se génère dans une base neuve.",
                        field="db")


def _summary(counts: Counter[str], seconds: float) -> DemoSummary:
    return DemoSummary(
        advisors=counts["advisor"], permanences=counts["permanence"], persons=counts["person"],
        projects=counts["project"], members=counts["project_member"], phase_changes=counts["phase_change"],
        appointments=counts["appointment"], next_steps=counts["next_step"], referrals=counts["referral"],
        financings=counts["financing"], notes=counts["note"], seconds=round(seconds, 1),
    )


# ---- Writing -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _large_cache(connection: Connection) -> Iterator[None]:
    """A bigger SQLite page cache for the load (the primary-key indexes take random inserts), restored after
    (the pool keeps the connection)."""
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # keep the original error; the setting is only a cache size
            connection.exec_driver_sql(f"PRAGMA cache_size={previous}")
        raise
    connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def _drop_indexes(connection: Connection) -> list[str]:
    """Drop the secondary indexes of the loaded tables (re-created in one sorted pass each, far faster
    than a million random inserts); return their exact CREATE statements, in name order."""
    tables = ", ".join(f"'{table}'" for table in TABLE_ORDER)
    found = connection.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables}) "
        "ORDER BY name"
    ).all()
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [statement for _, statement in found]


def _restore_indexes(connection: Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


def _insert_rows(connection: Connection, table: str, rows: list[Row], counts: Counter[str]) -> None:
    """SQLAlchemy Core: ``insert(table)`` executemany over row dicts."""
    if rows:
        connection.execute(insert(Base.metadata.tables[table]), rows)
        counts[table] += len(rows)


def _write_projects(connection: Connection, world: World, projects: int, counts: Counter[str]) -> Iterator[int]:
    """Insert the projects batch by batch, oldest first; yield how many are written."""
    days = _creation_days(world, projects)
    batches = (projects + BATCH_PROJECTS - 1) // BATCH_PROJECTS
    if projects < PARALLEL_FROM or getattr(sys, "frozen", False):  # a frozen app has no interpreter to start
        for batch in range(batches):
            rows = _batch_rows(world, batch, days[batch * BATCH_PROJECTS:(batch + 1) * BATCH_PROJECTS])
            for table in TABLE_ORDER:
                _insert_rows(connection, table, rows[table], counts)
            yield min((batch + 1) * BATCH_PROJECTS, projects)
    else:
        yield from _write_generated(connection, world, days, batches, counts)


def _write_generated(connection: Connection, world: World, days: list[dt.date], batches: int,
                     counts: Counter[str]) -> Iterator[int]:
    """Insert the batches other processes generate (Core ``insert()`` statements, executemany)."""
    encoders = {table: _Encoder(Base.metadata.tables[table], connection.dialect) for table in TABLE_ORDER}
    waited = writing = 0.0
    with contextlib.closing(_generated_elsewhere(world, days, batches)) as generated:
        for batch in range(batches):
            started = time.perf_counter()
            encoded = next(generated)
            waited += time.perf_counter() - started
            for table in TABLE_ORDER:
                if encoded[table]:
                    connection.exec_driver_sql(encoders[table].statement, encoded[table])
                    counts[table] += len(encoded[table])
            writing += time.perf_counter() - started
            yield min((batch + 1) * BATCH_PROJECTS, len(days))
    logger.info("demo batches: %.1f s waiting for the generating processes, %.1f s writing", waited,
                writing - waited)


def _creation_days(world: World, projects: int) -> list[dt.date]:
    """The projects' creation days over the last ten years (recent ones more frequent), sorted."""
    draw = Draw(f"ess-demo:{world.seed}:days")
    first = world.today - dt.timedelta(days=HISTORY_DAYS)
    span = HISTORY_DAYS - 2
    return sorted(first + dt.timedelta(days=int(span * draw.random() ** 0.8)) for _ in range(projects))


def _batch_rows(world: World, batch: int, days: list[dt.date]) -> dict[str, list[Row]]:
    """Every row of batch number ``batch``, projects created on ``days``, table by table (its random stream
    depends only on the seed and the batch number, whichever process makes it)."""
    draw = Draw(f"ess-demo:{world.seed}:batch:{batch}")
    rows: dict[str, list[Row]] = {table: [] for table in TABLE_ORDER}
    for created in days:
        _ProjectMaker(world, draw, rows, created).make()
    return rows


class _Encoder:
    """A table's Core ``insert()`` statement, and its rows as the DB-API tuples SQLAlchemy would bind.

    The slow column types (UTC datetimes, dates, UUIDs, enums, JSON, booleans) are converted by plain
    functions giving the same values as their SQLAlchemy processors, several times faster; the first
    rows of every call are checked against the processors themselves, so a change of a column type
    can never make the two writing paths disagree silently.
    """

    CHECKED_ROWS = 3

    def __init__(self, table: Table, dialect: Dialect) -> None:
        columns = list(table.columns)
        self.table = table.name
        self.statement = str(insert(table).compile(dialect=dialect, column_keys=[c.key for c in columns]))
        self.reference = [(c.key, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
        self.columns = [(key, _fast_processor(column.type) or processor)
                        for column, (key, processor) in zip(columns, self.reference, strict=True)]

    def encode(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        """The rows' values in column order, converted column by column (the loops run in C)."""
        columns = []
        for key, process in self.columns:
            values = map(operator.itemgetter(key), rows)
            columns.append(list(values if process is None else map(process, values)))
        encoded = list(zip(*columns, strict=True))
        for row, values in zip(rows[:self.CHECKED_ROWS], encoded, strict=False):
            expected = tuple(row[key] if process is None else process(row[key]) for key, process in self.reference)
            if values != expected:
                raise RuntimeError(f"demo: {self.table} values differ from SQLAlchemy's: {values} != {expected}")
        return encoded


def _fast_processor(column_type: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """A plain function converting values of ``column_type`` as SQLAlchemy's SQLite processor does."""
    if isinstance(column_type, UTCDateTime):
        return _utc_text
    for kind, function in _FAST_PROCESSORS:
        if isinstance(column_type, kind) and not isinstance(column_type, TypeDecorator):
            return function
    return None


def _utc_text(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the « +00:00 »


@functools.lru_cache(maxsize=1024)
def _json_of(items: tuple[Any, ...]) -> str:
    return json.dumps(list(items))


def _json_text(value: Any) -> str | None:
    """JSON text of a column value; lists (topics, structures present) are few and come back often."""
    if value is None:
        return None
    return _json_of(tuple(value)) if isinstance(value, list) else json.dumps(value)


_FAST_PROCESSORS: tuple[tuple[type[TypeEngine[Any]], Callable[[Any], Any]], ...] = (
    (sqltypes.Uuid, lambda value: None if value is None else value.hex),
    (sqltypes.Enum, lambda value: None if value is None else value.value),
    (sqltypes.Date, lambda value: None if value is None else value.isoformat()),
    (sqltypes.JSON, _json_text),
    (sqltypes.Boolean, lambda value: None if value is None else int(value)),
)


def _generated_elsewhere(world: World, days: list[dt.date], batches: int) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The batches, in order, encoded by child processes while this one writes (batch b by child b % n).

    Plain subprocesses talking pickle over pipes rather than ``multiprocessing``: no fork of a process
    that may hold threads or a SQLite connection, and no re-import of the caller's main module. A
    child blocks once its pipe is full, so it runs at most about one batch ahead of the writer.
    """
    count = min(GENERATORS, batches)
    processes = [_start_generator() for _ in range(count)]
    try:
        for index, process in enumerate(processes):
            assert process.stdin is not None
            jobs = [(batch, days[batch * BATCH_PROJECTS:(batch + 1) * BATCH_PROJECTS])
                    for batch in range(index, batches, count)]
            pickle.dump((world, jobs), process.stdin, pickle.HIGHEST_PROTOCOL)
            process.stdin.close()
        for batch in range(batches):
            yield _receive(processes[batch % count])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _start_generator() -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parent.parent)
    paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    return subprocess.Popen(
        [sys.executable, "-c", "from ess_accompagnement.demo import serve_batches; serve_batches()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )


def _receive(process: subprocess.Popen[bytes]) -> dict[str, list[tuple[Any, ...]]]:
    assert process.stdout is not None
    try:
        encoded: dict[str, list[tuple[Any, ...]]] = pickle.load(process.stdout)  # noqa: S301 - our own child
    except (EOFError, pickle.UnpicklingError) as error:
        raise RuntimeError(f"demo: a generating process stopped (exit code {process.wait()})") from error
    return encoded


def serve_batches() -> None:
    """A generating child's entry point: read the world and its batches (number, creation days) on stdin,
    write each batch's encoded rows on stdout."""
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the stream
    gc.disable()  # the rows hold no reference cycle; collections would only rescan them
    world, jobs = pickle.load(sys.stdin.buffer)  # noqa: S301 - sent by our own parent
    dialect = sqlite.dialect()
    encoders = {table: _Encoder(Base.metadata.tables[table], dialect) for table in TABLE_ORDER}
    for batch, days in jobs:
        rows = _batch_rows(world, batch, days)
        pickle.dump({table: encoders[table].encode(rows[table]) for table in TABLE_ORDER}, output,
                    pickle.HIGHEST_PROTOCOL)
        output.flush()


# ---- Draws, ids and times ------------------------------------------------------------------------


class Draw:
    """A seeded random stream with cheap draws (``random.Random``'s general methods cost microseconds)."""

    def __init__(self, seed: str) -> None:
        stream = random.Random(seed)
        self.random = stream.random
        self.bits = stream.getrandbits

    def chance(self, probability: float) -> bool:
        return self.random() < probability

    def between(self, low: int, high: int) -> int:
        """An integer from ``low`` to ``high``, both included."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def day(self, first: dt.date, last: dt.date) -> dt.date:
        """A day from ``first`` to ``last`` (``first`` when ``last`` is earlier)."""
        return _plus_days(first, self.between(0, max(0, last.toordinal() - first.toordinal())))

    def office_time(self, day: dt.date) -> dt.datetime:
        """Some working hour of ``day`` in France, as UTC."""
        return _local(day, self.between(8, 17), self.pick((0, 0, 15, 30, 30, 45)))

    def id(self, when: dt.datetime) -> uuid.UUID:
        """A UUIDv7-shaped id: ``when`` in Unix milliseconds, the version and variant, 74 seeded bits."""
        return _uuid7_shaped(when, self.bits(74))


def _derived_id(base: uuid.UUID, when: dt.datetime, salt: bytes) -> uuid.UUID:
    """A UUIDv7-shaped id for ``when`` whose 74 other bits come from ``base`` and ``salt`` (no random draw)."""
    return _uuid7_shaped(when, int.from_bytes(hashlib.sha256(base.bytes + salt).digest()[:10], "big") >> 6)


def _uuid7_shaped(when: dt.datetime, rand: int) -> uuid.UUID:
    """``when`` in Unix milliseconds, the version and variant, and 74 given bits."""
    millis = int(when.timestamp() * 1000) & 0xFFFF_FFFF_FFFF
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & (1 << 62) - 1)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A time of day in France, as an aware UTC datetime (daytime hours: DST changes happen at night)."""
    midnight = _MIDNIGHTS.get(day)
    if midnight is None:
        offset = dt.datetime(day.year, day.month, day.day, 12, tzinfo=PARIS).utcoffset()
        assert offset is not None
        midnight = _MIDNIGHTS[day] = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - offset
    return midnight + _MINUTES[hour * 60 + minute]


# Precomputed durations: adding a cached timedelta costs a fraction of building one.
_MIDNIGHTS: dict[dt.date, dt.datetime] = {}
_MINUTES = tuple(dt.timedelta(minutes=n) for n in range(24 * 60))
_DAYS = tuple(dt.timedelta(days=n) for n in range(2 * HISTORY_DAYS))


def _plus_days(day: dt.date, days: int) -> dt.date:
    return day + (_DAYS[days] if 0 <= days < len(_DAYS) else dt.timedelta(days=days))


def _plus_minutes(moment: dt.datetime, minutes: int) -> dt.datetime:
    return moment + (_MINUTES[minutes] if 0 <= minutes < len(_MINUTES) else dt.timedelta(minutes=minutes))


def _weekday(day: dt.date) -> dt.date:
    """Saturday → Friday, Sunday → Monday."""
    weekday = day.weekday()
    return day - _DAYS[1] if weekday == 5 else day + _DAYS[1] if weekday == 6 else day


@functools.lru_cache(maxsize=4096)
def _email_part(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in fold(text)).strip("-")


def _of(name: str) -> str:
    """« de Tours », « d'Amboise », « du Blanc », « des Montils », « de La Chaussée-Saint-Victor »."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    return ("d'" if fold(name[0]) in "aeiouyh" else "de ") + name


# ---- The world: communes, catalogue, advisors, permanences ---------------------------------------


@dataclass(frozen=True)
class _Commune:
    code: str
    name: str
    departement: str
    population: int


@dataclass(frozen=True)
class _Dispositif:
    id: uuid.UUID
    operator_id: uuid.UUID
    instrument: Instrument | None


@dataclass(frozen=True)
class _Permanence:
    id: uuid.UUID
    name: str
    sessions: tuple[dt.datetime, ...]  # every session's start (UTC), sorted


@dataclass
class World:
    """What every project draws from; built once per generation (and sent to the generating process)."""

    seed: int
    today: dt.date
    now: dt.datetime
    commune: Weighted[_Commune]
    structures: dict[str, uuid.UUID]
    short_names: dict[uuid.UUID, str]
    dispositifs: dict[str, _Dispositif]
    scenario: Weighted[Scenario] | None = None
    leads: dict[str, Weighted[uuid.UUID]] = field(default_factory=dict)
    advisors: dict[uuid.UUID, tuple[uuid.UUID, ...]] = field(default_factory=dict)
    permanences: dict[tuple[str, uuid.UUID], list[_Permanence]] = field(default_factory=dict)
    advisor_rows: list[Row] = field(default_factory=list)
    permanence_rows: list[Row] = field(default_factory=list)

    def target(self, key: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
        """(receiving structure, dispositif) of a step's target key; None when the catalogue lacks it."""
        dispositif = self.dispositifs.get(key)
        if dispositif is not None:
            return dispositif.operator_id, dispositif.id
        structure = self.structures.get(key)
        return (structure, None) if structure is not None else None


def _build_world(connection: Connection, seed: int, today: dt.date) -> World:
    draw = Draw(f"ess-demo:{seed}:world")
    structures, short_names = _load_structures(connection)
    world = World(seed=seed, today=today, now=_local(today, 12), commune=_load_communes(connection),
                  structures=structures, short_names=short_names, dispositifs=_load_dispositifs(connection))
    for scenario in SCENARIOS:
        leads = [(structures[key], weight) for key, weight in scenario.leads if key in structures]
        if leads:
            world.leads[scenario.name] = Weighted(leads)
    if not world.leads:
        raise RuleError("Le catalogue ne contient aucune des structures d'accompagnement de la démonstration.",
                        field="catalogue")
    world.scenario = Weighted((s, s.weight) for s in SCENARIOS if s.name in world.leads)
    _make_advisors(world, draw)
    _make_permanences(world, draw)
    return world


def _load_communes(connection: Connection) -> Weighted[_Commune]:
    """The current communes of Centre-Val de Loire: 70 % of the projects spread by population, 30 % evenly
    over the communes (most of them rural)."""
    rows = connection.execute(
        select(Commune.code, Commune.name, Commune.departement, Commune.population)
        .where(Commune.departement.in_(CVL_DEPARTEMENTS), Commune.current.is_(True)).order_by(Commune.code)
    ).all()
    if not rows:
        raise RuleError("Aucune commune du Centre-Val de Loire dans la base : chargez d'abord les communes.",
                        field="communes")
    total = sum(row.population or 0 for row in rows) or 1
    return Weighted((_Commune(row.code, row.name, row.departement, row.population or 0),
                     0.7 * (row.population or 0) / total + 0.3 / len(rows)) for row in rows)


def _load_structures(connection: Connection) -> tuple[dict[str, uuid.UUID], dict[uuid.UUID, str]]:
    rows = connection.execute(
        select(Structure.catalogue_key, Structure.id, Structure.name, Structure.short_name)
        .where(Structure.deleted_at.is_(None), Structure.active.is_(True), Structure.catalogue_key.is_not(None))
    ).all()
    return {row.catalogue_key: row.id for row in rows}, {row.id: row.short_name or row.name for row in rows}


def _load_dispositifs(connection: Connection) -> dict[str, _Dispositif]:
    rows = connection.execute(
        select(Dispositif.catalogue_key, Dispositif.id, Dispositif.operator_id, Dispositif.instrument)
        .where(Dispositif.deleted_at.is_(None), Dispositif.active.is_(True), Dispositif.catalogue_key.is_not(None))
    ).all()
    return {row.catalogue_key: _Dispositif(row.id, row.operator_id, row.instrument) for row in rows}


def _staffed_structures(world: World) -> list[uuid.UUID]:
    """The structures that lead projects or receive referrals: they get advisors."""
    ids = sorted({lead for leads in world.leads.values() for lead in leads.items})
    for scenario in SCENARIOS:
        for step in scenario.steps:
            target = world.target(step.target)
            if target is not None and target[0] not in ids:
                ids.append(target[0])
    return ids


def _make_advisors(world: World, draw: Draw) -> None:
    """Two to six advisors per staffed structure, the first one « responsable »."""
    start = world.today - dt.timedelta(days=HISTORY_DAYS + 60)
    for structure_id in _staffed_structures(world):
        domain = _email_part(world.short_names[structure_id]) + ".exemple.fr"
        advisors = []
        for index in range(draw.between(2, 6)):
            first, last = draw.pick(FEMALE_NAMES if draw.chance(0.6) else MALE_NAMES), draw.pick(SURNAMES)
            created = draw.office_time(start + dt.timedelta(days=draw.between(0, 59)))
            advisors.append(draw.id(created))
            world.advisor_rows.append({
                "id": advisors[-1], "created_at": created, "updated_at": created, "deleted_at": None,
                "owner_structure_id": structure_id, "structure_id": structure_id, "name": f"{first} {last}",
                "email": f"{_email_part(first)}.{_email_part(last)}@{domain}",
                "role": AdvisorRole.RESPONSABLE if index == 0 else AdvisorRole.CONSEILLER, "active": True,
                "sort_key": sort_key(f"{first} {last}"),
            })
        world.advisors[structure_id] = tuple(advisors)


def _make_permanences(world: World, draw: Draw) -> None:
    """About twenty permanences in rural communes, each held by two or three lead structures."""
    leads = sorted({lead for leads in world.leads.values() for lead in leads.items})
    first_day = world.today - dt.timedelta(days=HISTORY_DAYS + 31)
    created = _local(first_day, 10)
    for departement, count in PERMANENCES_PER_DEPARTEMENT.items():
        rural = [c for c in world.commune.items if c.departement == departement and 300 <= c.population <= 5000]
        for commune in _distinct(draw, rural, count):
            (kind, street), rule = draw.pick(PERMANENCE_PLACES), draw.pick(PERMANENCE_RULES)
            present = _distinct(draw, leads, draw.between(2, 3))
            sessions = _sessions(rule, first_day, world.today + dt.timedelta(days=120), draw.pick((9, 14)))
            permanence = _Permanence(draw.id(created), f"Permanence ESS – {kind} {_of(commune.name)}", sessions)
            for structure_id in present:
                world.permanences.setdefault((departement, structure_id), []).append(permanence)
            world.permanence_rows.append({
                "id": permanence.id, "created_at": created, "updated_at": created, "deleted_at": None,
                "owner_structure_id": present[0], "name": permanence.name, "address": f"{street}, {commune.name}",
                "commune_code": commune.code, "rrule": rule, "first_start": sessions[0], "duration_minutes": 180,
                "timezone": "Europe/Paris", "structure_ids": [str(s) for s in present], "active": True,
            })


def _distinct(draw: Draw, items: Sequence[T], count: int) -> list[T]:
    """``count`` distinct items drawn from ``items`` (all of them if there are fewer)."""
    pool = list(items)
    return [pool.pop(int(draw.random() * len(pool))) for _ in range(min(count, len(pool)))]


def _sessions(rule: str, first: dt.date, last: dt.date, hour: int) -> tuple[dt.datetime, ...]:
    """The start (UTC) of every session of a permanence's recurrence, from ``first`` to ``last``, local time."""
    start = dt.datetime(first.year, first.month, first.day, hour, 30)
    local = rrulestr(rule, dtstart=start).between(start, dt.datetime(last.year, last.month, last.day), inc=True)
    return tuple(moment.replace(tzinfo=PARIS).astimezone(dt.UTC) for moment in local)


# ---- One project ---------------------------------------------------------------------------------


@dataclass
class _Phases:
    """A project's phase history: (phase, date) pairs, dates strictly increasing."""

    steps: list[tuple[Phase, dt.date]]

    def spans(self, phase: Phase, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The periods (first day, last day) the project spent in ``phase``, up to ``end``."""
        found = []
        for index, (step_phase, start) in enumerate(self.steps):
            if step_phase is phase:
                stop = self.steps[index + 1][1] - dt.timedelta(days=1) if index + 1 < len(self.steps) else end
                found.append((start, max(start, stop)))
        return found

    def at(self, day: dt.date) -> Phase:
        current = self.steps[0][0]
        for phase, start in self.steps:
            if start > day:
                break
            current = phase
        return current


class _ProjectMaker:
    """Makes every row of one project, appending them to the batch's lists."""

    def __init__(self, world: World, draw: Draw, rows: dict[str, list[Row]], created: dt.date) -> None:
        assert world.scenario is not None
        self.world, self.draw, self.rows, self.day = world, draw, rows, created
        self.scenario = world.scenario(draw)
        self.lead = world.leads[self.scenario.name](draw)
        self.advisors = world.advisors[self.lead]
        self.advisor = draw.pick(self.advisors)
        self.commune = world.commune(draw)
        self.created_at = draw.office_time(created)
        self.id = draw.id(self.created_at)
        self.status, self.end = self._status()
        self.phases = self._phase_history()

    def make(self) -> None:
        self._project()
        self._holders()
        self._phase_changes()
        self._status_changes()
        self._appointments()
        for step in self.scenario.steps:
            if self.draw.chance(step.chance):
                self._step(step)
        self._notes()

    def base(self, row_id: uuid.UUID, created: dt.datetime, updated: dt.datetime | None = None) -> Row:
        """The columns every synced row has; the project's rows belong to its lead structure."""
        return {"id": row_id, "created_at": created, "updated_at": updated or created, "deleted_at": None,
                "owner_structure_id": self.lead}

    # -- status and phases

    def _status(self) -> tuple[ProjectStatus, dt.date]:
        """The project's status and the last day something happened to it."""
        draw, today = self.draw, self.world.today
        age = (today - self.day).days
        roll = draw.random()
        if roll < 0.09 and age > 120:
            status = ProjectStatus.ABANDONNE
        elif roll < 0.16 and age > 200:
            status = ProjectStatus.EN_VEILLE
        elif roll < 0.20 and age > 700:
            status = ProjectStatus.CLOS
        else:
            status = ProjectStatus.ACTIVITE_DEMARREE if roll < 0.55 else ProjectStatus.ACTIF
            follow_up = draw.between(*FOLLOW_UP_DAYS)
            if age <= follow_up:
                return status, today - dt.timedelta(days=1)
            # the accompaniment is over: a started activity goes on without the chain, another project is closed
            return (status if status is ProjectStatus.ACTIVITE_DEMARREE else ProjectStatus.CLOS,
                    self.day + dt.timedelta(days=follow_up))
        return status, self.day + dt.timedelta(days=draw.between(60, age - 30))

    def _phase_history(self) -> _Phases:
        """The entry phase on the creation day, then moves the domain accepts without a reason."""
        steps = [(self.scenario.entry(self.draw), self.day)]
        day = self.day
        while True:
            day += dt.timedelta(days=self.draw.between(120, 640))
            following = self._next_phase(steps)
            if day > self.end or following is None:
                break
            steps.append((following, day))
        if self.status is ProjectStatus.ACTIVITE_DEMARREE and steps[-1][0] is P.EMERGENCE:
            # never left émergence: still looking for its activity, or given up once the accompaniment ended
            self.status = ProjectStatus.ACTIF if self.end >= self.world.today - dt.timedelta(days=1) \
                else ProjectStatus.CLOS
        return _Phases(steps)

    def _next_phase(self, steps: list[tuple[Phase, dt.date]]) -> Phase | None:
        """One step forward on the main track, into a side track, or back from it (None: stay)."""
        draw, current = self.draw, steps[-1][0]
        if self.scenario.name == "difficulte" and len(steps) == 1:
            return P.DIFFICULTE
        if current not in MAIN_TRACK:
            main = [phase for phase, _ in steps if phase in MAIN_TRACK]
            return (main[-1] if main else P.CONSOLIDATION) if draw.chance(0.7) else None
        if draw.chance(0.05):
            return P.DIFFICULTE
        index = MAIN_TRACK.index(current)
        if index == len(MAIN_TRACK) - 1 or not draw.chance(0.75 if index < 2 else 0.35):
            return None
        return MAIN_TRACK[index + 1]

    def _phase_changes(self) -> None:
        draw = self.draw
        for index, (phase, day) in enumerate(self.phases.steps):
            at = self.created_at if index == 0 else draw.office_time(day)
            reason = None if index == 0 else draw.pick((None, None, "Constaté en rendez-vous.",
                                                        "Décision du comité de suivi."))
            self.rows["phase_change"].append({**self.base(draw.id(at), at), "project_id": self.id, "phase": phase,
                                              "effective_date": day, "reason": reason, "advisor_id": self.advisor})

    def _status_changes(self) -> None:
        """The dated history of a status other than « actif »: one change, from « actif », when the activity
        started (the project left émergence) or when the accompaniment stopped. No random draw, so the rows
        of every other table stay those of the same seed."""
        if self.status is ProjectStatus.ACTIF:
            return
        started = next((day for phase, day in self.phases.steps if phase is not P.EMERGENCE), self.day)
        day = started if self.status is ProjectStatus.ACTIVITE_DEMARREE else self.end
        at = _local(day, 17)
        self.rows["status_change"].append({
            **self.base(_derived_id(self.id, at, b"status"), at), "project_id": self.id, "status": self.status,
            "previous_status": ProjectStatus.ACTIF, "effective_date": day, "reason": None, "advisor_id": self.advisor})

    # -- the project and its holders

    def _project(self) -> None:
        draw, world, scenario = self.draw, self.world, self.scenario.name
        sector = SECTOR(draw)
        title = self._title(sector)
        registered = any(phase is not P.EMERGENCE for phase, _ in self.phases.steps)
        form = draw.pick(self.scenario.legal_forms)
        prescripteur = PRESCRIPTEUR(draw)
        prescribing = world.structures.get(PRESCRIPTEUR_KEYS.get(prescripteur, ""))
        self.rows["project"].append({
            **self.base(self.id, self.created_at), "title": title, "sort_key": sort_key(title),
            "summary": f"{ACTIVITIES[sector][0]} en projet à {self.commune.name} ({self.commune.departement}), "
                       f"accompagné par {world.short_names[self.lead]}.",
            "legal_form": form if registered else LegalForm.NON_DEFINIE,
            "envisaged_legal_form": None if registered else form, "sector": sector, "filiere": None,
            "commune_code": self.commune.code, "status": self.status, "lead_structure_id": self.lead,
            "lead_advisor_id": self.advisor, "prescripteur": prescripteur,
            "prescripteur_structure_id": prescribing if prescribing != self.lead else None,
            "siret": self._siret() if registered and draw.chance(0.9) else None,
            "rna": f"W{self.commune.departement}{draw.between(0, 9_999_999):07d}"
            if registered and form is LegalForm.ASSOCIATION else None,
            "jobs_created": Decimal(draw.pick((0, 0.5, 1, 1, 1.5, 2, 3, 4, 6, 8))) if registered else None,
            "jobs_maintained": Decimal(draw.between(4, 45)) if scenario == "reprise_scop" else None,
            "innovation_sociale": draw.chance(0.6 if world.structures.get("alter-incub") == self.lead else 0.12),
            "esus": registered and draw.chance(0.3),
            "confidential": draw.chance(0.6 if scenario in ("reprise_scop", "difficulte") else 0.02),
        })

    def _title(self, sector: Sector) -> str:
        draw = self.draw
        activity, roll = draw.pick(ACTIVITIES[sector]), draw.random()
        if roll < 0.45:
            return f"{activity} {_of(self.commune.name)}"
        if roll < 0.85:
            return f"{activity} « {draw.pick(BRANDS)} »"
        return f"{draw.pick(BRANDS)} ({activity.lower()})"

    def _siret(self) -> str:
        """A SIRET with valid Luhn keys: a SIREN (8 digits + key), an establishment number, the whole key."""
        body = str(self.draw.between(10_000_000, 99_999_999))
        siren = body + luhn.calc_check_digit(body)
        establishment = siren + f"{self.draw.between(1, 99):04d}"
        return establishment + luhn.calc_check_digit(establishment)

    def _holders(self) -> None:
        draw = self.draw
        for index in range(HOLDER_COUNT(draw)):
            gender = GENDER(draw)
            women = gender is Gender.FEMME or (gender is not Gender.HOMME and draw.chance(0.5))
            first, last = draw.pick(FEMALE_NAMES if women else MALE_NAMES), draw.pick(SURNAMES)
            at = self.created_at + dt.timedelta(minutes=index + 1)
            person_id = draw.id(at)
            self.rows["person"].append({
                **self.base(person_id, at), "first_name": first, "last_name": last,
                "sort_key": sort_key(f"{last} {first}"), "gender": gender,
                "birth_year": self.world.today.year - draw.between(19, 68),
                "email": f"{_email_part(first)}.{_email_part(last)}{draw.between(1, 99)}@exemple.fr"
                if draw.chance(0.92) else None,
                "phone": self._phone() if draw.chance(0.9) else None,
                "commune_code": (self.commune if draw.chance(0.85) else self.world.commune(draw)).code,
                "situation": SITUATION(draw), "consent_date": self.day, "consent_scope": CONSENT_SCOPE(draw),
                "consent_source": CONSENT_SOURCE(draw), "merged_into_id": None,
            })
            self.rows["project_member"].append({
                **self.base(member_id(self.id, person_id), at), "project_id": self.id, "person_id": person_id,
                "role": MemberRole.PORTEUR if index == 0 else draw.pick(CO_ROLES[self.scenario.name]),
            })

    def _phone(self) -> str:
        """A French number in E.164: a landline of the commune's area (02 48…, 02 47…) or a mobile (06, 07)."""
        draw = self.draw
        if draw.chance(0.35):
            return f"+332{AREA_CODES[self.commune.departement]}{draw.between(0, 999_999):06d}"
        return f"+33{draw.pick(MOBILE_PREFIXES)}{draw.between(0, 9_999_999):07d}"

    # -- appointments, next steps, notes

    def _appointments(self) -> None:
        """About one appointment every four months of the project's life, and maybe one planned."""
        draw = self.draw
        count = min(24, 2 + (self.end - self.day).days // 110 + draw.between(0, 3))
        days = [self.day] + sorted(draw.day(self.day, self.end) for _ in range(count - 1))
        for day in days:
            self._appointment(min(max(_weekday(day), self.day), self.end), planned=False)
        if self.end >= self.world.today - dt.timedelta(days=1) and draw.chance(0.4):  # still accompanied
            self._appointment(_weekday(self.world.today + dt.timedelta(days=draw.between(2, 60))), planned=True)

    def _appointment(self, day: dt.date, *, planned: bool) -> None:
        draw = self.draw
        mode = MODE(draw)
        permanence, starts = self._at_permanence(day, planned) if mode is _A.PERMANENCE else (None, None)
        if starts is None:
            mode = _A.PRESENTIEL if mode is _A.PERMANENCE else mode
            starts = draw.office_time(day)
        minutes = draw.pick(DURATIONS[mode])
        status = AppointmentStatus.PLANIFIE if planned else PAST_STATUS(draw)
        topics = draw.pick(TOPIC_CHOICES[self.phases.at(day)])
        created = max(self.created_at, self.world.now - dt.timedelta(days=draw.between(1, 20))) if planned \
            else _plus_minutes(starts, minutes + draw.between(0, 180))
        appointment_id, advisor = draw.id(created), self.advisor if draw.chance(0.85) else draw.pick(self.advisors)
        done = status is AppointmentStatus.REALISE
        self.rows["appointment"].append({
            **self.base(appointment_id, created), "project_id": self.id, "advisor_id": advisor, "starts_at": starts,
            "duration_minutes": minutes, "mode": mode, "status": status,
            "permanence_id": permanence.id if permanence else None,
            "place": permanence.name if permanence else self._place(mode), "topics": topics,
            "notes": f"{draw.pick(NOTE_OPENERS)} {topics[0]}. {draw.pick(NOTE_FOLLOWS)}"
            if done and draw.chance(0.6) else None,
            "shared": draw.chance(0.2),
        })
        if done:
            self._next_steps(appointment_id, created, day, advisor)

    def _at_permanence(self, day: dt.date, planned: bool) -> tuple[_Permanence | None, dt.datetime | None]:
        """A session, near ``day``, of a permanence the lead structure holds in the project's département."""
        choices = self.world.permanences.get((self.commune.departement, self.lead))
        if not choices:
            return None, None
        permanence = self.draw.pick(choices)
        sessions, now = permanence.sessions, self.world.now
        index = bisect.bisect_left(sessions, _local(day, 0))
        latest = now + dt.timedelta(days=90) if planned else min(now - dt.timedelta(days=1), _local(self.end, 23))
        if index < len(sessions) and sessions[index] > latest:
            index -= 1
        if not 0 <= index < len(sessions):
            return None, None
        session = sessions[index]
        if session < self.created_at or session > latest or (planned and session <= now):
            return None, None
        return permanence, _plus_minutes(session, 40 * self.draw.between(0, 3))

    def _place(self, mode: AppointmentMode) -> str | None:
        if mode is not _A.PRESENTIEL:
            return None
        if self.draw.chance(0.7):
            return f"Locaux de {self.world.short_names[self.lead]}"
        return f"Sur le lieu du projet, {self.commune.name}"

    def _next_steps(self, appointment_id: uuid.UUID, created: dt.datetime, day: dt.date, advisor: uuid.UUID) -> None:
        draw, today = self.draw, self.world.today
        for _ in range(NEXT_STEP_COUNT(draw)):
            due = _plus_days(day, draw.between(7, 45))
            done = None
            if due < today and draw.chance(0.8):
                done = min(today, max(day, _plus_days(due, draw.between(-10, 10))))
            self.rows["next_step"].append({
                **self.base(draw.id(created), created), "project_id": self.id, "appointment_id": appointment_id,
                "text": draw.pick(NEXT_STEPS), "due_date": due, "done_date": done, "advisor_id": advisor,
            })

    def _notes(self) -> None:
        draw = self.draw
        for _ in range(NOTE_COUNT(draw)):
            written = draw.day(self.day, self.end)
            at = draw.office_time(written)
            self.rows["note"].append({
                **self.base(draw.id(at), at), "project_id": self.id, "advisor_id": draw.pick(self.advisors),
                "written_on": written, "text": draw.pick(PROJECT_NOTES), "shared": draw.chance(0.15),
            })

    # -- referrals and financing

    def _step(self, step: Step) -> None:
        """A referral to the step's target while the project is in the step's phase, and its financing line."""
        target = self.world.target(step.target)
        spans = self.phases.spans(step.phase, self.end)
        if target is None or not spans:
            return
        start, stop = spans[0]
        proposed = self.draw.day(start, start + (stop - start) * 6 // 10)
        if target[0] == self.lead:  # the lead structure's own dispositif: no referral, maybe a financing line
            if step.amounts is not None:
                self._financing(step, target, proposed, self._own_decision(proposed))
            return
        referral = _ReferralMaker(self, step, target, proposed).make()
        self.rows["referral"].append(referral)
        if step.amounts is not None:
            self._financing(step, target, proposed, _financing_after(self.draw, referral))

    def _own_decision(self, proposed: dt.date) -> FinancingStatus:
        if (self.world.today - proposed).days < 60:
            return self.draw.pick((_F.ENVISAGE, _F.DEMANDE))
        return OWN_DECISION(self.draw)

    def _financing(self, step: Step, target: tuple[uuid.UUID, uuid.UUID | None], proposed: dt.date,
                   status: FinancingStatus | None) -> None:
        """A line of the tour de table from the step's dispositif; a garantie brings the bank loan it guarantees."""
        if status is None or step.amounts is None:
            return
        dispositif = self.world.dispositifs.get(step.target)
        instrument = (dispositif.instrument if dispositif else None) or DEFAULT_INSTRUMENT.get(step.target) \
            or Instrument.SUBVENTION
        amount = self.draw.between(*step.amounts) // 500 * 500
        line = self._financing_line(instrument, amount, status, proposed)
        line.update(dispositif_id=target[1], funder_structure_id=target[0], funder_name=None)
        self.rows["financing"].append(line)
        if instrument is Instrument.GARANTIE:
            loan = self._financing_line(Instrument.PRET_BANCAIRE, min(150_000, amount * 2), status, proposed)
            loan.update(dispositif_id=None, funder_structure_id=None, funder_name=self.draw.pick(BANKS))
            self.rows["financing"].append(loan)

    def _financing_line(self, instrument: Instrument, amount: int, status: FinancingStatus, proposed: dt.date) -> Row:
        draw, today = self.draw, self.world.today
        requested = None if status is _F.ENVISAGE else min(today, proposed + dt.timedelta(days=draw.between(5, 40)))
        decided = None
        if status in DECIDED and requested is not None:
            decided = requested + dt.timedelta(days=draw.between(20, 120))
            if decided > today:  # not decided yet
                status, decided = _F.DEMANDE, None
        granted = None
        if status in (_F.ACCORDE, _F.VERSE):
            granted = amount if draw.chance(0.8) else amount * draw.between(60, 95) // 100 // 100 * 100
        at = draw.office_time(requested or proposed)
        return {**self.base(draw.id(at), at, draw.office_time(decided) if decided else at), "project_id": self.id,
                "instrument": instrument, "amount_requested": Decimal(amount),
                "amount_granted": Decimal(granted) if granted else None, "status": status,
                "requested_on": requested, "decided_on": decided, "comment": draw.pick(FINANCING_COMMENTS)}


def _financing_after(draw: Draw, referral: Row) -> FinancingStatus | None:
    """The status of the financing line a referral leads to, once it got where it is (None: no line)."""
    answer = referral["answer"]
    if answer is _R.ABOUTIE:
        if referral["outcome"] is _O.FINANCEMENT_ACCORDE:
            return draw.pick((_F.VERSE, _F.VERSE, _F.ACCORDE))
        return draw.pick((_F.ACCORDE, None))
    if answer is _R.EN_COURS:
        return _F.DEMANDE
    if answer is _R.ACCEPTEE:
        return draw.pick((_F.ENVISAGE, _F.DEMANDE))
    if answer is _R.REFUSEE:
        return _F.REFUSE if draw.chance(0.4) else None
    if answer is _R.ABANDONNEE:
        return _F.ABANDONNE if draw.chance(0.5) else None
    return _F.ENVISAGE if draw.chance(0.3) else None


class _ReferralMaker:
    """One referral from the project's lead structure, with receiver fields consistent with its status:
    answered (by an advisor of the receiving structure) before the expiry, started after the answer,
    closed after the start, a coded reason for a refusal and a coded outcome once closed."""

    def __init__(self, project: _ProjectMaker, step: Step, target: tuple[uuid.UUID, uuid.UUID | None],
                 proposed: dt.date) -> None:
        self.project, self.step, self.draw = project, step, project.draw
        self.to_structure, self.dispositif = target
        self.proposed, self.today = proposed, project.world.today
        self.fields: Row = {"cancelled_on": None, "cancel_comment": None, "answer": None, "answered_on": None,
                            "answered_by_id": None, "refusal_reason": None, "answer_comment": None,
                            "started_on": None, "closed_on": None, "outcome": None, "outcome_comment": None,
                            "reminded_on": None, "reminder_count": None}

    def make(self) -> Row:
        project, draw, fields = self.project, self.draw, self.fields
        age = (self.today - self.proposed).days
        self._receive(RECENT_ANSWER(draw) if age <= EXPIRY_DAYS else OLD_ANSWER(draw), age)
        if age >= REMINDED_AFTER_DAYS and fields["answered_on"] is None and fields["cancelled_on"] is None:
            # the sender reminded an unanswered referral once (no draw: the rest of the demo stays the same)
            fields.update(reminded_on=self.proposed + dt.timedelta(days=REMINDED_AFTER_DAYS), reminder_count=1)
        at = draw.office_time(self.proposed)
        last = max(day for day in (self.proposed, fields["cancelled_on"], fields["answered_on"], fields["started_on"],
                                   fields["closed_on"]) if day is not None)
        return {**project.base(draw.id(at), at, draw.office_time(last) if last > self.proposed else at),
                "project_id": project.id, "from_structure_id": project.lead, "from_advisor_id": project.advisor,
                "to_structure_id": self.to_structure, "to_dispositif_id": self.dispositif,
                "motive": self.step.motive, "phase_at_referral": project.phases.at(self.proposed),
                "proposed_on": self.proposed, **fields}

    def _after(self, day: dt.date, low: int, high: int) -> dt.date | None:
        """A day ``low``–``high`` days after ``day``, or None when that would be after today."""
        later = day + dt.timedelta(days=self.draw.between(low, high))
        return later if later <= self.today else None

    def _receive(self, wanted: ReferralStatus | None, age: int) -> None:
        """Fill the receiver's fields (or the sender's cancellation) for ``wanted``; settle for an earlier
        status when the dates it needs would be in the future."""
        fields, draw = self.fields, self.draw
        if wanted is None or age < 1:
            return
        if wanted is _R.ANNULEE:
            fields["cancelled_on"] = self.proposed + dt.timedelta(days=draw.between(1, min(age, EXPIRY_DAYS - 1)))
            fields["cancel_comment"] = draw.pick(CANCEL_COMMENTS)
            return
        answered = self.proposed + dt.timedelta(days=draw.between(1, min(age, EXPIRY_DAYS - 5)))
        fields.update(answered_on=answered, answered_by_id=draw.pick(self.project.world.advisors[self.to_structure]))
        if wanted is _R.REFUSEE:
            reason = REFUSAL(draw)
            fields.update(answer=wanted, refusal_reason=reason,
                          answer_comment=REFUSAL_COMMENTS[reason] if draw.chance(0.7) else None)
            return
        fields.update(answer=_R.ACCEPTEE, answer_comment=draw.pick(ACCEPT_COMMENTS))
        if wanted is not _R.ACCEPTEE:
            self._progress(wanted, answered)

    def _progress(self, wanted: ReferralStatus, answered: dt.date) -> None:
        """From acceptée: en cours, then aboutie or abandonnée (an abandon may come before the start)."""
        fields, draw = self.fields, self.draw
        started = self._after(answered, 3, 45)
        if wanted is _R.ABANDONNEE and draw.chance(0.4):
            started = None
        elif started is None:
            return
        else:
            fields.update(answer=_R.EN_COURS, started_on=started)
        if wanted is _R.EN_COURS:
            return
        closed = self._after(started or answered, 20, 300)
        if closed is None:
            return
        if wanted is _R.ABOUTIE:
            outcome = (COMPLETED_WITH_MONEY if self.step.amounts else COMPLETED_WITHOUT_MONEY)(draw)
        else:
            outcome = ABANDONED(draw)
        fields.update(answer=wanted, closed_on=closed, outcome=outcome,
                      outcome_comment=draw.pick(OUTCOME_COMMENTS))
