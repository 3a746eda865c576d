"""The French wording of everything the app prints, in one catalogue (STYLE.md §10).

reports/ is Qt-free, so it cannot use Qt's translator: its wording lives here, grouped by report,
one class per report used as a namespace. Labels of coded values (phases, statuses, instruments…)
are not repeated here: they come from ``domain.codes`` (``Phase.CREATION.label``), so the screens,
the command line and the PDFs say the same thing. Placeholders use ``str.format`` names.

To add a report: add a class below with its own banner, and keep shared wording in ``Common``.
"""

from __future__ import annotations

# ---- Shared by every printed document -----------------------------------------------------------


class Common:
    CREATOR = "ESS Accompagnement"
    PRINTED_ON = "imprimé le {date}"
    PAGE = "page {page} / {total}"
    EMPTY = "—"
    YES = "oui"
    AT_TIME = "{date} à {time}"
    SINCE = "depuis le {date}"
    ETP = "{value} ETP"
    LIST_SEPARATOR = ", "


# ---- Synthèse d'accompagnement (reports/summary.py), internal and partner variants ---------------


class Summary:
    TITLE = "Synthèse d'accompagnement"
    TITLE_PARTNER = "Synthèse d'accompagnement – version partenaire"
    TITLE_MANY = "Synthèses d'accompagnement"
    SUBJECT = "Synthèse d'accompagnement du projet"
    VARIANTS = {
        "interne": "Version interne",
        "partenaire": "Version pour les partenaires et financeurs",
        "porteur": "Version remise au porteur de projet",
    }
    SUBTITLE = "{variant} – situation au {date}"
    CONFIDENTIALITY = {
        "interne": "Confidentiel – document interne à {structure} : il contient des notes de suivi et des données "
                   "personnelles. Ne pas diffuser.",
        "partenaire": "Diffusion restreinte aux partenaires du parcours : sans notes de suivi, coordonnées des "
                      "porteurs selon leur consentement. Ne pas rediffuser.",
        "porteur": "Document personnel. Vous pouvez consulter, corriger ou faire effacer vos données en vous "
                   "adressant à {structure}.",
    }

    # Errors (UserFacingError messages: never a name, only counts and codes)
    UNKNOWN_VARIANT = "Variante « {value} » inconnue. Valeurs possibles : {choices}."
    CONFIDENTIAL_REFUSED = (
        "Ce projet est confidentiel : la version partenaire n'est possible que si chaque porteur a consenti au "
        "partage avec les partenaires ({missing} porteur(s) sur {total} sans ce consentement). Imprimez la version "
        "interne, ou recueillez d'abord le consentement."
    )
    NOTHING_TO_PRINT = "Aucun projet à imprimer."
    CANNOT_WRITE = ("Impossible d'écrire le fichier PDF : le dossier n'existe pas, n'est pas accessible en écriture "
                    "ou le disque est plein.")

    # Sections
    IDENTITY = "Le projet"
    HOLDERS = "Porteurs"
    PARCOURS = "Parcours dans la chaîne de l'accompagnement"
    PHASES = "Historique des phases"
    APPOINTMENTS = "Rendez-vous"
    REFERRALS = "Orientations"
    FINANCING = "Tour de table financier"
    FINANCING_TOTALS = "Totaux par instrument"
    JOBS = "Emplois"
    NEXT_STEPS = "Prochaines étapes"
    NOTES = "Notes de suivi"
    CONTACTS = "Contacts des structures"

    # Identity
    PHASE = "Phase actuelle"
    PHASE_SINCE = "{phase}, depuis le {date}"
    STATUS = "Statut"
    LEAD = "Structure référente"
    ADVISOR = "Conseiller référent"
    PRESCRIPTEUR = "Prescripteur"
    LEGAL_FORM = "Forme juridique"
    LEGAL_FORM_ENVISAGED = "{current} (envisagée : {envisaged})"
    SECTOR = "Secteur"
    TERRITORY = "Territoire"
    COMMUNE = "{commune} ({departement})"
    EPCI = "EPCI : {epci}"
    DEPARTEMENT = "département {code}"
    SIRET = "SIRET"
    RNA = "RNA"
    RECOGNITIONS = "Reconnaissances"
    INNOVATION_SOCIALE = "innovation sociale"
    ESUS = "agrément ESUS"
    CONFIDENTIAL = "Projet confidentiel"
    SUMMARY = "Présentation"

    # Holders
    HOLDER_HEADERS = ("Nom", "Rôle", "Courriel", "Téléphone", "Consentement au partage")
    HOLDER_HEADERS_PARTNER = ("Nom", "Rôle", "Courriel", "Téléphone")
    CONSENT_NONE = "non recueilli"
    CONSENT_DATED = "{scope} (le {date})"
    HOLDER_MASKED = (
        "Les porteurs désignés par leurs seules initiales n'ont pas consenti au partage de leurs coordonnées avec "
        "les partenaires."
    )

    # Parcours
    PARCOURS_HEADERS = ("N°", "Structure et dispositif", "Étape", "Dates", "Situation")
    STEP_LEAD = "structure référente"
    STEP_PRESCRIBED = "arrivée par : {prescripteur}"
    STEP_REFERRAL = "orientation par {structure}"
    PROPOSED_ON = "proposée le {date}"
    ANSWERED_ON = "réponse le {date}"
    STARTED_ON = "commencée le {date}"
    CLOSED_ON = "close le {date}"
    LEAD_SITUATION = "accompagne le projet"
    WITH_OUTCOME = "{status} : {outcome}"
    PARCOURS_EMPTY = "Aucune orientation : le projet est suivi par sa seule structure référente."

    # Phases
    PHASE_HEADERS = ("Date", "Phase", "Raison", "Enregistré par")

    # Appointments
    APPOINTMENT_HEADERS = ("Rendez-vous", "Sujets et échanges", "Suites décidées")
    APPOINTMENTS_COUNT = "{count} rendez-vous, dont {done} réalisé(s)."
    APPOINTMENTS_EMPTY = "Aucun rendez-vous enregistré."
    WHEN = "{date} · {time} · {minutes}\u00a0min"
    MODE_STATUS = "{mode} – {status}"
    WHO = "{advisor} ({structure})"
    TOPICS = "Sujets : {topics}"
    DISCUSSED = "Points abordés : {notes}"
    DUE = "échéance le {date}"
    DONE = "fait le {date}"

    # Referrals
    REFERRAL_HEADERS = ("Date", "De → vers", "Motif", "Réponse et suite")
    FROM_TO = "{source} → {target}"
    TARGET_WITH_DISPOSITIF = "{structure} – {dispositif}"
    REFUSAL = "motif : {reason}"
    EXPIRES = "sans réponse, expire le {date}"
    COMMENT = "« {text} »"
    REFERRALS_EMPTY = "Aucune orientation."

    # Financing
    FINANCING_HEADERS = ("Financeur ou dispositif", "Instrument", "Statut", "Demandé", "Accordé")
    TOTAL_HEADERS = (FINANCING_TOTALS, "Demandé", "Accordé")
    TOTAL = "Total"
    FUNDER_UNKNOWN = "financeur non précisé"
    FINANCING_EMPTY = "Aucun financement enregistré."
    DECIDED_ON = "{status} le {date}"

    # Jobs
    JOBS_CREATED = "Emplois créés"
    JOBS_MAINTAINED = "Emplois maintenus"
    JOBS_EMPTY = "Aucun emploi renseigné."

    # Next steps
    NEXT_STEP_HEADERS = ("Échéance", "Étape")
    NO_DUE = "sans échéance"
    OVERDUE = "{date} (dépassée)"
    NEXT_STEPS_EMPTY = "Aucune étape en attente."

    # Notes
    NOTE_HEADERS = ("Date", "Structure", "Note")
    NOTES_EMPTY = "Aucune note."

    # Contacts
    CONTACT_HEADERS = ("Structure", "Courriel", "Téléphone", "Site")


