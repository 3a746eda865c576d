"""A project's members after its creation: add, change role, remove, add again; rules, history, nothing half-written."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ess_accompagnement.domain import members
from ess_accompagnement.domain.codes import MemberRole
from ess_accompagnement.domain.entities import Note, Person, ProjectMember, utcnow
from ess_accompagnement.domain.errors import NotFoundError, RuleError, UserFacingError, ValidationError
from ess_accompagnement.domain.ids import member_id
from ess_accompagnement.domain.projects import HolderDraft, add_person
from ess_accompagnement.domain.queries.persons import person_projects
from ess_accompagnement.domain.queries.project_detail import holders, timeline
from tests.worlds import TODAY, World

JOINED = dt.date(2026, 11, 2)
LEFT = dt.date(2026, 11, 16)


def _person(world: World, first: str = "Yanis", last: str = "Benali") -> uuid.UUID:
    with world.db.transaction() as session:
        return add_person(session, world.camille, HolderDraft(first, last), commune_code="37261").id


def _porteur(world: World, project_id: uuid.UUID) -> uuid.UUID:
    with world.db.read() as session:
        return next(h.person_id for h in holders(session, project_id) if h.role is MemberRole.PORTEUR)


def _roles(world: World, project_id: uuid.UUID) -> dict[str, MemberRole]:
    with world.db.read() as session:
        return {f"{h.first_name} {h.last_name}": h.role for h in holders(session, project_id)}


def _history(world: World, project_id: uuid.UUID, reader: uuid.UUID | None) -> list[tuple[dt.date, str | None]]:
    with world.db.read() as session:
        entries = timeline(session, project_id, today=TODAY, reader_structure_id=reader)
    return [(e.day, e.detail) for e in entries if e.kind == "note"]


def _counts(session: Session) -> tuple[int, int, int, int]:
    active_links = select(func.count()).select_from(ProjectMember).where(ProjectMember.deleted_at.is_(None))
    return (session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(ProjectMember)) or 0,
            session.scalar(active_links) or 0,
            session.scalar(select(func.count()).select_from(Note)) or 0)


def _add(world: World, project_id: uuid.UUID, holder: HolderDraft, *, on: dt.date | None = None) -> uuid.UUID:
    with world.db.transaction() as session:
        return members.add_member(session, world.camille, project_id, holder, on=on, today=TODAY).id


# ---- Adding -------------------------------------------------------------------------------------


def test_add_an_existing_person_as_co_porteur(world: World) -> None:
    # GIVEN a project led by the URSCOP, and a person already recorded
    project_id = world.new_project()
    person_id = _person(world)
    # WHEN Camille adds her as co-porteur, from the day she joined
    with world.db.transaction() as session:
        created = members.add_member(session, world.camille, project_id,
                                     HolderDraft("", "", MemberRole.CO_PORTEUR, person_id=person_id), on=JOINED,
                                     today=TODAY)
    # THEN the person is a member with that role, on the link the two copies agree on
    assert created.id == person_id
    assert created.changes.projects and created.changes.persons and created.changes.notes
    assert _roles(world, project_id) == {"Inès Lefèvre": MemberRole.PORTEUR, "Yanis Benali": MemberRole.CO_PORTEUR}
    with world.db.read() as session:
        link = session.get(ProjectMember, member_id(project_id, person_id))
        assert link is not None and link.owner_structure_id == world.urscop
    # AND the timeline shows it on that day
    assert _history(world, project_id, world.urscop) == [(JOINED, "Yanis Benali a rejoint le projet (co-porteur).")]


def test_add_a_new_person_from_a_draft(world: World) -> None:
    # GIVEN a project in Tours
    project_id = world.new_project()
    # WHEN a new holder is added by name
    person_id = _add(world, project_id, HolderDraft("Awa", "Diallo", MemberRole.ASSOCIE_SALARIE,
                                                    email="awa.diallo@example.org"))
    # THEN the person is recorded by the lead structure, in the project's commune, and linked
    with world.db.read() as session:
        person = session.get(Person, person_id)
        assert person is not None
        assert (person.first_name, person.last_name, person.commune_code, person.owner_structure_id) == (
            "Awa", "Diallo", "37261", world.urscop)
    assert _roles(world, project_id)["Awa Diallo"] is MemberRole.ASSOCIE_SALARIE
    assert _history(world, project_id, world.urscop) == [(TODAY, "Awa Diallo a rejoint le projet (associé-salarié).")]


def test_the_same_person_cannot_be_a_member_twice(world: World) -> None:
    project_id = world.new_project()
    porteur = _porteur(world, project_id)

    with pytest.raises(RuleError) as caught, world.db.transaction() as session:
        members.add_member(session, world.camille, project_id,
                           HolderDraft("", "", MemberRole.CO_PORTEUR, person_id=porteur), today=TODAY)

    assert caught.value.field == "holder"
    assert caught.value.message == "Personne à ajouter : elle fait déjà partie du projet (rôle : porteur)."


# ---- Changing a role ----------------------------------------------------------------------------


def test_change_a_role(world: World) -> None:
    # GIVEN a porteur and a co-porteur
    project_id = world.new_project()
    person_id = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR), on=JOINED)
    # WHEN the co-porteur becomes porteur too
    with world.db.transaction() as session:
        changes = members.change_member_role(session, world.camille, project_id, person_id, MemberRole.PORTEUR,
                                             today=TODAY)
    # THEN both are porteurs, and the history says so
    assert changes.projects and changes.notes
    assert set(_roles(world, project_id).values()) == {MemberRole.PORTEUR}
    assert _history(world, project_id, world.urscop)[-1] == (TODAY, "Rôle de Yanis Benali : co-porteur → porteur.")


@pytest.mark.parametrize(("role", "message"), [
    (MemberRole.CO_PORTEUR, "Rôle : le projet doit garder au moins un porteur. Désignez d'abord un autre porteur, "
                            "puis changez ce rôle."),
    (MemberRole.PORTEUR, "Rôle : la personne est déjà « porteur » ; choisissez un autre rôle."),
])
def test_role_refusals(world: World, role: MemberRole, message: str) -> None:
    # GIVEN the project's only porteur, with a co-porteur beside her
    project_id = world.new_project()
    _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    porteur = _porteur(world, project_id)

    with pytest.raises(RuleError) as caught, world.db.transaction() as session:
        members.change_member_role(session, world.camille, project_id, porteur, role, today=TODAY)

    assert (caught.value.field, caught.value.message) == ("role", message)


# ---- Removing, and adding again -----------------------------------------------------------------


def test_remove_a_member_keeps_the_person(world: World) -> None:
    # GIVEN a co-porteur who joined in early November
    project_id = world.new_project()
    person_id = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR), on=JOINED)
    # WHEN he leaves the project
    with world.db.transaction() as session:
        changes = members.remove_member(session, world.camille, project_id, person_id, on=LEFT,
                                        reason="Il reprend un emploi salarié.", today=TODAY)
    # THEN the link is soft-deleted, the person is still recorded, and he no longer counts as a member
    assert changes.projects and changes.persons and changes.notes
    with world.db.read() as session:
        link = session.get(ProjectMember, member_id(project_id, person_id))
        person = session.get(Person, person_id)
        assert link is not None and link.deleted_at is not None
        assert person is not None and person.deleted_at is None
        assert person_projects(session, person_id) == []
        assert members.member_values(session, project_id, person_id) is None
    assert list(_roles(world, project_id)) == ["Inès Lefèvre"]
    # AND the history has his arrival and his departure, with the reason
    assert _history(world, project_id, world.urscop) == [
        (JOINED, "Yanis Benali a rejoint le projet (co-porteur)."),
        (LEFT, "Yanis Benali a quitté le projet. Il reprend un emploi salarié."),
    ]


def test_a_removed_member_can_be_added_again(world: World) -> None:
    # GIVEN a member who left
    project_id = world.new_project()
    person_id = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR), on=JOINED)
    with world.db.transaction() as session:
        members.remove_member(session, world.camille, project_id, person_id, on=LEFT, today=TODAY)
    # WHEN he comes back, as a volunteer this time
    _add(world, project_id, HolderDraft("", "", MemberRole.BENEVOLE, person_id=person_id))
    # THEN the same link row is active again, with the new role (no second row for the pair)
    with world.db.read() as session:
        links = session.scalars(select(ProjectMember).where(ProjectMember.person_id == person_id)).all()
    assert [(link.id, link.deleted_at, link.role) for link in links] == [
        (member_id(project_id, person_id), None, MemberRole.BENEVOLE)]
    assert [text for _day, text in _history(world, project_id, world.urscop)] == [
        "Yanis Benali a rejoint le projet (co-porteur).",
        "Yanis Benali a quitté le projet.",
        "Yanis Benali a rejoint le projet (bénévole).",
    ]


def test_the_last_porteur_stays_while_the_project_has_members(world: World) -> None:
    # GIVEN a porteur and a co-porteur
    project_id = world.new_project()
    co_porteur = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    porteur = _porteur(world, project_id)
    # THEN the porteur cannot leave first
    with pytest.raises(RuleError, match="au moins un porteur") as caught, world.db.transaction() as session:
        members.remove_member(session, world.camille, project_id, porteur, today=TODAY)
    assert caught.value.field == "member"
    assert caught.value.message.startswith("Membre : le projet doit garder au moins un porteur tant qu'il a des membres")
    # BUT once the co-porteur has left, the last member may leave too
    with world.db.transaction() as session:
        members.remove_member(session, world.camille, project_id, co_porteur, today=TODAY)
        members.remove_member(session, world.camille, project_id, porteur, today=TODAY)
    assert _roles(world, project_id) == {}
    # AND the first person to join an empty project is its porteur
    with pytest.raises(RuleError, match="doit en être le porteur") as refused, world.db.transaction() as session:
        members.add_member(session, world.camille, project_id,
                           HolderDraft("", "", MemberRole.CO_PORTEUR, person_id=co_porteur), today=TODAY)
    assert refused.value.field == "role"
    _add(world, project_id, HolderDraft("", "", MemberRole.PORTEUR, person_id=co_porteur))
    assert _roles(world, project_id) == {"Yanis Benali": MemberRole.PORTEUR}


def test_a_project_already_without_porteur_is_not_blocked(world: World) -> None:
    # GIVEN a project whose members have no porteur (as two copies of the database may leave it)
    project_id = world.new_project()
    other = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    with world.db.transaction() as session:
        link = session.get(ProjectMember, member_id(project_id, _porteur(world, project_id)))
        assert link is not None
        link.role = MemberRole.BENEVOLE
    # WHEN a co-porteur leaves, THEN nothing is made worse, so it is allowed
    with world.db.transaction() as session:
        members.remove_member(session, world.camille, project_id, other, today=TODAY)
    assert _roles(world, project_id) == {"Inès Lefèvre": MemberRole.BENEVOLE}


# ---- Who may do it, and refusals ----------------------------------------------------------------


def test_only_the_lead_structure_changes_members(world: World) -> None:
    project_id = world.new_project()
    porteur = _porteur(world, project_id)
    calls = (
        lambda s, actor: members.add_member(s, actor, project_id, HolderDraft("Awa", "Diallo", MemberRole.BENEVOLE),
                                            today=TODAY),
        lambda s, actor: members.change_member_role(s, actor, project_id, porteur, MemberRole.CO_PORTEUR, today=TODAY),
        lambda s, actor: members.remove_member(s, actor, project_id, porteur, today=TODAY),
    )
    for call in calls:
        with pytest.raises(RuleError) as caught, world.db.transaction() as session:
            call(session, world.lea)
        assert (caught.value.field, caught.value.message) == (
            "projet", "Seule la structure qui mène le projet peut le modifier.")


def test_a_read_only_advisor_changes_nothing(world: World) -> None:
    project_id = world.new_project(actor=world.lea)
    with pytest.raises(RuleError, match="lecture seule"), world.db.transaction() as session:
        members.add_member(session, world.reader, project_id, HolderDraft("Awa", "Diallo", MemberRole.BENEVOLE),
                           today=TODAY)


def test_unknown_records(world: World) -> None:
    project_id = world.new_project()
    stranger = _person(world)
    with pytest.raises(NotFoundError, match="Projet introuvable"), world.db.transaction() as session:
        members.add_member(session, world.camille, uuid.uuid4(), HolderDraft("Awa", "Diallo"), today=TODAY)
    with pytest.raises(NotFoundError) as not_member, world.db.transaction() as session:
        members.remove_member(session, world.camille, project_id, stranger, today=TODAY)
    assert (not_member.value.field, not_member.value.message) == (
        "member", "Membre : cette personne ne fait pas (ou plus) partie du projet.")
    with world.db.transaction() as session:
        person = session.get(Person, stranger)
        assert person is not None
        person.deleted_at = utcnow()
    with pytest.raises(NotFoundError, match="Personne à ajouter : elle est introuvable") as gone, \
            world.db.transaction() as session:
        members.add_member(session, world.camille, project_id, HolderDraft("", "", person_id=stranger), today=TODAY)
    assert gone.value.field == "holder"


@pytest.mark.parametrize(("holder", "on", "field", "message"), [
    (HolderDraft("Awa", "Diallo", MemberRole.CO_PORTEUR), TODAY + dt.timedelta(days=1), "date",
     "Date d'arrivée : elle ne peut pas être dans le futur."),
    (HolderDraft("Awa", "Diallo", MemberRole.CO_PORTEUR, email="awa@"), None, "email", None),
    (HolderDraft("  ", "Diallo", MemberRole.CO_PORTEUR), None, "holder", None),
])
def test_nothing_is_half_written(world: World, holder: HolderDraft, on: dt.date | None, field: str,
                                 message: str | None) -> None:
    # GIVEN a project and what the database holds
    project_id = world.new_project()
    with world.db.read() as session:
        before = _counts(session)
    # WHEN adding a new person is refused, in a transaction that goes on
    with world.db.transaction() as session:
        with pytest.raises(UserFacingError) as caught:
            members.add_member(session, world.camille, project_id, holder, on=on, today=TODAY)
        # THEN not even the person was written
        assert _counts(session) == before
    assert caught.value.field == field
    assert message is None or caught.value.message == message
    assert isinstance(caught.value, RuleError | ValidationError)


def test_removal_refused_writes_nothing(world: World) -> None:
    project_id = world.new_project()
    _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    porteur = _porteur(world, project_id)
    with world.db.transaction() as session:
        before = _counts(session)
        for call in (
            lambda: members.remove_member(session, world.camille, project_id, porteur, today=TODAY),
            lambda: members.remove_member(session, world.camille, project_id, porteur, reason="x" * 5001,
                                          today=TODAY),
            lambda: members.change_member_role(session, world.camille, project_id, porteur, MemberRole.SALARIE,
                                               on=TODAY + dt.timedelta(days=3), today=TODAY),
        ):
            with pytest.raises(UserFacingError):
                call()
            assert _counts(session) == before
            assert not session.dirty and not session.new


# ---- History and privacy ------------------------------------------------------------------------


def test_other_structures_do_not_read_the_membership_history(world: World) -> None:
    # GIVEN a co-porteur who joined a URSCOP project
    project_id = world.new_project()
    _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    # THEN the URSCOP reads it in the timeline, France Active and a shared-only reading do not
    assert _history(world, project_id, world.urscop) == [(TODAY, "Yanis Benali a rejoint le projet (co-porteur).")]
    assert _history(world, project_id, world.france_active) == []
    assert _history(world, project_id, None) == []


def test_member_values_for_the_dialogs(world: World) -> None:
    project_id = world.new_project()
    person_id = _add(world, project_id, HolderDraft("Yanis", "Benali", MemberRole.CO_PORTEUR))
    with world.db.read() as session:
        values = members.member_values(session, project_id, person_id)
        stranger = members.member_values(session, project_id, uuid.uuid4())
    assert values is not None and stranger is None
    assert (values.name, values.role, values.other_roles, values.project_title) == (
        "Yanis Benali", MemberRole.CO_PORTEUR, (MemberRole.PORTEUR,), "Épicerie coopérative")
    members.check_role_change(values, MemberRole.PORTEUR)  # allowed: nothing raised
    members.check_removal(values)
