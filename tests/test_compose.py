"""compose.yaml and deploy/nginx.conf: valid against the Compose Specification's JSON schema (what
`docker compose config` checks, without Docker), and wired together as the README says, which no
schema can see."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from app.core.config import PROJECT_ROOT, Settings
from tests.test_deploy import final_stage

COMPOSE_FILE = PROJECT_ROOT / "compose.yaml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX_CONF = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def nginx_directives(conf: str) -> list[tuple[str, str]]:
    """(name, arguments) of every simple directive (`name args;`), in order, comments dropped."""
    text = re.sub(r"#[^\n]*", "", conf)
    return [(m[1], " ".join(m[2].split())) for m in re.finditer(r"(?m)^\s*(\w+)\s+([^;{}]*);", text)]


NGINX = nginx_directives(NGINX_CONF)


def directive(name: str) -> str:
    values = [args for found, args in NGINX if found == name]
    assert len(values) == 1, f"{name}: {values}"
    return values[0]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version" not in COMPOSE, "the Compose Specification has no version"


def test_the_database_is_a_current_postgresql_with_its_data_in_a_named_volume() -> None:
    db = SERVICES["db"]
    assert int(re.fullmatch(r"postgres:(\d+)(\.\d+)?(-\w+)?", db["image"])[1]) >= 18  # type: ignore[index]
    volume, target = db["volumes"][0].split(":")[:2]
    assert volume in COMPOSE["volumes"]
    assert target == "/var/lib/postgresql", "PostgreSQL 18's image keeps PGDATA below it"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_the_api_reaches_the_db_service_and_waits_for_it() -> None:
    api, db = SERVICES["api"], SERVICES["db"]
    url = re.fullmatch(r"postgresql://([^:]+):(.+)@([\w-]+):(\d+)/(\w+)", api["environment"]["DATABASE_URL"])
    assert url is not None
    user, password, host, _, database = url.groups()
    assert host == "db"
    assert host in SERVICES
    assert (user, password, database) == (
        db["environment"]["POSTGRES_USER"],
        db["environment"]["POSTGRES_PASSWORD"],
        db["environment"]["POSTGRES_DB"],
    )
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["build"] == "."
    assert api["deploy"]["replicas"] == 2
    assert api["environment"]["TRUSTED_PROXIES"] == "*", "the app must believe nginx's X-Forwarded-For"
    assert "FORWARDED_ALLOW_IPS" not in api["environment"], "TRUSTED_PROXIES replaces uvicorn's own"
    assert "ports" not in api, "only through the proxy"


def test_the_proxy_publishes_8000_and_forwards_to_the_api_replicas() -> None:
    proxy = SERVICES["proxy"]
    nginx_version = re.fullmatch(r"nginx:(\d+)\.(\d+)(\.\d+)?(-\w+)?", proxy["image"])
    assert nginx_version is not None
    assert (int(nginx_version[1]), int(nginx_version[2])) >= (1, 28), "upstream `resolve` needs 1.27.3"
    published, container_port = proxy["ports"][0].split(":")
    assert published == "8000"
    assert directive("listen") == container_port
    source, target = proxy["volumes"][0].split(":")[:2]
    assert (PROJECT_ROOT / source).resolve() == PROJECT_ROOT / "deploy" / "nginx.conf"
    assert target.startswith("/etc/nginx/conf.d/")

    image_port = re.search(r"\bPORT=(\d+)", dict(final_stage())["ENV"])
    assert image_port is not None
    assert directive("server") == f"api:{image_port[1]} resolve"
    assert directive("proxy_pass") == "http://api"
    assert directive("resolver").startswith("127.0.0.11 "), "Docker's DNS"
    assert directive("zone").startswith("api ")
    assert directive("hash") == "$balance_key consistent"
    assert re.search(r"map \$http_authorization \$balance_key \{\s*\"\"\s+\$remote_addr;", NGINX_CONF)


def test_nginx_guards_against_slow_clients_and_leaves_compression_to_the_app() -> None:
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        assert re.fullmatch(r"\d+s", directive(name)), name
    assert directive("reset_timedout_connection") == "on"
    assert directive("gzip") == "off"
    assert directive("limit_conn").startswith("per_address ")
    assert directive("limit_conn_zone").endswith("zone=per_address:10m")
    size = re.fullmatch(r"(\d+)([kmg]?)", directive("client_max_body_size"))
    assert size is not None
    assert int(size[1]) * SIZE_UNITS[size[2]] == Settings().max_batch_bytes


def test_nginx_passes_the_client_and_the_request_id_on() -> None:
    headers = dict(args.split(" ", 1) for name, args in NGINX if name == "proxy_set_header")
    assert headers["X-Forwarded-For"] == "$remote_addr", "overwritten: a client cannot choose it"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Request-ID"] == "$request_id_out"
    assert re.search(r"map \$http_x_request_id \$request_id_out \{\s*\"\"\s+\$request_id;", NGINX_CONF)
    assert re.fullmatch(r"\d+s", directive("proxy_read_timeout"))
