"""REST routes of grading (定级) and filing (备案) under /api/compliance (thin: parse, call a service, return)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse, Response

from ciimap.compliance import (
    assessment,
    evidence,
    obligations,
    overview,
    rectification,
    reports,
    scoring,
    service,
)
from ciimap.compliance.models import (
    AssessmentKind,
    AssessmentState,
    GradingState,
    HarmDegree,
    HarmObject,
    ObligationKind,
    ObligationState,
    RectStatus,
)
from ciimap.compliance.schemas import (
    AdvanceIn,
    AssessmentDetail,
    AssessmentIn,
    AssessmentRead,
    BulkIn,
    BulkRead,
    CloseIn,
    ConcludeRead,
    DoneIn,
    DoneRead,
    EvidenceRead,
    EvidenceSummary,
    GradeResult,
    GradingIn,
    GradingRead,
    GradingUpdate,
    ItemRow,
    Judgement,
    KeyPostIn,
    KeyPostRead,
    KeyPostUpdate,
    LinkIn,
    LinkRead,
    MatrixRead,
    ObligationRead,
    ProgressRead,
    RectificationIn,
    RectificationRead,
    RectificationUpdate,
    ResultIn,
    ResultRead,
    RiskIn,
    RiskRead,
    ScoreRead,
    SystemEvidence,
    TestObjectIn,
    TestObjectRead,
    TrainingIn,
    TrainingRead,
)
from ciimap.core import uploads
from ciimap.core.deps import DbSession, Reader, Writer
from ciimap.core.openapi import NOT_FOUND
from ciimap.core.schemas import Int32
from ciimap.web.i18n import Translator

#: Each evidence record's reason, rendered through the web catalogs: ``why`` English, ``why_zh`` Chinese.
REASON_TEXT = {"why": Translator("en"), "why_zh": Translator("zh-CN")}

router = APIRouter(prefix="/compliance", tags=["Compliance"])


@router.get(
    "/grading/matrix", response_model=MatrixRead, summary="The grading matrix in force (GB/T 22240-2020)"
)
def matrix(principal: Reader) -> Any:
    return service.matrix_info()


@router.get(
    "/grade", response_model=GradeResult, summary="S, A and final level of two judgements (nothing stored)"
)
def grade(
    principal: Reader,
    s_object: HarmObject = Query(..., description="object harmed when business information is damaged (S)"),
    s_degree: HarmDegree = Query(...),
    a_object: HarmObject = Query(..., description="object harmed when the service is disrupted (A)"),
    a_degree: HarmDegree = Query(...),
) -> Any:
    return service.grade(
        Judgement(s_object=s_object, s_degree=s_degree, a_object=a_object, a_degree=a_degree)
    )


@router.get(
    "/overview",
    summary="Compliance overview: per system level, filing state, latest conclusion and score trend, "
    "open and overdue rectifications; tallies by level, filing state and conclusion",
)
def get_overview(db: DbSession, principal: Reader) -> dict[str, Any]:
    return overview.overview(db)


@router.get(
    "/gradings", response_model=list[GradingRead], responses=NOT_FOUND, summary="Gradings, every round"
)
def list_gradings(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    state: GradingState | None = None,
    current: bool = Query(False, description="only each system's current (latest filed) round"),
) -> Any:
    return service.list_gradings(db, system_id=system_id, state=state, current_only=current)


@router.get(
    "/gradings/due",
    response_model=list[GradingRead],
    summary="Open gradings whose filing (备案) is overdue or due within `within` days",
)
def due(db: DbSession, principal: Reader, within: int = Query(30, ge=0, le=3650)) -> Any:
    return service.due(db, within_days=within)


@router.get("/gradings/{grading_id}", response_model=GradingRead, responses=NOT_FOUND, summary="One grading")
def get_grading(grading_id: Int32, db: DbSession, principal: Reader) -> Any:
    return service.describe(db, grading_id=grading_id)


@router.post(
    "/gradings",
    response_model=GradingRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Start a grading round (初步定级) for a system",
)
def create_grading(db: DbSession, principal: Writer, data: GradingIn) -> Any:
    return service.describe(db, grading_id=service.create_grading(db, data=data).id)


@router.patch(
    "/gradings/{grading_id}",
    response_model=GradingRead,
    responses=NOT_FOUND,
    summary="Change a draft grading",
)
def update_grading(grading_id: Int32, db: DbSession, principal: Writer, changes: GradingUpdate) -> Any:
    return service.describe(
        db, grading_id=service.update_grading(db, grading_id=grading_id, changes=changes).id
    )


@router.post(
    "/gradings/{grading_id}/advance",
    response_model=GradingRead,
    responses=NOT_FOUND,
    summary="Advance a grading: review (专家评审), approved (主管部门核准), filed (公安机关备案) or withdrawn",
)
def advance(grading_id: Int32, db: DbSession, principal: Writer, data: AdvanceIn) -> Any:
    return service.describe(db, grading_id=service.advance(db, grading_id=grading_id, data=data).id)


# --- assessments (测评), scoring, rectification (整改) ------------------------------------------------------


@router.get(
    "/conclude", response_model=ConcludeRead, summary="测评结论 of a score and risk counts (nothing stored)"
)
def conclude(
    principal: Reader,
    score: float = Query(..., description="overall score, 0–100"),
    high_risks: int = Query(..., ge=0, le=100000),
    medium_risks: int = Query(..., ge=0, le=100000),
) -> Any:
    return scoring.conclude(score, high_risks, medium_risks)


@router.get(
    "/scoring/profile", summary="The scoring profile in force (built-in or CIIMAP_COMPLIANCE_SCORING_PROFILE)"
)
def scoring_profile(principal: Reader) -> Any:
    return scoring.profile_info()


@router.get(
    "/assessments", response_model=list[AssessmentRead], responses=NOT_FOUND, summary="Assessments (测评)"
)
def list_assessments(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    state: AssessmentState | None = None,
    kind: AssessmentKind | None = None,
) -> Any:
    return assessment.list_assessments(db, system_id=system_id, state=state, kind=kind)


@router.post(
    "/assessments",
    response_model=AssessmentDetail,
    status_code=201,
    responses=NOT_FOUND,
    summary="Start an assessment: the applicable items are chosen by the system's level, S/A and extensions",
)
def create_assessment(db: DbSession, principal: Writer, data: AssessmentIn) -> Any:
    return assessment.describe(db, assessment_id=assessment.create_assessment(db, data=data).id)


@router.get(
    "/assessments/{assessment_id}",
    response_model=AssessmentDetail,
    responses=NOT_FOUND,
    summary="One assessment: counts, test objects, risk register",
)
def get_assessment(assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    return assessment.describe(db, assessment_id=assessment_id)


@router.get(
    "/assessments/{assessment_id}/items",
    response_model=list[ItemRow],
    responses=NOT_FOUND,
    summary="The workspace: items with their results per test object",
)
def assessment_items(
    assessment_id: Int32,
    db: DbSession,
    principal: Reader,
    category: str | None = Query(None, max_length=60),
    result: str | None = Query(None, description="pass | partial | fail | na | unset"),
    object_id: Int32 | None = None,
) -> Any:
    return assessment.items(
        db, assessment_id=assessment_id, category=category, result=result, object_id=object_id
    )


@router.get(
    "/assessments/{assessment_id}/score",
    response_model=ScoreRead,
    responses=NOT_FOUND,
    summary="Control-point and overall scores, risk counts and the conclusion they give",
)
def assessment_score(assessment_id: Int32, db: DbSession, principal: Reader) -> Any:
    return assessment.score(db, assessment_id=assessment_id)


@router.post(
    "/assessments/{assessment_id}/objects",
    response_model=TestObjectRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Add a test object (测评对象): an asset or a named object",
)
def add_object(assessment_id: Int32, db: DbSession, principal: Writer, data: TestObjectIn) -> Any:
    return assessment.add_object(db, assessment_id=assessment_id, data=data)


@router.put(
    "/assessments/{assessment_id}/results",
    response_model=ResultRead,
    responses=NOT_FOUND,
    summary="Save one item × test object result",
)
def set_result(assessment_id: Int32, db: DbSession, principal: Writer, data: ResultIn) -> Any:
    return assessment.set_result(db, assessment_id=assessment_id, data=data)


@router.post(
    "/assessments/{assessment_id}/results/bulk",
    response_model=BulkRead,
    responses=NOT_FOUND,
    summary="One result for many items × test objects (one transaction)",
)
def bulk_set(assessment_id: Int32, db: DbSession, principal: Writer, data: BulkIn) -> Any:
    return assessment.bulk_set(db, assessment_id=assessment_id, data=data)


@router.post(
    "/assessments/{assessment_id}/risks",
    response_model=RiskRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Add a risk to the register (high / medium / low)",
)
def add_risk(assessment_id: Int32, db: DbSession, principal: Writer, data: RiskIn) -> Any:
    return assessment.add_risk(db, assessment_id=assessment_id, data=data)


@router.delete(
    "/assessments/{assessment_id}/risks/{risk_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Remove a risk",
)
def delete_risk(assessment_id: Int32, risk_id: Int32, db: DbSession, principal: Writer) -> None:
    assessment.delete_risk(db, assessment_id=assessment_id, risk_id=risk_id)


@router.post(
    "/assessments/{assessment_id}/close",
    response_model=AssessmentDetail,
    responses=NOT_FOUND,
    summary="Close: score, risk counts and conclusion are kept, results fixed",
)
def close_assessment(assessment_id: Int32, db: DbSession, principal: Writer, data: CloseIn) -> Any:
    assessment.close(db, assessment_id=assessment_id, closed_on=data.closed_on)
    return assessment.describe(db, assessment_id=assessment_id)


@router.get("/results/{result_id}", response_model=ResultRead, responses=NOT_FOUND, summary="One result")
def get_result(result_id: Int32, db: DbSession, principal: Reader) -> Any:
    return assessment.get_result(db, result_id=result_id)


@router.post(
    "/results/{result_id}/evidence",
    response_model=EvidenceRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Upload an evidence file (stored with its SHA-256; over CIIMAP_MAX_UPLOAD_MB: 413)",
)
def add_evidence(result_id: Int32, db: DbSession, principal: Writer, file: UploadFile = File(...)) -> Any:
    up = uploads.store([file])
    try:
        return assessment.attach_evidence(db, result_id=result_id, source=up.paths[0], filename=file.filename)
    finally:
        uploads.discard(up.folder)


@router.get("/evidence/{evidence_id}", responses=NOT_FOUND, summary="Download an evidence file")
def get_evidence(evidence_id: Int32, db: DbSession, principal: Reader) -> Any:
    path, name = assessment.evidence_file(db, evidence_id=evidence_id)
    return FileResponse(path, filename=name, media_type="application/octet-stream")


@router.post(
    "/links", response_model=LinkRead, status_code=201, responses=NOT_FOUND, summary="Link to a map record"
)
def add_link(db: DbSession, principal: Writer, data: LinkIn) -> Any:
    return assessment.add_link(db, data=data)


@router.delete("/links/{link_id}", status_code=204, responses=NOT_FOUND, summary="Remove a link")
def remove_link(link_id: Int32, db: DbSession, principal: Writer) -> None:
    assessment.remove_link(db, link_id=link_id)


@router.get(
    "/rectifications",
    response_model=list[RectificationRead],
    responses=NOT_FOUND,
    summary="Rectification items (整改)",
)
def list_rectifications(
    db: DbSession,
    principal: Reader,
    system_id: Int32 | None = None,
    assessment_id: Int32 | None = None,
    status: RectStatus | None = None,
    overdue: bool = False,
) -> Any:
    return rectification.list_rectifications(
        db, system_id=system_id, assessment_id=assessment_id, status=status, overdue=overdue
    )


@router.get(
    "/rectifications/progress",
    response_model=list[ProgressRead],
    responses=NOT_FOUND,
    summary="整改进度 per system",
)
def rectification_progress(db: DbSession, principal: Reader, system_id: Int32 | None = None) -> Any:
    return rectification.progress(db, system_id=system_id)


@router.get(
    "/rectifications/{rectification_id}",
    response_model=RectificationRead,
    responses=NOT_FOUND,
    summary="One rectification item",
)
def get_rectification(rectification_id: Int32, db: DbSession, principal: Reader) -> Any:
    return rectification.describe(db, rectification_id=rectification_id)


@router.post(
    "/rectifications",
    response_model=RectificationRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="A rectification of a 不符合 / 部分符合 result or a high or medium risk",
)
def create_rectification(db: DbSession, principal: Writer, data: RectificationIn) -> Any:
    return rectification.describe(db, rectification_id=rectification.create(db, data=data).id)


@router.patch(
    "/rectifications/{rectification_id}",
    response_model=RectificationRead,
    responses=NOT_FOUND,
    summary="Change owner, plan, due date or status",
)
def update_rectification(
    rectification_id: Int32, db: DbSession, principal: Writer, changes: RectificationUpdate
) -> Any:
    rectification.update(db, rectification_id=rectification_id, changes=changes)
    return rectification.describe(db, rectification_id=rectification_id)


# --- evidence from the map (docs/compliance-evidence.md) ----------------------------------------------


@router.get(
    "/evidence",
    response_model=EvidenceSummary,
    summary="Evidence from the map: the result each rule proposes, per system (nothing stored)",
)
def evidence_summary(
    db: DbSession,
    principal: Reader,
    fresh: bool = Query(False, description="recompute even when the map has not changed"),
) -> Any:
    return evidence.summary(db, fresh=fresh)


@router.get(
    "/systems/{system_id}/evidence",
    response_model=SystemEvidence,
    responses=NOT_FOUND,
    summary="Evidence from the map for one system: proposed results with the records behind them",
)
def system_evidence(
    system_id: Int32,
    db: DbSession,
    principal: Reader,
    fresh: bool = Query(False, description="recompute even when the map has not changed"),
) -> Any:
    return evidence.with_reasons(evidence.for_system(db, system_id=system_id, fresh=fresh), REASON_TEXT)


# --- CII obligations and calendar (docs/compliance-obligations.md) -------------------------------------

AS_OF = Query(None, description="the day the states are computed for (default: today)")


def _today(as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else dt.date.today()


@router.get(
    "/obligations",
    response_model=list[ObligationRead],
    responses=NOT_FOUND,
    summary="CII obligations with due date and state (derived from the map and recorded)",
)
def list_obligations(
    db: DbSession,
    principal: Reader,
    state: ObligationState | None = Query(None),
    kind: ObligationKind | None = Query(None),
    system_id: Int32 | None = Query(None),
    as_of: dt.date | None = AS_OF,
) -> Any:
    return obligations.obligations(db, today=_today(as_of), state=state, kind=kind, system_id=system_id)


@router.get(
    "/calendar",
    response_model=list[ObligationRead],
    summary="Every dated obligation due in a range, by due date, with its state",
)
def obligation_calendar(
    db: DbSession,
    principal: Reader,
    start: dt.date | None = Query(None, alias="from", description="default: 1 January last year"),
    end: dt.date | None = Query(None, alias="to", description="default: a year from today"),
    as_of: dt.date | None = AS_OF,
) -> Any:
    return obligations.calendar(db, today=_today(as_of), start=start, end=end)


@router.post(
    "/obligations/done",
    response_model=DoneRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="Record that a CII system's yearly security test and risk assessment was done",
)
def record_done(db: DbSession, principal: Writer, data: DoneIn) -> Any:
    return obligations.record_done(db, data=data, today=dt.date.today())


@router.get("/keyposts", response_model=list[KeyPostRead], summary="Key posts (关键岗位) and their staffing")
def list_keyposts(db: DbSession, principal: Reader, organization_id: Int32 | None = Query(None)) -> Any:
    return obligations.list_posts(db, organization_id=organization_id)


@router.post(
    "/keyposts", response_model=KeyPostRead, status_code=201, responses=NOT_FOUND, summary="A key post"
)
def create_keypost(db: DbSession, principal: Writer, data: KeyPostIn) -> Any:
    return obligations.describe_post(db, post_id=obligations.create_post(db, data=data).id)


@router.patch(
    "/keyposts/{post_id}", response_model=KeyPostRead, responses=NOT_FOUND, summary="Change a key post"
)
def update_keypost(post_id: Int32, db: DbSession, principal: Writer, changes: KeyPostUpdate) -> Any:
    obligations.update_post(db, post_id=post_id, changes=changes)
    return obligations.describe_post(db, post_id=post_id)


@router.put(
    "/keyposts/{post_id}/members/{contact_id}",
    response_model=KeyPostRead,
    responses=NOT_FOUND,
    summary="A person shares the duty of a key post",
)
def add_keypost_member(post_id: Int32, contact_id: Int32, db: DbSession, principal: Writer) -> Any:
    obligations.add_member(db, post_id=post_id, contact_id=contact_id)
    return obligations.describe_post(db, post_id=post_id)


@router.delete(
    "/keyposts/{post_id}/members/{contact_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="A person no longer shares the duty of a key post",
)
def remove_keypost_member(post_id: Int32, contact_id: Int32, db: DbSession, principal: Writer) -> None:
    obligations.remove_member(db, post_id=post_id, contact_id=contact_id)


@router.get("/training", response_model=list[TrainingRead], responses=NOT_FOUND, summary="Training sessions")
def list_training(
    db: DbSession,
    principal: Reader,
    contact_id: Int32 | None = Query(None),
    year: int | None = Query(None, ge=1900, le=2199),
) -> Any:
    return obligations.list_training(db, contact_id=contact_id, year=year)


@router.post(
    "/training",
    response_model=TrainingRead,
    status_code=201,
    responses=NOT_FOUND,
    summary="A training session",
)
def add_training(db: DbSession, principal: Writer, data: TrainingIn) -> Any:
    t = obligations.add_training(db, data=data, today=dt.date.today())
    return next(r for r in obligations.list_training(db, contact_id=t.contact_id) if r["id"] == t.id)


# --- reports (issue 12 item 8: docs/compliance-reports.md) -----------------------------------------------


@router.get(
    "/reports/{kind}/{ref_id}",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {
            "description": "The report file (Content-Disposition names it, RFC 5987 for Chinese names)",
            "content": {media: {} for media in reports.MEDIA_TYPES.values()},
        },
    },
    summary="A report as DOCX, PDF or XLSX: grading (id of a grading), assessment (of an assessment), "
    "rectification (of a system)",
)
def get_report(
    kind: reports.ReportKind,
    ref_id: Int32,
    db: DbSession,
    principal: Reader,
    fmt: reports.ReportFormat = Query(..., alias="format"),
    lang: reports.ReportLang = Query("zh"),
) -> Response:
    data, name, media = reports.render(db, kind=kind, ref_id=ref_id, fmt=fmt, lang=lang)
    fallback = f"{kind}-{ref_id}.{fmt}"  # for clients that do not read filename*
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})
