"""Operations pages: imports with live progress and the change-event feed (users: views_users)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from ciimap.core import jobs, uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.errors import Invalid, NotFound, TooLarge
from ciimap.web import domains
from ciimap.web.render import locale_for, render

router = APIRouter(include_in_schema=False)


@router.get("/imports")
def imports_page(request: Request, db: DbSession, principal: Writer) -> Any:
    recent = jobs.list_jobs(db, kind="import", limit=15)
    return render(
        request,
        "imports.html",
        principal,
        active="imports",
        kinds=domains.import_kinds(locale_for(request, principal)),
        target_kinds=domains.target_kinds(),
        targets=domains.import_targets(db),
        recent=recent,
    )


@router.post("/imports")
async def start_import(
    request: Request,
    db: DbSession,
    principal: Writer,
    kind: Annotated[str, Form()],
    files: Annotated[list[UploadFile], File()],
    target: Annotated[str, Form()] = "",
) -> Any:
    """Queue an import; a bad kind or target (an SBOM needs one existing system or asset) is one
    message, and nothing is stored or queued."""
    try:
        domains.parse_target(target)
        up = await uploads.store_async(files)
        with up.until_queued():
            job = domains.submit_import(
                db,
                kind=kind,
                paths=[str(p) for p in up.paths],
                actor=principal.username,
                upload_dir=up.folder,
                target=target,
            )
    except TooLarge:
        raise  # the app's one 413 answer, as for every upload
    except (Invalid, NotFound) as e:
        db.rollback()
        return render(request, "partials/message.html", principal, status_code=422, error=e.message)
    return render(request, "partials/job.html", principal, job=job)


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: int, db: DbSession, principal: Reader) -> Any:
    """htmx polls this fragment every second until the job has finished."""
    return render(request, "partials/job.html", principal, job=jobs.get(db, job_id))


@router.get("/changes")
def changes_page(request: Request, db: DbSession, principal: Reader, page: int = Query(1, ge=1)) -> Any:
    feed = domains.change_feed(db, page=page)
    return render(request, "changes.html", principal, active="changes", feed=feed)
