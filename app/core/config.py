"""Settings, read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL 15+ URL. Unset: start the embedded server under data_dir.",
    )
    data_dir: Path = PROJECT_ROOT / ".data"
    embedded_database: str = "thidua"
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_pre_ping: bool = True
    page_default_limit: int = 50
    page_max_limit: int = 200
    max_request_bytes: int = 1_048_576
    idempotency_ttl_hours: int = 24
    name_similarity_threshold: float = Field(
        default=0.3,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="pg_trgm similarity (0 < x ≤ 1) from which a name is a `similar` match of a query.",
    )
    reference_dir: Path = PROJECT_ROOT / "data" / "reference"
    history_file: Path = PROJECT_ROOT / "data" / "history" / "seed_history.yaml"
    load_history_on_serve: bool = True
    log_level: str = "info"


@lru_cache
def get_settings() -> Settings:
    return Settings()
