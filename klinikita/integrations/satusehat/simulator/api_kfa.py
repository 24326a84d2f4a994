"""KFA v2 endpoints (API.md section 11.4) over the KFA subset in klinikita/terminology:

- `GET /kfa-v2/products/all?page=&size=&product_type=farmasi|alkes&keyword=`: a page of the
  products whose name holds every word of `keyword` (size at most 1000), as
  `{"page", "size", "total", "items": {"data": [...]}}`;
- `GET /kfa-v2/products?identifier=kfa&code=`: one product as `{"result": {...}}`, 404 when
  the code is unknown.

The same bearer token as the FHIR API is required (refused the same way without one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from klinikita.terminology.pharmacy_codes import KfaProduct, kfa_product, kfa_products

from . import errors
from .api_fhir import authenticate
from .responses import empty_not_found, json_response

if TYPE_CHECKING:
    from .simulator import Simulator

MAX_SIZE = 1000
_FARMALKES = {"farmasi": {"code": "medicine", "name": "Obat", "group": "farmasi"}}


def product_body(p: KfaProduct) -> dict[str, Any]:
    """A product in the KFA v2 response shape (the fields the platform's docs list)."""
    return {
        "kfa_code": p.kfa_code,
        "name": p.name,
        "active": True,
        "state": "valid",
        "farmalkes_type": _FARMALKES.get(p.product_type, {"group": p.product_type}),
        "dosage_form": {"code": p.form_code, "name": p.form_name} if p.form_code else None,
        "manufacturer": p.manufacturer or None,
        "nama_dagang": p.brand or None,
        "generik": p.kfa_code.startswith("92") or p.brand == "",
        "product_template": {"kfa_code": p.template_code} if p.template_code else None,
        "active_ingredients": [
            {
                "kfa_code": i.kfa_code or None,
                "zat_aktif": i.name,
                "kekuatan_zat_aktif": i.strength,
                "active": True,
                "state": "valid",
            }
            for i in p.ingredients
        ],
    }


def _bad_request(text: str) -> errors.FhirError:
    return errors.FhirError(400, {"message": text, "status": 400})


def _positive(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise _bad_request(f"{name} must be a positive integer")
    return int(raw)


def _search(request: Request) -> Response:
    page = _positive(request, "page", 1)
    size = _positive(request, "size", 10)
    if size > MAX_SIZE:
        raise _bad_request(f"size must be at most {MAX_SIZE}")
    product_type = request.query_params.get("product_type", "")
    if product_type not in ("farmasi", "alkes"):
        raise _bad_request("product_type must be farmasi or alkes")
    words = request.query_params.get("keyword", "").casefold().split()
    found = [
        p
        for p in kfa_products()
        if p.product_type == product_type
        and all(w in p.name.casefold() or w == p.kfa_code for w in words)
    ]
    start = (page - 1) * size
    body = {
        "page": page,
        "size": size,
        "total": len(found),
        "items": {"data": [product_body(p) for p in found[start : start + size]]},
    }
    return json_response(body, sort_keys=False)


def _detail(request: Request) -> Response:
    identifier = request.query_params.get("identifier", "")
    code = request.query_params.get("code", "")
    if identifier != "kfa":
        raise _bad_request("identifier must be kfa (nie and lkpp are not simulated)")
    product = kfa_product(code)
    if product is None:
        return json_response({"message": "Data not found", "status": 404}, 404)
    return json_response({"result": product_body(product)}, sort_keys=False)


async def handle(sim: Simulator, request: Request, sub_path: str) -> Response:
    """`sub_path` is what follows `/kfa-v2`."""
    authenticate(sim, request)
    if request.method != "GET":
        return empty_not_found()
    if sub_path.rstrip("/") == "/products/all":
        return _search(request)
    if sub_path.rstrip("/") == "/products":
        return _detail(request)
    return empty_not_found()
