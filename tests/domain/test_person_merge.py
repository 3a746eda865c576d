"""Duplicate holders: probable pairs, merge (nothing lost), « pas un doublon », rights, capture of the new schema."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text

from ess_accompagnement.domain.codes import AppointmentMode, AppointmentStatus, MemberRole
from ess_accompagnement.domain.duplicates import MatchReason
from ess_accompagnement.domain.entities import (
    Appointment,
    Note,
    Person,
    PersonDistinct,
    Project,
    ProjectMember,
    Referral,
)
from ess_accompagnement.domain.errors import RuleError
from ess_accompagnement.domain.person_merge import distinct_id, mark_not_duplicate, merge_persons, probable_duplicates
from ess_accompagnement.domain.projects import HolderDraft, ProjectDraft, create_project
from tests.worlds import TODAY, World


def holder_of(world: World, project_id: uuid.UUID) -> uuid.UUID:
    with world.db.read() as session:
        return session.scalars(select(ProjectMember.person_id).where(ProjectMember.project_id == project_id)).one()


def two_ines(world: World) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """Two projects, each with its own « Inès Lefèvre » of Tours: (p1, p2, person1, person2)."""
    p1 = world.new_project("Épicerie coopérative")
    p2 = world.new_project("Café associatif")
    return p1, p2, holder_of(world, p1), holder_of(world, p2)


def attach_history(world: World, project_id: uuid.UUID) -> None:
    with world.db.transaction() as session:
        owner = world.camille.structure_id
        session.add_all([
            Appointment(project_id=project_id, advisor_id=world.camille.advisor_id, owner_structure_id=owner,
                        starts_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), duration_minutes=60,
                        mode=AppointmentMode.PRESENTIEL, status=AppointmentStatus.REALISE),
            Note(project_id=project_id, advisor_id=world.camille.advisor_id, owner_structure_id=owner,
                 written_on=dt.date(2026, 3, 2), text="Premier rendez-vous"),
            Referral(project_id=project_id, from_structure_id=owner, to_structure_id=world.france_active,
                     motive="Prêt d'honneur", proposed_on=dt.date(2026, 3, 3), owner_structure_id=owner),
        ])


def test_probable_duplicates_by_name_and_commune(world: World) -> None:
    # GIVEN the same holder registered twice, and an unrelated one
    _p1, _p2, first, second = two_ines(world)
    with world.db.transaction() as session:
        draft = ProjectDraft(title="Garage solidaire", lead_structure_id=world.urscop, commune_code="37261",
                             holders=(HolderDraft("Paul", "Renard"),), phase_date=dt.date(2025, 1, 6))
        other = create_project(session, world.camille, draft, today=TODAY).id
    # WHEN my structure looks for duplicates
    with world.db.read() as session:
        pairs = probable_duplicates(session, world.camille)
    # THEN the pair is offered once, oldest first, with its projects; the other holder is not
    assert [(p.a.id, p.b.id, p.reason) for p in pairs] == [(first, second, MatchReason.NAME_AND_COMMUNE)]
    assert pairs[0].a.projects == ("Épicerie coopérative",) and pairs[0].a.commune == "Tours"
    assert holder_of(world, other) not in {first, second}
    # AND another structure sees nothing of them
    with world.db.read() as session:
        assert probable_duplicates(session, world.lea) == []


def test_siret_and_email_rules(world: World) -> None:
    with world.db.transaction() as session:
        for title, first, email in (("Atelier vélo", "Jean-Pierre", None), ("Atelier du vélo", "Jean Pierre", None),
                                    ("Boulangerie", "Zoé", "zoe@example.org"), ("Fournil", "Zoe", "ZOE@example.org")):
            draft = ProjectDraft(title=title, lead_structure_id=world.urscop, commune_code=None,
                                 holders=(HolderDraft(first, "Marchand" if email is None else title, email=email),),
                                 phase_date=dt.date(2025, 1, 6))
            pid = create_project(session, world.camille, draft, today=TODAY).id
            if email is None:
                session.get(Project, pid).siret = "12345678900011"  # type: ignore[union-attr]
    with world.db.read() as session:
        reasons = sorted(p.reason for p in probable_duplicates(session, world.camille))
    assert reasons == sorted([MatchReason.SIRET, MatchReason.EMAIL_AND_FIRST_NAME])


def test_merge_keeps_everything(world: World) -> None:
    # GIVEN two records of the same holder, the second with appointments, a note and a referral
    p1, p2, keep, merged = two_ines(world)
    attach_history(world, p2)
    with world.db.transaction() as session:
        person = session.get(Person, merged)
        person.email, person.phone, person.birth_year = "ines@example.org", "+33612345678", 1990  # type: ignore[union-attr]
        session.get(Person, keep).email = None  # type: ignore[union-attr]
        session.add(ProjectMember(project_id=p1, person_id=merged, role=MemberRole.CO_PORTEUR,
                                  owner_structure_id=world.urscop, id=uuid.uuid4()))
    # WHEN they are merged
    with world.db.transaction() as session:
        changes = merge_persons(session, world.camille, keep, merged)
    assert changes.persons and changes.projects
    # THEN the kept person holds both projects, with every appointment, note and referral
    with world.db.read() as session:
        projects = set(session.scalars(select(ProjectMember.project_id).where(
            ProjectMember.person_id == keep, ProjectMember.deleted_at.is_(None))))
        assert projects == {p1, p2}
        assert session.scalars(select(Appointment).where(Appointment.project_id.in_(projects))).all()
        assert session.scalars(select(Note).where(Note.project_id.in_(projects))).all()
        assert session.scalars(select(Referral).where(Referral.project_id.in_(projects))).all()
        # AND its empty fields are filled from the merged one
        kept = session.get(Person, keep)
        assert (kept.email, kept.phone, kept.birth_year) == ("ines@example.org", "+33612345678", 1990)  # type: ignore[union-attr]
        # AND the merged person is soft-deleted and points to the kept one, its memberships too
        gone = session.get(Person, merged)
        assert gone.deleted_at is not None and gone.merged_into_id == keep  # type: ignore[union-attr]
        assert session.scalars(select(ProjectMember).where(ProjectMember.person_id == merged,
                                                           ProjectMember.deleted_at.is_(None))).all() == []
        assert probable_duplicates(session, world.camille) == []
        # AND the merge was captured for sync (new column included)
        captured = session.execute(text("SELECT col FROM sync_fv WHERE tbl = 'person' AND pk = :pk"),
                                   {"pk": merged.hex}).scalars().all()
        assert "merged_into_id" in captured


def test_not_a_duplicate_is_not_offered_again(world: World) -> None:
    _p1, _p2, first, second = two_ines(world)
    with world.db.transaction() as session:
        mark_not_duplicate(session, world.camille, second, first)
        mark_not_duplicate(session, world.camille, first, second)  # twice: one row
    with world.db.read() as session:
        assert probable_duplicates(session, world.camille) == []
        rows = session.scalars(select(PersonDistinct)).all()
        assert [(r.id, r.person_a_id, r.person_b_id) for r in rows] == [
            (distinct_id(first, second), *sorted((first, second)))]
        # the pair travels: captured in the structure's scope
        scopes = session.execute(text("SELECT DISTINCT scope FROM sync_fv WHERE tbl = 'person_distinct'")).scalars()
        assert list(scopes) == [f"structure:{world.urscop.hex}"]


def test_rights(world: World) -> None:
    _p1, _p2, first, second = two_ines(world)
    with world.db.transaction() as session, pytest.raises(RuleError, match="lecture seule"):
        merge_persons(session, world.reader, first, second)
    with world.db.transaction() as session, pytest.raises(RuleError, match="Seule la structure"):
        merge_persons(session, world.lea, first, second)
    with world.db.transaction() as session, pytest.raises(RuleError, match="Seule la structure"):
        mark_not_duplicate(session, world.lea, first, second)
    with world.db.transaction() as session, pytest.raises(RuleError, match="différentes"):
        merge_persons(session, world.camille, first, first)