# ---- « Mon parcours »: the holder's copy of the summary, in plain French ------------------------


class HolderCopy:
    TITLE = "Mon parcours"
    INTRO = (
        "Ce document résume votre accompagnement au {date} : les étapes de votre projet, les structures qui vous "
        "accompagnent et ce qu'il reste à faire. Il est à vous : gardez-le, et montrez-le si vous le souhaitez aux "
        "structures que vous rencontrerez."
    )
    HOLDERS = "Porteurs du projet : {names}."
    WHERE = "Où en est votre projet ?"
    CURRENT_PHASE = "Aujourd'hui, votre projet est à l'étape « {phase} », depuis le {date}."
    NO_PHASE = "L'étape de votre projet n'a pas encore été renseignée."
    PHASE_HEADERS = ("Depuis le", "Étape", "Ce que cela veut dire")
    PHASE_MEANINGS = {
        "emergence": "L'idée prend forme : besoins, public, premiers partenaires.",
        "creation": "Le projet se construit : statuts, modèle économique, financements, démarrage.",
        "consolidation": "L'activité a démarré et se renforce.",
        "changement_echelle": "L'activité grandit : nouveaux lieux, nouveaux services ou nouveaux publics.",
        "reprise_transmission": "Une activité est reprise ou transmise.",
        "difficulte": "Une période difficile, avec un soutien adapté.",
    }
    STRUCTURES = "Les structures qui vous accompagnent"
    STRUCTURE_HEADERS = ("Structure", "Où vous en êtes avec elle")
    LEAD_SINCE = "Elle suit votre projet depuis le {date}."
    LEAD_WITH = "Elle suit votre projet depuis le {date}, avec {advisor}."
    REFERRAL_STATES = {
        "proposee": "Orientation proposée le {date} ; la structure doit encore répondre.",
        "acceptee": "Elle a accepté de vous accompagner le {date}.",
        "en_cours": "Accompagnement en cours depuis le {date}.",
        "aboutie": "Accompagnement terminé le {date} : {outcome}.",
        "abandonnee": "Accompagnement arrêté le {date}.",
    }
    APPOINTMENTS = "Vos rendez-vous"
    PAST_NONE = "Aucun rendez-vous n'a encore eu lieu."
    PAST_ONE = "Vous avez eu 1 rendez-vous avec les structures qui vous accompagnent."
    PAST_MANY = "Vous avez eu {count} rendez-vous avec les structures qui vous accompagnent."
    UPCOMING = "Vos prochains rendez-vous :"
    UPCOMING_HEADERS = ("Quand", "Avec", "Où")
    NEXT_STEPS = "Ce qu'il reste à faire"
    NEXT_STEP_HEADERS = ("Avant le", "Quoi")
    NEXT_STEPS_EMPTY = "Rien n'est en attente pour le moment."
    FINANCING = "Vos financements"
    FINANCING_HEADERS = ("Financement", "Auprès de", "Où en est la demande", "Montant")
    CONTACTS = "Vos contacts"
    ADVISOR = "La personne qui suit votre projet : {name} ({structure})."


