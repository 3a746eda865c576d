"""The coded values of the domain, each with its French label.

The database stores the code (a stable ASCII value); every screen, export and message shows the label.
Labels live here, beside their codes, so the CLI, the reports and the UI agree on one wording.
"""

from __future__ import annotations

from enum import StrEnum


class Coded(StrEnum):
    """A StrEnum whose members carry a French label (the ``_labels`` mapping of each subclass)."""

    @property
    def label(self) -> str:
        return LABELS[type(self).__name__][self.value]

    @classmethod
    def parse(cls, text: str) -> Coded | None:
        """The member whose code or label matches ``text`` (case- and accent-insensitive), or None."""
        from ess_accompagnement.domain.text import fold

        wanted = fold(text).replace("-", "_").replace(" ", "_").replace("'", "_")
        for member in cls:
            if wanted in (member.value, fold(member.label).replace(" ", "_").replace("'", "_").replace("-", "_")):
                return member
        return None


class Phase(Coded):
    EMERGENCE = "emergence"
    CREATION = "creation"
    CONSOLIDATION = "consolidation"
    CHANGEMENT_ECHELLE = "changement_echelle"
    REPRISE_TRANSMISSION = "reprise_transmission"
    DIFFICULTE = "difficulte"


MAIN_TRACK: tuple[Phase, ...] = (Phase.EMERGENCE, Phase.CREATION, Phase.CONSOLIDATION, Phase.CHANGEMENT_ECHELLE)
SIDE_TRACKS: frozenset[Phase] = frozenset({Phase.REPRISE_TRANSMISSION, Phase.DIFFICULTE})


class ProjectStatus(Coded):
    ACTIF = "actif"
    EN_VEILLE = "en_veille"
    ABANDONNE = "abandonne"
    ACTIVITE_DEMARREE = "activite_demarree"
    CLOS = "clos"


class LegalForm(Coded):
    NON_DEFINIE = "non_definie"
    ASSOCIATION = "association"
    SCOP = "scop"
    SCIC = "scic"
    CAE = "cae"
    CUMA = "cuma"
    COOPERATIVE_AUTRE = "cooperative_autre"
    MUTUELLE = "mutuelle"
    FONDATION = "fondation"
    FONDS_DE_DOTATION = "fonds_de_dotation"
    SOCIETE_COMMERCIALE_ESS = "societe_commerciale_ess"
    SARL = "sarl"
    SAS = "sas"
    SA = "sa"
    ENTREPRISE_INDIVIDUELLE = "entreprise_individuelle"
    GROUPEMENT = "groupement"


class Sector(Coded):
    ACTION_SOCIALE = "action_sociale"
    AIDE_DOMICILE = "aide_domicile"
    SANTE = "sante"
    INSERTION = "insertion"
    ENSEIGNEMENT_FORMATION = "enseignement_formation"
    CULTURE = "culture"
    SPORT_LOISIRS = "sport_loisirs"
    TOURISME = "tourisme"
    ENVIRONNEMENT_ENERGIE = "environnement_energie"
    REEMPLOI = "reemploi"
    ALIMENTATION = "alimentation"
    AGRICULTURE = "agriculture"
    MOBILITE = "mobilite"
    HABITAT_BATIMENT = "habitat_batiment"
    NUMERIQUE = "numerique"
    COMMERCE = "commerce"
    ARTISANAT_INDUSTRIE = "artisanat_industrie"
    FINANCE_ASSURANCE = "finance_assurance"
    SERVICES = "services"
    AUTRE = "autre"


class Prescripteur(Coded):
    FRANCE_TRAVAIL = "france_travail"
    MISSION_LOCALE = "mission_locale"
    CHAMBRE_CONSULAIRE = "chambre_consulaire"
    INCUBATEUR = "incubateur"
    EPCI = "epci"
    COLLECTIVITE = "collectivite"
    EXPERT_COMPTABLE = "expert_comptable"
    RESEAU_ESS = "reseau_ess"
    FABRIQUE = "fabrique"
    TIERS_LIEU = "tiers_lieu"
    REUNION_INFORMATION = "reunion_information"
    BOUCHE_A_OREILLE = "bouche_a_oreille"
    AUTRE = "autre"


