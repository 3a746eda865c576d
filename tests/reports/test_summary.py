"""The « Synthèse d'accompagnement » PDF: what each variant shows, what it must never show, and batches."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ess_accompagnement.domain import appointments, financing, phases, projects, referrals
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    ConsentScope,
    FinancingStatus,
    Instrument,
    LegalForm,
    Phase,
    Prescripteur,
    ReferralOutcome,
    ReferralStatus,
    Sector,
)
from ess_accompagnement.domain.entities import Note, Person, ProjectMember, Structure
from ess_accompagnement.domain.errors import RuleError, ValidationError
from ess_accompagnement.domain.validation import PARIS
from ess_accompagnement.reports import fonts
from ess_accompagnement.reports.summary import (
    SummaryData,
    Variant,
    build_summary,
    for_variant,
    render_many,
    render_summary,
)
from tests.worlds import TODAY, World

# Strings that exist only in notes and free comments: no partner or holder copy may contain them.
APPOINTMENT_NOTE = "Zorglub hésite encore sur le loyer du local"
SECOND_NOTE = "Quintessence du plan de trésorerie revue"
NOTE_ROW = "Vigilance Xylophone : situation familiale fragile"
OTHER_STRUCTURE_NOTE = "Wapiti note interne de France Active"
REFERRAL_COMMENT = "Comité Yéti favorable à l'unanimité"
FINANCING_COMMENT = "Kumquat garantie bancaire à négocier"
SECRETS = (APPOINTMENT_NOTE, SECOND_NOTE, NOTE_ROW, OTHER_STRUCTURE_NOTE, REFERRAL_COMMENT, FINANCING_COMMENT)
INES_EMAIL, KARIM_EMAIL, KARIM_PHONE = "ines.lefevre@example.org", "karim.benali@example.org", "+33612345678"


def local(day: int, month: int, year: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def pdf_text(source: Path | bytes) -> str:
    """All pages' text, with the no-break spaces of French amounts made plain spaces."""
    reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def flat(text: str) -> str:
    """Text with line breaks folded, for phrases a table cell may wrap."""
    return " ".join(text.split())


def create_project(world: World, title: str, *, confidential: bool = False) -> uuid.UUID:
    draft = projects.ProjectDraft(
        title=title, lead_structure_id=world.urscop, commune_code="37261",
        holders=(projects.HolderDraft("Inès", "Lefèvre"), projects.HolderDraft("Karim", "Benali")),
        phase_date=dt.date(2025, 1, 6), legal_form=LegalForm.ASSOCIATION, envisaged_legal_form=LegalForm.SCIC,
        sector=Sector.ALIMENTATION, siret="73282932000074", prescripteur=Prescripteur.FRANCE_TRAVAIL,
        summary="Une épicerie en circuits courts, gérée par ses habitants.", confidential=confidential,
    )
    with world.db.transaction() as session:
        return projects.create_project(session, world.camille, draft, today=TODAY).id


def set_consent(world: World, project_id: uuid.UUID, first_name: str, scope: ConsentScope | None,
                email: str | None = None, phone: str | None = None) -> None:
    """Holders' contacts and consent (no use case records consent yet: written as the future one would)."""
    with world.db.transaction() as session:
        person = session.execute(
            select(Person).join(ProjectMember, ProjectMember.person_id == Person.id)
            .where(ProjectMember.project_id == project_id, Person.first_name == first_name)
        ).scalar_one()
        person.consent_scope, person.email, person.phone = scope, email, phone
        person.consent_date = dt.date(2025, 1, 6) if scope else None