# ---- Charts drawn once for the screen and the PDF (reports/charts.py) ---------------------------


class Charts:
    PHASE = "Projets accompagnés par phase"
    DEPARTEMENT = "Projets accompagnés par département"
    PIPELINE_STRUCTURE = "Parcours par structure : entrés et activité démarrée"
    PIPELINE_DISPOSITIF = "Parcours par dispositif : entrés et activité démarrée"
    REFERRALS = "Orientations reçues : acceptées et refusées, par structure"
    REFUSALS = "Orientations refusées, par motif"
    APPOINTMENTS = "Rendez-vous réalisés, par mode"
    FINANCING = "Financements accordés, par instrument (€)"
    AXIS_PROJECTS = "projets"
    AXIS_REFERRALS = "orientations"
    AXIS_APPOINTMENTS = "rendez-vous"
    AXIS_EUROS = "euros"
    ENTERED = "ont intégré le parcours"
    STARTED = "ont démarré une activité"
    ACCEPTED = "acceptées"
    REFUSED = "refusées"
    EMPTY = "Aucune donnée sur la période."
    FIRST_OF = "{shown} premières valeurs sur {total}"
    DEPARTEMENT_LABEL = "Département {code}"


# ---- Rapport d'activité (reports/activity.py): PDF and XLSX ------------------------------------


