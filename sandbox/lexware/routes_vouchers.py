"""/v1/vouchers (bookkeeping vouchers) and /v1/files (multipart upload, download)."""

from __future__ import annotations

import hashlib

from starlette.responses import JSONResponse, Response

from .documents import document_pdf, render_voucher
from .errors import ApiError, issue, legacy, not_found, regular
from .paging import WINDOW_MESSAGE, beyond_window, envelope, parse_int
from .pdf import is_intact
from .routing import Ctx, route
from .validate_voucher import validate_voucher
from .writes import action_result, stale_version

MAX_FILE = 5 * 1024 * 1024
EXTENSIONS = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xml": "application/xml",
}


def _voucher(ctx: Ctx) -> dict:
    rec = ctx.tenant.vouchers.get(ctx.params["id"])
    if rec is None:
        raise not_found(ctx.path)
    return rec


@route("GET", "/v1/vouchers/{id}", legacy_errors=True)
async def get_voucher(ctx: Ctx) -> JSONResponse:
    return JSONResponse(_voucher(ctx))


@route("GET", "/v1/vouchers", legacy_errors=True)
async def find_vouchers(ctx: Ctx) -> JSONResponse:
    """Deprecated exact voucherNumber search: a page of full vouchers without a sort key."""
    number = ctx.request.query_params.get("voucherNumber")
    if not number:
        raise ctx.bad_request("Missing required request parameter 'voucherNumber'", "voucherNumber")
    page = max(parse_int(ctx.request.query_params.get("page"), 0) or 0, 0)
    size = parse_int(ctx.request.query_params.get("size"), 25) or 25
    if size > 250:
        raise ctx.bad_request("parameter 'size' exceeds the limit")
    rows = [v for v in ctx.tenant.vouchers.values() if v.get("voucherNumber") == number]
    window = ctx.sb.config.search_window
    if beyond_window(page, size, len(rows), window):
        raise ctx.bad_request(WINDOW_MESSAGE)
    return JSONResponse(envelope(rows[page * size : (page + 1) * size], len(rows), page, size, None, window))


def _datetimes(ctx: Ctx) -> bool:
    return ctx.sb.config.voucher_write_dates == "datetime"


def _contact(ctx: Ctx, body: dict) -> dict | None:
    if body.get("useCollectiveContact"):
        return None
    return ctx.tenant.contacts.get(body.get("contactId") or "")


@route("POST", "/v1/vouchers", legacy_errors=True)
async def create_voucher(ctx: Ctx) -> JSONResponse:
    t = ctx.tenant
    body = await ctx.json()
    if not isinstance(body, dict):
        raise ApiError(legacy(406, [issue("invalid_value", None)]))
    status = body.get("voucherStatus") or "open"
    issues = [] if status in ("open", "unchecked") else [issue("invalid_value", "voucherStatus")]
    if body.get("version") not in (None, 0, 1):
        issues.append(issue("invalid_value", "version"))
    issues += validate_voucher(body, t.contacts, t.files, status, _datetimes(ctx))
    if issues:
        raise ApiError(legacy(406, issues))
    if status == "open" and not body.get("dueDate"):
        body = {**body, "dueDate": body["voucherDate"]}
    now = t.now()
    rec = render_voucher(
        body,
        rec_id=ctx.sb.new_id(),
        org_id=t.organization_id,
        status=status,
        created=now,
        updated=now,
        version=1,
        contact=_contact(ctx, body),
    )
    t.vouchers[rec["id"]] = rec
    if status == "open":
        t.payments[rec["id"]] = {"items": [], "paidDate": None}
    ctx.sb.changed(t, "vouchers", rec["id"], "voucher.created")
    return action_result(ctx, rec, "vouchers", created=True)


@route("PUT", "/v1/vouchers/{id}", legacy_errors=True)
async def update_voucher(ctx: Ctx) -> JSONResponse:
    t = ctx.tenant
    rec = _voucher(ctx)
    body = await ctx.json()
    if not isinstance(body, dict) or body.get("version") != rec["version"]:
        raise stale_version(ctx, "vouchers")
    current, wanted = rec["voucherStatus"], body.get("voucherStatus")
    transition = current == "unchecked" and wanted == "open"
    # documented (since 14.07.2026): an unchecked voucher may only be PUT to finalize it to open;
    # --unchecked-voucher-put keep: a PUT without a status is accepted and the voucher stays unchecked
    kept = current == "unchecked" and wanted is None and ctx.sb.config.unchecked_voucher_put == "keep"
    if (wanted is not None and not transition) or (current == "unchecked" and not (transition or kept)):
        raise ApiError(legacy(406, [issue("invalid_value", "voucherStatus")]))
    status = "open" if transition else current
    checked_as = "unchecked" if status in ("unchecked", "blank") else "open"
    issues = validate_voucher(body, t.contacts, t.files, checked_as, _datetimes(ctx))
    if issues:
        raise ApiError(legacy(406, issues))
    if status == "open" and not body.get("dueDate"):
        body = {**body, "dueDate": body["voucherDate"]}
    for fid in set(rec["files"]) - set(body.get("files") or []):
        t.files.pop(fid, None)  # omitted file ids are deleted permanently
    new = render_voucher(
        body,
        rec_id=rec["id"],
        org_id=rec["organizationId"],
        status=status,
        created=rec["createdDate"],
        updated=rec["updatedDate"],
        version=rec["version"],
        contact=_contact(ctx, body),
    )
    rec.clear()
    rec.update(new)
    t.touch(rec)
    if transition:
        t.payments.setdefault(rec["id"], {"items": [], "paidDate": None})
    ctx.sb.changed(t, "vouchers", rec["id"], "voucher.changed", status_changed=transition)
    return action_result(ctx, rec, "vouchers")


