"""A program on the client openapi-python-client generates (`make clients`, into
`clients/generated/python/thidua_client`), type-checked with it under `mypy --strict`: a contract
change that breaks this fails the build."""

from thidua_client import AuthenticatedClient
from thidua_client.api.figures import get_figure_set
from thidua_client.api.scoring import thaw_standings_freeze
from thidua_client.models import FigureOut, FigureSetOut, FreezeConflict, FreezeOut, Problem, ThawIn


def connect(base_url: str, api_key: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=base_url, token=api_key, headers={"Accept-Language": "vi"})


def rate(figure: FigureOut) -> float | None:
    """A figure is a number, never an empty wrapper: a rate by its parts. (A float here: read the
    JSON with `json.loads(text, parse_float=Decimal)` where every digit matters.)"""
    if figure.value is not None:
        return figure.value
    if figure.numerator is None or not figure.denominator:
        return None
    return 100 * figure.numerator / figure.denominator


def figures(client: AuthenticatedClient, unit_id: int, period: str) -> list[FigureOut]:
    answer = get_figure_set.sync(unit_id, period, client=client)
    if isinstance(answer, Problem):
        raise RuntimeError(f"{answer.status} {answer.title}")
    if not isinstance(answer, FigureSetOut):
        raise RuntimeError("unexpected answer")
    return answer.values


def thaw(client: AuthenticatedClient, number: int, year: int, freeze: int, reason: str) -> FreezeOut:
    """The thaw is `thaw_standings_freeze` (it was `revoke_standings_freeze`)."""
    answer = thaw_standings_freeze.sync(number, year, freeze, client=client, body=ThawIn(reason=reason))
    if isinstance(answer, FreezeConflict | Problem):
        raise RuntimeError(f"{answer.status} {answer.title}")
    if answer is None:
        raise RuntimeError("no answer")
    return answer
