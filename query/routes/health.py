"""Whether the process is up, whether the store can be read, and the Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.metrics import REGISTRY
from query.api_params import BackendParam
from query.models import Health

liveness = APIRouter(tags=["health"])
router = APIRouter(tags=["health"])


@liveness.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up (no backend call, never behind the key)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(store: BackendParam) -> dict[str, str] | JSONResponse:
    """The backend can be read."""
    try:
        detail = store.ping()
    except Exception as exc:  # any failure to reach the store means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
    return {"status": "ready", "detail": detail}


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics() -> Response:
    """Prometheus text: the pipeline's counters and the API's requests and latency."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