async def _upload(ctx: Ctx) -> tuple[bytes, str, str]:
    """(content, extension, form type) of a multipart upload, or the real error."""
    ctype = ctx.request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(regular(415, ctx.path, f"Content type '{ctype}' not supported"))
    form = await ctx.request.form(max_part_size=MAX_FILE + 1024 * 1024)
    part = form.get("file")
    if part is None or isinstance(part, str):
        raise ApiError(legacy(500, [issue("technical_error", None, "technical_error")]))
    content = await part.read()
    ext = (part.filename or "").rsplit(".", 1)[-1].lower() if "." in (part.filename or "") else ""
    if len(content) > MAX_FILE:
        raise ApiError(legacy(406, [issue("max_file_size_exceeded", "file")]))
    if ext not in EXTENSIONS:
        raise ApiError(legacy(406, [issue("inacceptable_file_extension", "file")]))
    if ext == "pdf" and not is_intact(content):
        raise ApiError(legacy(406, [issue("voucher_upload_toxic_pdf", "file")]))
    if ext == "png" and not content.startswith(b"\x89PNG"):
        raise ApiError(legacy(406, [issue("image_conversion_error", "file")]))
    return content, ext, str(form.get("type") or "")


def _store_file(ctx: Ctx, content: bytes, ext: str, voucher_id: str | None) -> tuple[str, bool]:
    checksum = hashlib.sha256(content).hexdigest()
    for fid, f in ctx.tenant.files.items():
        if f["checksum"] == checksum:
            return fid, False
    fid = ctx.sb.new_id()
    ctx.tenant.files[fid] = {"content": content, "ext": ext, "checksum": checksum, "voucherId": voucher_id}
    return fid, True


@route("POST", "/v1/vouchers/{id}/files", legacy_errors=True)
async def attach_file(ctx: Ctx) -> JSONResponse:
    rec = _voucher(ctx)
    content, ext, _ = await _upload(ctx)
    fid, _new = _store_file(ctx, content, ext, rec["id"])
    if fid not in rec["files"]:
        rec["files"].append(fid)
        ctx.tenant.touch(rec)
        ctx.sb.changed(ctx.tenant, "vouchers", rec["id"], "voucher.changed")
    return JSONResponse({"id": fid}, status_code=202)


@route("POST", "/v1/files", legacy_errors=True)
async def upload_file(ctx: Ctx) -> JSONResponse:
    t = ctx.tenant
    content, ext, form_type = await _upload(ctx)
    if form_type != "voucher":
        raise ctx.bad_request("Invalid or missing upload type.", "type")
    fid, new = _store_file(ctx, content, ext, None)
    if not new:
        return JSONResponse({"id": fid, "voucherId": t.files[fid]["voucherId"]}, status_code=202)
    now = t.now()
    body = {
        "type": "purchaseinvoice",
        "totalGrossAmount": 0,
        "totalTaxAmount": 0,
        "taxType": "gross",
        "useCollectiveContact": True,
        "voucherItems": [],
        "files": [fid],
    }
    rec = render_voucher(
        body,
        rec_id=ctx.sb.new_id(),
        org_id=t.organization_id,
        status="blank",
        created=now,
        updated=now,
        version=1,
        contact=None,
    )
    t.vouchers[rec["id"]] = rec
    t.files[fid]["voucherId"] = rec["id"]
    ctx.sb.changed(t, "vouchers", rec["id"], None)
    ctx.sb.after_ocr(t, rec["id"])
    return JSONResponse({"id": fid, "voucherId": rec["id"]}, status_code=202)


_ACCEPTED = ("*/*", "application/pdf", "image/jpeg", "image/png", "application/xml")


@route("GET", "/v1/files/{id}", legacy_errors=True)
async def download_file(ctx: Ctx) -> Response:
    """An uploaded file, or the PDF of a finalized invoice / credit note by its `documentFileId`
    (from `GET .../document`; the deprecated way to the bytes `GET .../file` serves)."""
    f = ctx.tenant.files.get(ctx.params["id"])
    if f is None:
        document = ctx.tenant.document_by_file_id(ctx.params["id"])
        if document is None:
            raise not_found(ctx.path)
        f = {"content": document_pdf(document), "ext": "pdf"}
    accept = ctx.request.headers.get("accept", "*/*")
    wanted = [a.split(";")[0].strip() for a in accept.split(",")]
    if not any(a in _ACCEPTED for a in wanted):
        raise ApiError(regular(406, ctx.path, "Not Acceptable"))
    if wanted == ["application/xml"] and f["ext"] != "xml":
        raise not_found(ctx.path)
    return Response(
        f["content"],
        media_type=EXTENSIONS[f["ext"]],
        headers={"Content-Disposition": f"inline; filename={ctx.params['id']}.{f['ext']};"},
    )
