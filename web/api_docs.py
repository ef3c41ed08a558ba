"""The API's description (/openapi.json) and its two readers (/docs, /redoc), for signed-in callers only:
a bearer token (for tools) or a signed-in session (for people). Everyone else learns nothing of the routes."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from web.api import UNAUTHORISED, bearer_principal
from web.error_pages import SignInRequired
from web.pages import page_principal

# The readers' pages load their scripts from a CDN; only these pages may.
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)


async def _signed_in(request: Request) -> None:
    if request.headers.get("authorization"):
        await bearer_principal(request)
        return
    try:
        await page_principal(request)
    except SignInRequired:
        raise HTTPException(
            status_code=401, detail="sign in (a session, or Authorization: Bearer TOKEN)", headers=UNAUTHORISED
        ) from None


def api_docs_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        await _signed_in(request)
        return JSONResponse(request.app.openapi())

    @router.get("/docs")
    async def swagger(request: Request) -> HTMLResponse:
        await _signed_in(request)
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Careers Impact System API")
        page.headers["Content-Security-Policy"] = _DOCS_POLICY
        return page

    @router.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        await _signed_in(request)
        page = get_redoc_html(openapi_url="/openapi.json", title="Careers Impact System API")
        page.headers["Content-Security-Policy"] = _DOCS_POLICY
        return page

    return router