class Activity:
    TITLE = "Rapport d'activité"
    SUBJECT = "Indicateurs d'activité de l'accompagnement"
    PERIOD = "Du {start} au {end}"
    SUBTITLE = "Période du {start} au {end} – situation au {end}"
    COUNTING = ("Les chiffres sont comptés pour la structure qui a fait le travail (rendez-vous, changement de "
                "phase, orientation acceptée, financement), tels qu'ils étaient au {end}. Document interne : les "
                "petits effectifs ne sont pas masqués.")
    CONFIDENTIALITY = "Document interne à {structure} – indicateurs d'activité, sans données personnelles."
    PARAMETERS = "Paramètres"
    PARAM_PERIOD = "Période"
    PARAM_START = "Début de la période"
    PARAM_END = "Fin de la période (situation au)"
    PARAM_STRUCTURE = "Structure"
    PARAM_DEPARTEMENT = "Département"
    PARAM_PRINTED_BY = "Édité par"
    PARAM_PRINTED_ON = "Édité le"
    PARAM_COUNTING = "Règle de comptage"
    ALL_STRUCTURES = "toutes les structures"
    ALL_DEPARTEMENTS = "tous les départements"
    CANNOT_WRITE = ("Impossible d'écrire le rapport : le dossier n'existe pas, n'est pas accessible en écriture "
                    "ou le disque est plein.")
    UNKNOWN_FORMAT = "Le rapport s'écrit en PDF ou en XLSX : le nom du fichier doit se terminer par .pdf ou .xlsx."

    # Key figures (tiles on the dashboard, first table of the report)
    KEY_FIGURES = "Chiffres clés"
    KF_ACCOMPANIED = "Projets accompagnés"
    KF_NEW = "Nouveaux projets dans le parcours"
    KF_STARTED = "Activités démarrées"
    KF_JOBS_CREATED = "Emplois créés"
    KF_JOBS_MAINTAINED = "Emplois maintenus"
    KF_SENT = "Orientations envoyées"
    KF_RECEIVED = "Orientations reçues"
    KF_ACCEPTED = "Orientations acceptées"
    KF_APPOINTMENTS = "Rendez-vous réalisés"
    KF_FINANCING = "Financements accordés"
    KF_HOLDERS = "Porteurs accompagnés"
    UNIT_PROJECTS = "projets"
    UNIT_REFERRALS = "orientations"
    UNIT_APPOINTMENTS = "rendez-vous"
    UNIT_HOLDERS = "porteurs"
    UNIT_LINES = "lignes de financement"
    HOURS = "{hours} h"
    ETP = "{value} ETP"
    PROJECTS_BEHIND = "{count} projets"

    # Sections and tables
    SECTION_PROJECTS = "Projets accompagnés"
    SECTION_HOLDERS = "Porteurs"
    SECTION_PIPELINE = "Parcours"
    SECTION_REFERRALS = "Orientations"
    SECTION_APPOINTMENTS = "Rendez-vous"
    SECTION_JOBS = "Emplois"
    SECTION_FINANCING = "Financements"
    BY = "{indicator} par {dimension}"
    HEADER_VALUE = "Valeur"
    HEADER_COUNT = "Effectif"
    HEADER_SHARE = "Part"
    HEADER_HOURS = "Heures"
    HEADER_INDICATOR = "Indicateur"
    HEADER_MEASURE = "Mesure"
    HEADER_UNIT = "Unité"
    HEADER_ENTERED = "Entrés dans le parcours"
    HEADER_STARTED = "Activité démarrée"
    HEADER_SENTENCE = "En une phrase"
    HEADER_STRUCTURE = "Structure"
    HEADER_DISPOSITIF = "Dispositif"
    HEADER_SENT = "Envoyées"
    HEADER_RECEIVED = "Reçues"
    HEADER_ACCEPTED = "Acceptées"
    HEADER_REFUSED = "Refusées"
    HEADER_EXPIRED = "Expirées"
    HEADER_PAIR = "De → vers"
    HEADER_ANSWERS = "Réponses"
    HEADER_MEDIAN = "Délai médian (jours)"
    HEADER_PROJECTS = "Projets"
    HEADER_ETP = "ETP"
    HEADER_LINES = "Lignes"
    HEADER_AMOUNT = "Montant (€)"
    HEADER_REQUESTED = "Demandé (€)"
    HEADER_GRANTED = "Accordé (€)"
    PIPELINE_BY_STRUCTURE = "Parcours par structure"
    PIPELINE_BY_DISPOSITIF = "Parcours par dispositif"
    REFERRALS_BY_STRUCTURE = "Orientations par structure"
    REFUSALS_BY_REASON = "Refus par motif"
    DELAYS = "Délai de réponse aux orientations"
    APPOINTMENTS_BY_STATUS = "Rendez-vous de la période, par statut"
    APPOINTMENTS_BY_MODE = "Rendez-vous réalisés, par mode"
    APPOINTMENTS_BY_PERMANENCE = "Rendez-vous réalisés, par permanence"
    JOBS = "Emplois des projets accompagnés"
    FINANCING_BY_INSTRUMENT = "Financements par instrument"
    FINANCING_BY_FUNDER = "Financements par financeur"
    NONE = "Aucune donnée sur la période."
    DELAY_OVERALL = "ensemble"