class Gender(Coded):
    FEMME = "femme"
    HOMME = "homme"
    AUTRE = "autre"
    NON_RENSEIGNE = "non_renseigne"


class Situation(Coded):
    DEMANDEUR_EMPLOI = "demandeur_emploi"
    SALARIE = "salarie"
    INDEPENDANT = "independant"
    ETUDIANT = "etudiant"
    RETRAITE = "retraite"
    SANS_ACTIVITE = "sans_activite"
    AUTRE = "autre"


class ConsentScope(Coded):
    INTERNE = "interne"
    PARTENAIRES = "partenaires"
    PARTENAIRES_FINANCEURS = "partenaires_financeurs"


class ConsentSource(Coded):
    ECRIT = "ecrit"
    ORAL = "oral"
    COURRIEL = "courriel"
    FORMULAIRE = "formulaire"


class MemberRole(Coded):
    PORTEUR = "porteur"
    CO_PORTEUR = "co_porteur"
    ASSOCIE_SALARIE = "associe_salarie"
    ENTREPRENEUR_SALARIE = "entrepreneur_salarie"
    COOPERATEUR = "cooperateur"
    DIRIGEANT_BENEVOLE = "dirigeant_benevole"
    BENEVOLE = "benevole"
    SALARIE = "salarie"


class AdvisorRole(Coded):
    CONSEILLER = "conseiller"
    RESPONSABLE = "responsable"
    LECTURE = "lecture"


class StructureKind(Coded):
    RESEAU = "reseau"
    ACCOMPAGNATEUR = "accompagnateur"
    INCUBATEUR = "incubateur"
    FINANCEUR = "financeur"
    CAE = "cae"
    DLA = "dla"
    COLLECTIVITE = "collectivite"
    PRESCRIPTEUR = "prescripteur"
    LIEU = "lieu"
    AUTRE = "autre"


class SupportType(Coded):
    ACCUEIL_ORIENTATION = "accueil_orientation"
    ACCOMPAGNEMENT = "accompagnement"
    FINANCEMENT = "financement"
    HEBERGEMENT = "hebergement"
    FORMATION = "formation"
    MISE_EN_RESEAU = "mise_en_reseau"
    SENSIBILISATION = "sensibilisation"


class AppointmentMode(Coded):
    PRESENTIEL = "presentiel"
    TELEPHONE = "telephone"
    VISIO = "visio"
    PERMANENCE = "permanence"


class AppointmentStatus(Coded):
    PLANIFIE = "planifie"
    REALISE = "realise"
    ANNULE = "annule"
    ABSENT = "absent"


class ReferralStatus(Coded):
    """The status shown for a referral, derived from the sender's and the receiver's fields."""

    PROPOSEE = "proposee"
    ACCEPTEE = "acceptee"
    REFUSEE = "refusee"
    EXPIREE = "expiree"
    ANNULEE = "annulee"
    EN_COURS = "en_cours"
    ABOUTIE = "aboutie"
    ABANDONNEE = "abandonnee"


class RefusalReason(Coded):
    HORS_PERIMETRE = "hors_perimetre"
    PROJET_PAS_MUR = "projet_pas_mur"
    DEJA_ACCOMPAGNE = "deja_accompagne"
    CAPACITE = "capacite"
    PORTEUR_INJOIGNABLE = "porteur_injoignable"
    PORTEUR_RENONCE = "porteur_renonce"
    AUTRE = "autre"


class ReferralOutcome(Coded):
    # aboutie
    ACCOMPAGNEMENT_REALISE = "accompagnement_realise"
    FINANCEMENT_ACCORDE = "financement_accorde"
    ACTIVITE_DEMARREE = "activite_demarree"
    REORIENTE = "reoriente"
    # abandonnée
    PORTEUR_INJOIGNABLE = "porteur_injoignable"
    PORTEUR_RENONCE = "porteur_renonce"
    PROJET_ARRETE = "projet_arrete"
    AUTRE = "autre"


