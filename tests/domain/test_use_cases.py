"""Use cases on projects, appointments, financing and advisors: what they write, and what they refuse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ess_accompagnement.domain import advisors, appointments, financing, projects
from ess_accompagnement.domain.codes import (
    AppointmentMode,
    AppointmentStatus,
    FinancingStatus,
    Instrument,
    MemberRole,
    ProjectStatus,
)
from ess_accompagnement.domain.entities import Appointment, Financing, NextStep, Person, Project, ProjectMember
from ess_accompagnement.domain.errors import NotFoundError, RuleError, UserFacingError, ValidationError
from ess_accompagnement.domain.ids import member_id
from ess_accompagnement.domain.queries.project_detail import project_detail
from tests.worlds import TODAY, World

NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def count(world: World, model: type) -> int:
    with world.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_create_project_with_collective_holders(world: World) -> None:
    # GIVEN a collective project with three holders
    draft = projects.ProjectDraft(
        title="  SCIC Énergie citoyenne  ", lead_structure_id=world.urscop, commune_code="36044",
        holders=(projects.HolderDraft.parse("Inès Lefèvre"), projects.HolderDraft.parse("Jean de La Fontaine"),
                 projects.HolderDraft("Karim", "Benali", MemberRole.ASSOCIE_SALARIE)),
        siret="732 829 320 00074",
    )
    with world.db.transaction() as session:
        project_id = projects.create_project(session, world.camille, draft, today=TODAY).id
    # THEN the first holder is the porteur, the next ones co-porteurs unless a role was given
    with world.db.read() as session:
        project = session.get(Project, project_id)
        members = session.execute(select(ProjectMember)).scalars().all()
        detail = project_detail(session, project_id, today=TODAY, reader_structure_id=world.camille.structure_id)
    assert project.title == "SCIC Énergie citoyenne" and project.siret == "73282932000074"
    assert project.owner_structure_id == world.urscop and project.lead_advisor_id == world.camille.advisor_id
    assert [(h.last_name, h.role) for h in detail.holders] == [
        ("Lefèvre", MemberRole.PORTEUR), ("de La Fontaine", MemberRole.CO_PORTEUR),
        ("Benali", MemberRole.ASSOCIE_SALARIE)]
    # AND link rows have a natural id, so two copies adding the same holder make one row
    assert all(m.id == member_id(m.project_id, m.person_id) for m in members)
    assert project.id.version == 7


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": "   "}, "Titre du projet : ce champ est obligatoire"),
        ({"holders": ()}, "au moins un porteur"),
        ({"commune_code": "99999"}, "Commune inconnue"),
        ({"siret": "123"}, "14 chiffres"),
        ({"lead_structure_id": "france_active"}, "que pour votre structure"),
        ({"phase_date": TODAY + dt.timedelta(days=3)}, "futur"),
    ],
)
def test_create_project_refusals_write_nothing(world: World, changes: dict[str, object], error: str) -> None:
    if changes.get("lead_structure_id") == "france_active":
        changes = {"lead_structure_id": world.france_active}
    fields = {"title": "Tiers-lieu", "lead_structure_id": world.urscop, "commune_code": "37261",
              "holders": (projects.HolderDraft("Inès", "Lefèvre"),), **changes}
    with pytest.raises(UserFacingError, match=error), world.db.transaction() as session:
        projects.create_project(session, world.camille, projects.ProjectDraft(**fields), today=TODAY)
    assert count(world, Project) == count(world, Person) == 0


def test_holder_names_need_first_and_last_name() -> None:
    with pytest.raises(ValidationError, match="prénom puis le nom"):
        projects.HolderDraft.parse("Hélène")


def test_edit_project(world: World) -> None:
    project_id = world.new_project()
    edit = projects.ProjectEdit(status=ProjectStatus.ACTIVITE_DEMARREE, jobs_created=Decimal("2.5"), siret="",
                                flags={"esus": True})
    with world.db.transaction() as session:
        projects.edit_project(session, world.camille, project_id, edit)
    with world.db.read() as session:
        project = session.get(Project, project_id)
    assert (project.status, project.jobs_created, project.siret, project.esus) == (
        ProjectStatus.ACTIVITE_DEMARREE, Decimal("2.50"), None, True)
    with pytest.raises(ValidationError, match="Rien à modifier"), world.db.transaction() as session:
        projects.edit_project(session, world.camille, project_id, projects.ProjectEdit())
    with pytest.raises(RuleError, match="structure qui mène"), world.db.transaction() as session:
        projects.edit_project(session, world.lea, project_id, projects.ProjectEdit(title="Autre"))


def test_appointment_with_next_steps_and_derived_status(world: World) -> None:
    project_id = world.new_project()
    past = appointments.AppointmentDraft(
        project_id, dt.datetime(2026, 10, 12, 12, 30, tzinfo=dt.UTC), 90, AppointmentMode.PERMANENCE,
        place="Mairie de Loches", topics=("statuts", " "),
        next_steps=(appointments.NextStepDraft("Envoyer le prévisionnel", dt.date(2026, 12, 15)),))
    future = appointments.AppointmentDraft(project_id, NOW + dt.timedelta(days=7), 60, AppointmentMode.VISIO)
    with world.db.transaction() as session:
        first = appointments.add_appointment(session, world.camille, past, now=NOW).id
        second = appointments.add_appointment(session, world.camille, future, now=NOW).id
    with world.db.read() as session:
        done, planned = session.get(Appointment, first), session.get(Appointment, second)
        step = session.execute(select(NextStep)).scalar_one()
    assert (done.status, done.topics, planned.status) == (AppointmentStatus.REALISE, ["statuts"],
                                                          AppointmentStatus.PLANIFIE)
    assert (step.appointment_id, step.due_date) == (first, dt.date(2026, 12, 15))


def test_appointment_refusals(world: World) -> None:
    project_id = world.new_project()
    cases = [
        (appointments.AppointmentDraft(project_id, NOW + dt.timedelta(days=1), 60, AppointmentMode.VISIO,
                                       status=AppointmentStatus.REALISE), "pas encore eu lieu"),
        (appointments.AppointmentDraft(project_id, NOW, 60, AppointmentMode.PERMANENCE), "Lieu"),
        (appointments.AppointmentDraft(project_id, NOW, 0, AppointmentMode.VISIO), "Durée"),
        (appointments.AppointmentDraft(project_id, NOW, 60, AppointmentMode.VISIO,
                                       next_steps=(appointments.NextStepDraft(" "),)), "Prochaine étape"),
    ]
    for draft, message in cases:
        with pytest.raises(UserFacingError, match=message), world.db.transaction() as session:
            appointments.add_appointment(session, world.camille, draft, now=NOW)
    assert count(world, Appointment) == count(world, NextStep) == 0


def test_financing_lines(world: World) -> None:
    project_id = world.new_project()
    granted = financing.FinancingDraft(project_id, Instrument.SUBVENTION, Decimal("15000.50"),
                                       status=FinancingStatus.ACCORDE, dispositif_id=world.fonds_confiance)
    with world.db.transaction() as session:
        line_id = financing.add_financing(session, world.camille, granted, today=TODAY).id
    with world.db.read() as session:
        line = session.get(Financing, line_id)
    assert (line.funder_structure_id, line.amount_requested, line.amount_granted, line.decided_on) == (
        world.france_active, Decimal("15000.50"), Decimal("15000.50"), TODAY)
    wrong_funder = financing.FinancingDraft(project_id, Instrument.SUBVENTION, Decimal("10"),
                                            dispositif_id=world.fonds_confiance, funder_structure_id=world.urscop)
    with pytest.raises(RuleError, match="n'est pas porté par"), world.db.transaction() as session:
        financing.add_financing(session, world.camille, wrong_funder, today=TODAY)
    with pytest.raises(RuleError, match="supérieur à zéro"), world.db.transaction() as session:
        financing.add_financing(session, world.camille,
                                financing.FinancingDraft(project_id, Instrument.GARANTIE, Decimal("0")), today=TODAY)
    assert count(world, Financing) == 1



def test_a_financing_line_is_followed_from_request_to_payment(world: World) -> None:
    # GIVEN a loan requested on 10 March for 20 000 €
    project_id = world.new_project()
    asked = financing.FinancingDraft(project_id, Instrument.PRET_BANCAIRE, Decimal("20000"), funder_name="Banque coopérative",
                                     requested_on=dt.date(2026, 3, 10))
    with world.db.transaction() as session:
        line_id = financing.add_financing(session, world.camille, asked, today=TODAY).id

    def line() -> tuple[object, ...]:
        with world.db.read() as session:
            row = session.get(Financing, line_id)
            return row.status, row.amount_requested, row.amount_granted, row.requested_on, row.decided_on

    assert line() == (FinancingStatus.DEMANDE, Decimal("20000"), None, dt.date(2026, 3, 10), None)
    # WHEN the bank grants 15 000 € on 2 April, THEN the decision is recorded with its own amount and date
    granted = financing.FinancingUpdate(FinancingStatus.ACCORDE, Decimal("20000"), Decimal("15000"),
                                        decided_on=dt.date(2026, 4, 2))
    with world.db.transaction() as session:
        changes = financing.update_financing(session, world.camille, line_id, granted, today=TODAY)
    assert changes.financing and changes.projects
    assert line() == (FinancingStatus.ACCORDE, Decimal("20000"), Decimal("15000"), dt.date(2026, 3, 10),
                      dt.date(2026, 4, 2))
    # AND once paid, the decision date stays
    with world.db.transaction() as session:
        financing.update_financing(session, world.camille, line_id,
                                   financing.FinancingUpdate(FinancingStatus.VERSE, Decimal("20000"), Decimal("15000")),
                                   today=TODAY)
    assert line()[0] == FinancingStatus.VERSE and line()[4] == dt.date(2026, 4, 2)
    # Inconsistent answers are refused, naming the field, and change nothing
    bad = [
        (financing.FinancingUpdate(FinancingStatus.REFUSE, Decimal("20000"), Decimal("5")), "Montant accordé"),
        (financing.FinancingUpdate(FinancingStatus.ACCORDE, Decimal("20000"), decided_on=dt.date(2026, 3, 1)),
         "précède la date de demande"),
        (financing.FinancingUpdate(FinancingStatus.ACCORDE, Decimal("20000"), decided_on=TODAY + dt.timedelta(days=1)),
         "postérieure à aujourd'hui"),
        (financing.FinancingUpdate(FinancingStatus.DEMANDE, Decimal("20000"), decided_on=dt.date(2026, 4, 2)),
         "pas encore décidé"),
        (financing.FinancingUpdate(FinancingStatus.ACCORDE, Decimal("0")), "Montant demandé"),
    ]
    for update, message in bad:
        with pytest.raises(RuleError, match=message), world.db.transaction() as session:
            financing.update_financing(session, world.camille, line_id, update, today=TODAY)
    assert line()[0] == FinancingStatus.VERSE
    # Only the lead structure follows the line; a line recorded by mistake is taken back
    with pytest.raises(RuleError, match="mène le projet"), world.db.transaction() as session:
        financing.remove_financing(session, world.lea, line_id, now=NOW)
    with world.db.transaction() as session:
        financing.remove_financing(session, world.camille, line_id, now=NOW)
    with pytest.raises(NotFoundError), world.db.transaction() as session:
        financing.update_financing(session, world.camille, line_id, granted, today=TODAY)

def test_advisors(world: World) -> None:
    with world.db.transaction() as session:
        advisor_id = advisors.add_advisor(session, world.camille, name="Zoé Petit", structure_id=world.urscop,
                                          email="zoe.petit@exemple.fr").id
        assert advisors.resolve_advisor(session, "zoe petit") == advisor_id
        assert advisors.resolve_advisor(session, str(advisor_id)) == advisor_id
    with pytest.raises(RuleError, match="responsable"), world.db.transaction() as session:
        advisors.add_advisor(session, world.camille, name="Intrus", structure_id=world.france_active)
    with pytest.raises(NotFoundError, match="Aucun conseiller"), world.db.read() as session:
        advisors.resolve_advisor(session, "Personne")
