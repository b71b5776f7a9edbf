"""Where a client finds the OpenID provider people sign in with: the discovery document the
OpenAPI document's `openIdConnect` scheme names (relative, so that it is this server's)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.core.errors import NotFound, problem_responses
from app.core.i18n import _

DISCOVERY_PATH = "/v1/auth/openid-configuration"

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.get(
    "/openid-configuration",
    operation_id="getOpenIdConfiguration",
    summary="The OpenID provider people sign in with",
    description="A redirect (307) to the discovery document of the first configured issuer "
    "(`OIDC_ISSUERS`): its authorization and token endpoints, for the authorization-code flow "
    "with PKCE (RFC 7636; RFC 8252 for native apps). 404 when sign-in is not configured (API "
    "keys only). No credential is needed.",
    status_code=307,
    response_class=RedirectResponse,
    responses={
        307: {"description": "The provider's `/.well-known/openid-configuration`."},
        **problem_responses(404),
    },
)
async def openid_configuration(request: Request) -> RedirectResponse:
    issuers: list[str] = request.app.state.settings.oidc_issuers
    if not issuers:
        raise NotFound(_("Sign-in is not configured on this server: use an API key."))
    return RedirectResponse(issuers[0].rstrip("/") + "/.well-known/openid-configuration", status_code=307)
