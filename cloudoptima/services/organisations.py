"""Find organisations by id or name (for the CLI and scripts)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from cloudoptima.storage.models import Organization


class OrganisationNotFoundError(LookupError):
    """No organisation matches, or a name matches several; the message says which."""


def resolve_organisation(engine: Engine, reference: str) -> uuid.UUID:
    """The id of the organisation whose id or exact name is ``reference``."""
    with engine.connect() as connection:
        try:
            org_id = uuid.UUID(reference)
        except ValueError:
            matches = (
                connection.execute(select(Organization.id).where(Organization.name == reference))
                .scalars()
                .all()
            )
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise OrganisationNotFoundError(
                    f"{len(matches)} organisations are named {reference!r}; pass the id"
                ) from None
            raise OrganisationNotFoundError(f"no organisation named {reference!r}") from None
        found = connection.execute(select(Organization.id).where(Organization.id == org_id)).scalar()
        if found is None:
            raise OrganisationNotFoundError(f"no organisation with id {reference}")
        return found