COMPLETED_OUTCOMES = frozenset(
    {
        ReferralOutcome.ACCOMPAGNEMENT_REALISE,
        ReferralOutcome.FINANCEMENT_ACCORDE,
        ReferralOutcome.ACTIVITE_DEMARREE,
        ReferralOutcome.REORIENTE,
    }
)
ABANDON_OUTCOMES = frozenset(
    {ReferralOutcome.PORTEUR_INJOIGNABLE, ReferralOutcome.PORTEUR_RENONCE, ReferralOutcome.PROJET_ARRETE,
     ReferralOutcome.AUTRE}
)


class Instrument(Coded):
    SUBVENTION = "subvention"
    AIDE_EMPLOI = "aide_emploi"
    PRET_BANCAIRE = "pret_bancaire"
    PRET_HONNEUR = "pret_honneur"
    GARANTIE = "garantie"
    APPORT_CAPITAL = "apport_capital"
    FONDS_PROPRES = "fonds_propres"
    AVANCE_REMBOURSABLE = "avance_remboursable"
    CAPITAL_INVESTISSEMENT = "capital_investissement"
    FINANCEMENT_PARTICIPATIF = "financement_participatif"
    AUTRE = "autre"


class FinancingStatus(Coded):
    ENVISAGE = "envisage"
    DEMANDE = "demande"
    ACCORDE = "accorde"
    REFUSE = "refuse"
    VERSE = "verse"
    ABANDONNE = "abandonne"