def add_story(world: World, project_id: uuid.UUID) -> None:
    """Phases, appointments with notes, referrals, financing, jobs and notes, through the use cases."""
    with world.db.transaction() as s:
        phases.change_phase(s, world.camille, project_id, Phase.CREATION, date=dt.date(2025, 9, 1), reason=None,
                            today=TODAY)
        phases.change_phase(s, world.camille, project_id, Phase.DIFFICULTE, date=dt.date(2026, 1, 10),
                            reason="Perte du local prévu", today=TODAY)
        phases.change_phase(s, world.camille, project_id, Phase.CREATION, date=dt.date(2026, 3, 20),
                            reason="Nouveau local trouvé", today=TODAY)
    add_appointments(world, project_id)
    add_referrals(world, project_id)
    with world.db.transaction() as s:
        financing.add_financing(s, world.camille, financing.FinancingDraft(
            project_id, Instrument.PRET_HONNEUR, Decimal("15000.50"), FinancingStatus.ACCORDE,
            funder_structure_id=world.france_active), today=dt.date(2026, 6, 2))
        financing.add_financing(s, world.camille, financing.FinancingDraft(
            project_id, Instrument.SUBVENTION, Decimal("4000"), FinancingStatus.DEMANDE,
            dispositif_id=world.fonds_confiance, comment=FINANCING_COMMENT), today=dt.date(2026, 6, 3))
        financing.add_financing(s, world.camille, financing.FinancingDraft(
            project_id, Instrument.PRET_HONNEUR, Decimal("2500"), FinancingStatus.DEMANDE,
            funder_name="Initiative Touraine"), today=dt.date(2026, 6, 4))
        projects.edit_project(s, world.camille, project_id,
                              projects.ProjectEdit(jobs_created=Decimal("2.5"), jobs_maintained=Decimal("1")))
        s.add_all([
            Note(project_id=project_id, advisor_id=world.camille.advisor_id, written_on=dt.date(2026, 3, 13),
                 text=NOTE_ROW, owner_structure_id=world.urscop),
            Note(project_id=project_id, advisor_id=world.lea.advisor_id, written_on=dt.date(2026, 4, 6),
                 text=OTHER_STRUCTURE_NOTE, owner_structure_id=world.france_active),
        ])


def add_appointments(world: World, project_id: uuid.UUID) -> None:
    now = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    drafts = [
        appointments.AppointmentDraft(
            project_id, local(12, 3, 2026, 14, 30), 90, AppointmentMode.PERMANENCE, place="Mairie de Loches",
            topics=("statuts", "prévisionnel"), notes=APPOINTMENT_NOTE,
            next_steps=(appointments.NextStepDraft("Envoyer le prévisionnel", dt.date(2026, 12, 15)),)),
        appointments.AppointmentDraft(project_id, local(2, 10, 2026, 10), 60, AppointmentMode.VISIO,
                                      topics=("trésorerie",), notes=SECOND_NOTE),
        appointments.AppointmentDraft(project_id, local(10, 12, 2026, 9), 60, AppointmentMode.PRESENTIEL,
                                      place="Locaux de l'URSCOP, Tours"),
    ]
    with world.db.transaction() as s:
        for draft in drafts:
            appointments.add_appointment(s, world.camille, draft, now=now)


def add_referrals(world: World, project_id: uuid.UUID) -> None:
    with world.db.transaction() as s:
        to_fa = referrals.propose(s, world.camille, referrals.ReferralDraft(
            project_id, world.france_active, "Prêt d'honneur et garantie", world.fonds_confiance),
            today=dt.date(2026, 4, 2)).id
        referrals.answer(s, world.lea, to_fa, ReferralStatus.ACCEPTEE, today=dt.date(2026, 4, 5))
        referrals.answer(s, world.lea, to_fa, ReferralStatus.EN_COURS, today=dt.date(2026, 4, 10))
        referrals.answer(s, world.lea, to_fa, ReferralStatus.ABOUTIE, today=dt.date(2026, 6, 2),
                         outcome=ReferralOutcome.FINANCEMENT_ACCORDE, comment=REFERRAL_COMMENT)
        referrals.propose(s, world.camille, referrals.ReferralDraft(
            project_id, world.alter_incub, "Incubation du projet coopératif"), today=dt.date(2026, 11, 10))


@pytest.fixture
def project(world: World) -> uuid.UUID:
    project_id = create_project(world, "Épicerie coopérative de la Brenne")
    add_story(world, project_id)
    set_consent(world, project_id, "Inès", ConsentScope.PARTENAIRES, email=INES_EMAIL)
    set_consent(world, project_id, "Karim", ConsentScope.INTERNE, email=KARIM_EMAIL, phone=KARIM_PHONE)
    with world.db.transaction() as s:
        urscop = s.get(Structure, world.urscop)
        urscop.email, urscop.phone, urscop.website = "contact@urscop.example", "+33247000000", "urscop.example"
    return project_id


