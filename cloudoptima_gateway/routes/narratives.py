"""``GET /v1/recommendations/{id}/narrative``: the recommendation narrator's text for an audience.

``audience=engineer`` says what to change and the risk; ``audience=finance`` the savings and confidence.
Written by the configured LLM (the offline narrator, clearly labelled, without one) and grounded in the
stored impact preview: a draft with a number, id or date absent from the evidence is replaced by the
offline template. The text is stored on the recommendation and reused until its evidence or the model
changes (``written_at``). Include with ``app.include_router(narratives.router, prefix="/v1")`` (composition root).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from cloudoptima_agents.models import chat_model, select_provider
from cloudoptima_agents.narrator import narrate_recommendation
from cloudoptima_gateway.deps import Permission, Principal, TenantDb

router = APIRouter(prefix="/recommendations", tags=["recommendations"])
Reader = Annotated[Principal, Permission("read:recommendations")]


class NarrativeOut(BaseModel):
    recommendation_id: uuid.UUID
    audience: Literal["engineer", "finance"]
    narrative: str
    source: str
    """``model``, ``offline`` or ``offline_fallback`` (a model draft that failed the grounding check)."""
    written_at: datetime | None
    """When the stored narrative was written; it is rewritten only when its evidence or the model changes."""


def _model(request: Request) -> BaseChatModel | None:
    state = request.app.state
    if not hasattr(state, "narrator_model"):
        settings = state.settings
        state.narrator_model = (
            None if select_provider(settings).provider == "offline" else chat_model(settings)
        )
    model: BaseChatModel | None = state.narrator_model
    return model


@router.get("/{recommendation_id}/narrative", response_model=NarrativeOut)
async def narrative(
    recommendation_id: uuid.UUID,
    request: Request,
    principal: Reader,
    session: TenantDb,
    audience: Annotated[Literal["engineer", "finance"], Query()] = "engineer",
) -> NarrativeOut:
    """A short narrative of one recommendation of the caller's organisation for ``audience``."""
    model = _model(request)
    try:
        result = await run_in_threadpool(
            narrate_recommendation, session, principal.organization_id, recommendation_id, model=model
        )
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "recommendation not found") from None
    text = result.engineer if audience == "engineer" else result.finance
    return NarrativeOut(
        recommendation_id=recommendation_id,
        audience=audience,
        narrative=text,
        source=result.source,
        written_at=result.written_at,
    )
