"""The chat model every agent uses, chosen explicitly from settings.

Contract (``select_provider``), first match wins:
1. ``ANTHROPIC_API_KEY`` → ``anthropic`` (Claude through the Anthropic SDK; ``LLM_BASE_URL`` overrides the
   endpoint, e.g. a proxy or a test server);
2. ``OPENAI_API_KEY`` → ``openai`` (``LLM_BASE_URL`` overrides the endpoint);
3. ``LLM_BASE_URL`` → ``openai_compatible`` (any OpenAI-compatible server, ``LLM_API_KEY`` optional);
4. nothing → ``offline``: :class:`cloudoptima_agents.offline.OfflineChatModel`, deterministic and labelled.
``chat_model(settings)`` builds that model; no network call happens until the model is invoked. Nothing is
built at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from cloudoptima.settings import Settings
from cloudoptima_agents.offline import OfflineChatModel

Provider = Literal["anthropic", "openai", "openai_compatible", "offline"]
DEFAULT_MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-4.1-mini",
    "openai_compatible": "default",
    "offline": "offline-narrator",
}
MAX_TOKENS = 1024
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ModelChoice:
    provider: Provider
    model: str
    base_url: str | None


def select_provider(settings: Settings) -> ModelChoice:
    """Which provider and model the settings ask for (see module contract)."""
    provider: Provider
    if settings.anthropic_api_key:
        provider = "anthropic"
    elif settings.openai_api_key:
        provider = "openai"
    elif settings.llm_base_url:
        provider = "openai_compatible"
    else:
        provider = "offline"
    model = settings.llm_model or DEFAULT_MODELS[provider]
    if provider == "offline":
        model = DEFAULT_MODELS["offline"]
    return ModelChoice(provider=provider, model=model, base_url=settings.llm_base_url)


def chat_model(settings: Settings, *, temperature: float | None = None) -> BaseChatModel:
    """The configured chat model (see module contract); ``temperature`` None keeps the provider's default
    (newer Claude models refuse any other value)."""
    choice = select_provider(settings)
    if choice.provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        return ChatAnthropic(  # type: ignore[call-arg]
            model_name=choice.model,
            api_key=SecretStr(settings.anthropic_api_key or ""),
            base_url=choice.base_url,
            temperature=temperature,
            max_tokens_to_sample=MAX_TOKENS,
            timeout=TIMEOUT_SECONDS,
            max_retries=1,
            stop=None,
        )
    if choice.provider in ("openai", "openai_compatible"):
        from langchain_openai import ChatOpenAI

        key = settings.openai_api_key if choice.provider == "openai" else settings.llm_api_key
        return ChatOpenAI(
            model=choice.model,
            api_key=SecretStr(key or "not-needed"),
            base_url=choice.base_url,
            temperature=temperature,
            max_completion_tokens=MAX_TOKENS,
            timeout=TIMEOUT_SECONDS,
            max_retries=1,
        )
    return OfflineChatModel()