def summary(world: World, project_id: uuid.UUID, today: dt.date = dt.date(2026, 11, 24)) -> SummaryData:
    with world.db.read() as session:
        return build_summary(session, project_id, printing_structure_id=world.urscop, today=today)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory for the PDFs (``tmp_path`` also holds the test database)."""
    directory = tmp_path / "pdf"
    directory.mkdir()
    return directory


def render(world: World, project_id: uuid.UUID, variant: str, out: Path) -> tuple[Path, str]:
    path = out / f"{variant}.pdf"
    render_summary(summary(world, project_id), path, variant)
    return path, pdf_text(path)


def test_internal_summary_has_the_whole_story(world: World, project: uuid.UUID, out: Path) -> None:
    # GIVEN a project with phases, appointments, referrals, financing and notes
    # WHEN the URSCOP prints the internal summary
    path, text = render(world, project, "interne", out)
    reader = PdfReader(path)
    # THEN the document is French, titled, signed by the printing structure
    assert reader.metadata.title == "Synthèse d'accompagnement – Épicerie coopérative de la Brenne"
    assert reader.metadata.author == "URSCOP Centre-Val de Loire"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    assert len(reader.pages) >= 2
    # AND every page has the header, « page x / y », the print date and the confidentiality line
    for number, page in enumerate(reader.pages, 1):
        page_text = page.extract_text()
        assert "URSCOP Centre-Val de Loire" in page_text and "Synthèse d'accompagnement –" in page_text
        assert f"page {number} / {len(reader.pages)}" in page_text
        assert "imprimé le mardi 24 novembre 2026" in page_text
        assert "Confidentiel – document interne" in page_text
    # AND the facts are there, in French formats
    flat_text = flat(text)
    for fact in ("Inès Lefèvre", "Karim Benali", INES_EMAIL, KARIM_EMAIL, "06 12 34 56 78", "15 000,50 €",
                 "4 000,00 €", "17 500,50 €", "21 500,50 €", "12/03/2026 · 14:30 · 90 min", "Mairie de Loches",
                 "732 829 320 00074", "association (envisagée : SCIC)", "Tours (37)",
                 "EPCI : Tours Métropole Val de Loire", "France Travail", "2,5 ETP", "1 ETP",
                 "Perte du local prévu", "Envoyer le prévisionnel", "15/12/2026", "Initiative Touraine",
                 "aboutie : financement accordé", "suivi interne uniquement", "accordé le 02/06/2026"):
        assert fact in flat_text, fact
    for phase in ("émergence", "création", "difficulté"):
        assert phase in text
    # AND the notes the URSCOP may read, but not the unshared note France Active wrote
    for secret in (APPOINTMENT_NOTE, SECOND_NOTE, NOTE_ROW, REFERRAL_COMMENT, FINANCING_COMMENT):
        assert secret in flat_text, secret
    assert OTHER_STRUCTURE_NOTE not in flat_text


def test_parcours_lists_the_structures_in_order(world: World, project: uuid.UUID, out: Path) -> None:
    # GIVEN a project led by the URSCOP, referred to France Active, then to Alter'Incub
    data = summary(world, project)
    # THEN the parcours is that chain, with dates and outcomes
    steps = [(step.structure.name, step.dispositif, step.since) for step in data.parcours]
    assert steps == [("URSCOP Centre-Val de Loire", None, dt.date(2025, 1, 6)),
                     ("France Active Centre-Val de Loire", "Fonds de confiance", dt.date(2026, 4, 2)),
                     ("Alter'Incub Centre-Val de Loire", None, dt.date(2026, 11, 10))]
    assert data.parcours[1].referral.outcome is ReferralOutcome.FINANCEMENT_ACCORDE
    # AND the PDF prints it in that order
    _, text = render(world, project, "interne", out)
    section = flat(text.split("Parcours dans la chaîne")[1].split("Historique des phases")[0])
    positions = [section.index(name) for name in ("URSCOP", "France Active Centre-Val de Loire – Fonds de confiance",
                                                  "Alter'Incub")]
    assert positions == sorted(positions)
    assert "proposée le 02/04/2026" in section and "close le 02/06/2026" in section


def test_financing_totals_per_instrument(world: World, project: uuid.UUID) -> None:
    totals = {t.instrument: (t.requested, t.granted) for t in summary(world, project).totals}
    assert totals == {
        Instrument.SUBVENTION: (Decimal("4000.00"), Decimal("0.00")),
        Instrument.PRET_HONNEUR: (Decimal("17500.50"), Decimal("15000.50")),
        None: (Decimal("21500.50"), Decimal("15000.50")),
    }


def test_partner_variant_has_no_notes_and_no_unconsented_contacts(world: World, project: uuid.UUID,
                                                                  out: Path) -> None:
    # GIVEN Inès consented to sharing with partners, Karim only to internal follow-up
    # WHEN the partner variant is made
    redacted = for_variant(summary(world, project), Variant.PARTENAIRE)
    _, text = render(world, project, "partenaire", out)
    # THEN no note or free comment is in the data, nor in the PDF
    for secret in SECRETS:
        assert secret not in repr(redacted), secret
        assert secret not in flat(text), secret
    assert "Notes de suivi" not in text and "Points abordés" not in text
    # AND Karim appears by his initials only, without his contact details; Inès in full
    for personal in ("Karim", "Benali", KARIM_EMAIL, "06 12 34 56 78", "612345678"):
        assert personal not in text and personal not in repr(redacted), personal
    assert "K. B." in text and "Inès Lefèvre" in text and INES_EMAIL in text
    # AND the facts partners need are still there
    assert "15 000,50 €" in text and "Prêt d'honneur et garantie" in flat(text)
    assert "Diffusion restreinte aux partenaires" in text


def test_confidential_project_needs_every_holders_consent_for_partners(world: World, out: Path) -> None:
    # GIVEN a confidential project whose second holder consented to internal follow-up only
    project_id = create_project(world, "Habitat partagé", confidential=True)
    set_consent(world, project_id, "Inès", ConsentScope.PARTENAIRES_FINANCEURS)
    set_consent(world, project_id, "Karim", ConsentScope.INTERNE)
    target = out / "partenaire.pdf"
    # WHEN the partner variant is asked THEN it is refused in French, and no file is left
    with pytest.raises(RuleError, match="confidentiel.*1 porteur\\(s\\) sur 2"):
        render_summary(summary(world, project_id), target, Variant.PARTENAIRE)
    assert list(out.iterdir()) == []
    # AND the internal variant is still possible
    render_summary(summary(world, project_id), out / "interne.pdf", Variant.INTERNE)
    # WHEN Karim consents too THEN the partner variant is made
    set_consent(world, project_id, "Karim", ConsentScope.PARTENAIRES)
    render_summary(summary(world, project_id), target, "partenaire")
    assert "Habitat partagé" in pdf_text(target)


def test_holder_copy_speaks_to_the_holder(world: World, project: uuid.UUID, out: Path) -> None:
    # WHEN the holder's copy « Mon parcours » is printed
    path, text = render(world, project, "porteur", out)
    flat_text = flat(text)
    # THEN it is addressed to the holder, in plain French
    assert PdfReader(path).metadata.title == "Mon parcours – Épicerie coopérative de la Brenne"
    for phrase in ("Mon parcours", "Ce document résume votre accompagnement au 24/11/2026",
                   "Aujourd'hui, votre projet est à l'étape « création », depuis le 20/03/2026",
                   "Les structures qui vous accompagnent", "Accompagnement terminé le 02/06/2026 : financement accordé",
                   "Orientation proposée le 10/11/2026", "Vous avez eu 2 rendez-vous", "10/12/2026 à 09:00",
                   "Envoyer le prévisionnel", "La personne qui suit votre projet : Camille Martin",
                   "contact@urscop.example", "02 47 00 00 00", "Document personnel"):
        assert phrase in flat_text, phrase
    # AND it carries no notes, no reasons written for advisors, and no one's contact details
    for secret in (*SECRETS, "Perte du local prévu", INES_EMAIL, KARIM_EMAIL, "06 12 34 56 78"):
        assert secret not in flat_text, secret


def test_pdf_embeds_dejavu_only(world: World, project: uuid.UUID) -> None:
    # WHEN a summary is drawn into memory
    buffer = io.BytesIO()
    render_summary(summary(world, project), buffer, Variant.INTERNE)
    reader = PdfReader(io.BytesIO(buffer.getvalue()))
    # THEN every font of every page is an embedded subset of DejaVu Sans (U+202F has a glyph), no Helvetica
    names = {font.get_object()["/BaseFont"] for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert names and all(name.split("+")[-1].startswith(fonts.FAMILY) for name in names), names
    assert all("+" in name for name in names)  # subsets: the font travels with the file
    descriptors = [font.get_object()["/FontDescriptor"] for font in reader.pages[0]["/Resources"]["/Font"].values()]
    assert all("/FontFile2" in descriptor for descriptor in descriptors)


def test_unknown_variant_is_refused_in_french(world: World, project: uuid.UUID, out: Path) -> None:
    with pytest.raises(ValidationError, match="Variante « financeur » inconnue.*interne, partenaire, porteur"):
        render_summary(summary(world, project), out / "x.pdf", "financeur")
    assert list(out.iterdir()) == []


def test_redacted_data_cannot_be_rendered_as_internal(world: World, project: uuid.UUID) -> None:
    partner = for_variant(summary(world, project), Variant.PARTENAIRE)
    with pytest.raises(ValueError, match="redacted"):
        for_variant(partner, Variant.INTERNE)


def test_long_user_text_with_markup_characters_is_printed_as_typed(world: World, out: Path) -> None:
    # GIVEN a title and notes with characters that mean something to reportlab's markup
    project_id = create_project(world, "Café <Solidaire> & Cie")
    with world.db.transaction() as s:
        appointments.add_appointment(s, world.camille, appointments.AppointmentDraft(
            project_id, local(3, 11, 2026, 9), 30, AppointmentMode.TELEPHONE,
            notes="Marge < 5 % & stock > 2 mois\n" + "Très long compte rendu. " * 400),
            now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    # WHEN it is printed THEN the text comes back as typed, across pages
    path, text = render(world, project_id, "interne", out)
    assert "Café <Solidaire> & Cie" in text and "Marge < 5 % & stock > 2 mois" in flat(text)
    assert len(PdfReader(path).pages) >= 3


# ---- Many projects at once ----------------------------------------------------------------------


@pytest.fixture
def three_projects(world: World) -> list[uuid.UUID]:
    ids = [create_project(world, title) for title in ("Recyclerie du Berry", "Tiers-lieu des Bordes",
                                                      "Garage solidaire")]
    add_story(world, ids[0])
    return ids


def test_render_many_writes_one_file_per_project(world: World, three_projects: list[uuid.UUID],
                                                 out: Path) -> None:
    progress: list[tuple[int, int]] = []
    result = render_many(world.db, three_projects, out / "comité", "partenaire",
                         lambda done, total: progress.append((done, total)),
                         printing_structure_id=world.urscop, today=TODAY)
    assert not result.cancelled and result.skipped == ()
    assert sorted(p.name for p in (out / "comité").iterdir()) == sorted(p.name for p in result.written)
    assert len(result.written) == 3 and progress == [(1, 3), (2, 3), (3, 3)]
    assert result.written[0].name == f"recyclerie-du-berry-{three_projects[0].hex[:8]}-partenaire.pdf"
    assert "Recyclerie du Berry" in pdf_text(result.written[0])


def test_render_many_combined_numbers_each_project(world: World, three_projects: list[uuid.UUID],
                                                   out: Path) -> None:
    # GIVEN a confidential project among them, without consent
    three_projects.append(create_project(world, "Projet confidentiel", confidential=True))
    target = out / "comité.pdf"
    # WHEN they are printed in one PDF for partners
    result = render_many(world.db, three_projects, target, Variant.PARTENAIRE, printing_structure_id=world.urscop,
                         today=TODAY)
    # THEN the confidential one is left out and reported; the others each start at « page 1 / n »
    assert result.written == (target,) and result.skipped == (three_projects[3],)
    reader = PdfReader(target)
    firsts = [page.extract_text() for page in reader.pages if "page 1 / " in page.extract_text()]
    assert len(firsts) == 3
    assert [t for t in ("Recyclerie du Berry", "Tiers-lieu des Bordes", "Garage solidaire") if t in firsts[1]] \
        == ["Tiers-lieu des Bordes"]
    assert reader.metadata.title == "Synthèses d'accompagnement"
    assert [entry.title for entry in reader.outline] == ["Recyclerie du Berry", "Tiers-lieu des Bordes",
                                                         "Garage solidaire"]
    assert "Projet confidentiel" not in pdf_text(target)
    assert [p.name for p in out.iterdir()] == ["comité.pdf"]


@pytest.mark.parametrize("target", ["lot", "lot.pdf"])
def test_render_many_stops_when_cancelled(world: World, three_projects: list[uuid.UUID], out: Path,
                                          target: str) -> None:
    # GIVEN a user who presses « Annuler » once the first project is done
    done: list[int] = []
    result = render_many(world.db, three_projects, out / target, Variant.INTERNE,
                         lambda count, _total: done.append(count), lambda: len(done) >= 1,
                         printing_structure_id=world.urscop, today=TODAY)
    # THEN the batch stops: the finished file stays (directory), a combined PDF is not written at all
    assert result.cancelled and done == [1]
    if target == "lot":
        assert len(result.written) == 1 and [p.name for p in (out / "lot").iterdir()] == [result.written[0].name]
    else:
        assert result.written == () and list(out.iterdir()) == []


def test_render_many_refuses_an_empty_batch(world: World, out: Path) -> None:
    with pytest.raises(ValidationError, match="Aucun projet"):
        render_many(world.db, [], out / "x.pdf", "interne", printing_structure_id=world.urscop, today=TODAY)