LABELS: dict[str, dict[str, str]] = {
    "Phase": {
        "emergence": "émergence",
        "creation": "création",
        "consolidation": "consolidation",
        "changement_echelle": "changement d'échelle",
        "reprise_transmission": "reprise / transmission",
        "difficulte": "difficulté",
    },
    "ProjectStatus": {
        "actif": "actif",
        "en_veille": "en veille",
        "abandonne": "abandonné",
        "activite_demarree": "activité démarrée",
        "clos": "clos",
    },
    "LegalForm": {
        "non_definie": "non définie",
        "association": "association",
        "scop": "SCOP",
        "scic": "SCIC",
        "cae": "CAE",
        "cuma": "CUMA",
        "cooperative_autre": "autre coopérative",
        "mutuelle": "mutuelle",
        "fondation": "fondation",
        "fonds_de_dotation": "fonds de dotation",
        "societe_commerciale_ess": "société commerciale de l'ESS",
        "sarl": "SARL",
        "sas": "SAS",
        "sa": "SA",
        "entreprise_individuelle": "entreprise individuelle",
        "groupement": "groupement (GE, GEIQ, GIE, GIP)",
    },
    "Sector": {
        "action_sociale": "action sociale",
        "aide_domicile": "aide à domicile",
        "sante": "santé",
        "insertion": "insertion",
        "enseignement_formation": "enseignement et formation",
        "culture": "culture",
        "sport_loisirs": "sport et loisirs",
        "tourisme": "tourisme",
        "environnement_energie": "environnement et énergie",
        "reemploi": "réemploi et économie circulaire",
        "alimentation": "alimentation et circuits courts",
        "agriculture": "agriculture",
        "mobilite": "mobilité",
        "habitat_batiment": "habitat et bâtiment",
        "numerique": "numérique",
        "commerce": "commerce",
        "artisanat_industrie": "artisanat et industrie",
        "finance_assurance": "finance et assurance",
        "services": "services",
        "autre": "autre",
    },
    "Prescripteur": {
        "france_travail": "France Travail",
        "mission_locale": "mission locale",
        "chambre_consulaire": "chambre consulaire",
        "incubateur": "incubateur",
        "epci": "EPCI / développeur économique",
        "collectivite": "collectivité",
        "expert_comptable": "expert-comptable",
        "reseau_ess": "réseau de l'ESS",
        "fabrique": "fabrique à initiatives",
        "tiers_lieu": "tiers-lieu",
        "reunion_information": "réunion d'information",
        "bouche_a_oreille": "bouche-à-oreille",
        "autre": "autre",
    },
    "Gender": {"femme": "femme", "homme": "homme", "autre": "autre", "non_renseigne": "non renseigné"},
    "Situation": {
        "demandeur_emploi": "demandeur d'emploi",
        "salarie": "salarié",
        "independant": "indépendant",
        "etudiant": "étudiant",
        "retraite": "retraité",
        "sans_activite": "sans activité",
        "autre": "autre",
    },
    "ConsentScope": {
        "interne": "suivi interne uniquement",
        "partenaires": "partage avec les partenaires du parcours",
        "partenaires_financeurs": "partage avec les partenaires et les financeurs",
    },
    "ConsentSource": {"ecrit": "écrit signé", "oral": "oral", "courriel": "courriel", "formulaire": "formulaire"},
    "MemberRole": {
        "porteur": "porteur",
        "co_porteur": "co-porteur",
        "associe_salarie": "associé-salarié",
        "entrepreneur_salarie": "entrepreneur salarié",
        "cooperateur": "coopérateur",
        "dirigeant_benevole": "dirigeant bénévole",
        "benevole": "bénévole",
        "salarie": "salarié",
    },
    "AdvisorRole": {"conseiller": "conseiller", "responsable": "responsable", "lecture": "lecture seule"},
    "StructureKind": {
        "reseau": "réseau",
        "accompagnateur": "structure d'accompagnement",
        "incubateur": "incubateur",
        "financeur": "financeur",
        "cae": "CAE",
        "dla": "DLA",
        "collectivite": "collectivité",
        "prescripteur": "prescripteur",
        "lieu": "lieu",
        "autre": "autre",
    },
    "SupportType": {
        "accueil_orientation": "accueil et orientation",
        "accompagnement": "accompagnement",
        "financement": "financement",
        "hebergement": "hébergement",
        "formation": "formation",
        "mise_en_reseau": "mise en réseau",
        "sensibilisation": "sensibilisation",
    },
    "AppointmentMode": {
        "presentiel": "présentiel",
        "telephone": "téléphone",
        "visio": "visio",
        "permanence": "permanence",
    },
    "AppointmentStatus": {"planifie": "planifié", "realise": "réalisé", "annule": "annulé", "absent": "absent"},
    "ReferralStatus": {
        "proposee": "proposée",
        "acceptee": "acceptée",
        "refusee": "refusée",
        "expiree": "expirée",
        "annulee": "annulée",
        "en_cours": "en cours",
        "aboutie": "aboutie",
        "abandonnee": "abandonnée",
    },
    "RefusalReason": {
        "hors_perimetre": "hors du périmètre de la structure",
        "projet_pas_mur": "projet pas encore mûr",
        "deja_accompagne": "déjà accompagné ailleurs",
        "capacite": "pas de capacité d'accueil",
        "porteur_injoignable": "porteur injoignable",
        "porteur_renonce": "le porteur renonce",
        "autre": "autre motif",
    },
    "ReferralOutcome": {
        "accompagnement_realise": "accompagnement réalisé",
        "financement_accorde": "financement accordé",
        "activite_demarree": "activité démarrée",
        "reoriente": "réorienté vers une autre structure",
        "porteur_injoignable": "porteur injoignable",
        "porteur_renonce": "le porteur renonce",
        "projet_arrete": "projet arrêté",
        "autre": "autre",
    },
    "Instrument": {
        "subvention": "subvention",
        "aide_emploi": "aide à l'emploi",
        "pret_bancaire": "prêt bancaire",
        "pret_honneur": "prêt d'honneur",
        "garantie": "garantie",
        "apport_capital": "apport en capital",
        "fonds_propres": "fonds propres / quasi-fonds propres",
        "avance_remboursable": "avance remboursable",
        "capital_investissement": "capital-investissement solidaire",
        "financement_participatif": "financement participatif (don)",
        "autre": "autre",
    },
    "FinancingStatus": {
        "envisage": "envisagé",
        "demande": "demandé",
        "accorde": "accordé",
        "refuse": "refusé",
        "verse": "versé",
        "abandonne": "abandonné",
    },
}
