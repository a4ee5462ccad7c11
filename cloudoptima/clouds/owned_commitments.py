"""The commitments an account owns, as its provider's API lists them: an optional connector capability (#22).

Contract: :class:`OwnedCommitmentsSource` is an optional capability of a
:class:`~cloudoptima.clouds.protocol.CloudProviderClient`: ``owned_commitments()`` answers every commitment of
the connected account the provider lists (AWS: Reserved Instances in the regions it reads, and Savings
Plans; Azure: the reservations and savings plans applying to the subscription; GCP: the project's
committed-use discounts), in every state, as :class:`~cloudoptima.domain.owned_commitments.OwnedCommitment`. Errors are the
protocol's (:class:`~cloudoptima.clouds.protocol.ProviderError`). Connectors without it list nothing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cloudoptima.domain.owned_commitments import OwnedCommitment


@runtime_checkable
class OwnedCommitmentsSource(Protocol):
    """A connector that can list the account's owned commitments."""

    def owned_commitments(self) -> list[OwnedCommitment]:
        """Every commitment of the account (module contract)."""
        ...
