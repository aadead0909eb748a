"""List and get-by-slug routes for every kind of record (thin: parse, call the service, shape)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.deps import FieldsQuery, PageDep, SessionDep
from app.api.problems import GET_ERRORS, LIST_ERRORS
from app.api.responses import list_response, record_response
from app.domain.evidence import EvidenceLevel
from app.domain.vocabulary import (
    ApprovalStatus,
    ClaimBasis,
    CodeSystem,
    ConditionCategory,
    MechanismAttribution,
    Route,
    SourceKind,
    TargetFamily,
    Verification,
)
from app.schemas import conditions as condition_schemas
from app.schemas import drugs as drug_schemas
from app.schemas import indications as indication_schemas
from app.schemas import mechanisms as mechanism_schemas
from app.schemas import regimens as regimen_schemas
from app.schemas import sources as source_schemas
from app.schemas import targets as target_schemas
from app.schemas.openapi import ok
from app.services import conditions, drugs, indications, mechanisms, regimens, sources, targets
from app.services.dataset import dataset_info

router = APIRouter(prefix="/v1")

SlugPath = Annotated[
    str, Path(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Record slug.")
]
CodeQuery = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=30,
        pattern=r"^[A-Za-z0-9.\-]+$",
        description="A condition code (ICD-10-CM or SNOMED CT). An ICD-10-CM code also matches its header "
        "categories (K50.90 finds K50).",
    ),
]
CodeSystemQuery = Annotated[CodeSystem | None, Query(description="Restrict `code` to one code system.")]


@router.get(
    "/drugs",
    operation_id="listDrugs",
    tags=["drugs"],
    summary="List drugs",
    responses={**ok(drug_schemas.DrugList, "A page of drugs.", "drug_list", paged=True), **LIST_ERRORS},
)
def list_drugs(request: Request, session: SessionDep, page: PageDep, fields: FieldsQuery = None) -> Response:
    """Drugs with identifiers (RxNorm, UNII, ATC, ...), salts, contraindications and approval history."""
    return list_response(request, drugs.list_drugs(session, page=page), dataset_info(session), fields)


@router.get(
    "/drugs/{slug}",
    operation_id="getDrug",
    tags=["drugs"],
    summary="Get a drug",
    responses={**ok(drug_schemas.DrugResponse, "The drug.", "drug"), **GET_ERRORS},
)
def get_drug(slug: SlugPath, session: SessionDep) -> Response:
    """One drug by slug (e.g. `naltrexone`)."""
    return record_response(drugs.get_drug(session, slug=slug), dataset_info(session))


@router.get(
    "/regimens",
    operation_id="listRegimens",
    tags=["regimens"],
    summary="List dosing regimens",
    responses={**ok(regimen_schemas.RegimenList, "A page of regimens.", "regimen_list", paged=True), **LIST_ERRORS},
)
def list_regimens(
    request: Request,
    session: SessionDep,
    page: PageDep,
    approval_status: Annotated[ApprovalStatus | None, Query(description="approved or off-label.")] = None,
    route: Annotated[Route | None, Query(description="Route of administration.")] = None,
    band: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z-]+$", description="Dose band.")] = None,
    fields: FieldsQuery = None,
) -> Response:
    """Regimens (low-dose, standard oral, extended-release injectable, ...) with every source's dose range,
    each attributed to its source, and the reference range with its reason."""
    result = regimens.list_regimens(session, page=page, approval_status=approval_status, route=route, band=band)
    return list_response(request, result, dataset_info(session), fields)


@router.get(
    "/regimens/{slug}",
    operation_id="getRegimen",
    tags=["regimens"],
    summary="Get a regimen",
    responses={**ok(regimen_schemas.RegimenResponse, "The regimen.", "regimen"), **GET_ERRORS},
)
def get_regimen(slug: SlugPath, session: SessionDep) -> Response:
    """One regimen by slug (e.g. `low-dose-naltrexone`)."""
    return record_response(regimens.get_regimen(session, slug=slug), dataset_info(session))


@router.get(
    "/targets",
    operation_id="listTargets",
    tags=["targets"],
    summary="List targets",
    responses={**ok(target_schemas.TargetList, "A page of targets.", "target_list", paged=True), **LIST_ERRORS},
)
def list_targets(
    request: Request,
    session: SessionDep,
    page: PageDep,
    family: Annotated[TargetFamily | None, Query(description="Receptor family.")] = None,
    fields: FieldsQuery = None,
) -> Response:
    """Receptors naltrexone acts at: classical opioid receptors, the opioid growth factor receptor, TLR4."""
    return list_response(
        request, targets.list_targets(session, page=page, family=family), dataset_info(session), fields
    )


@router.get(
    "/targets/{slug}",
    operation_id="getTarget",
    tags=["targets"],
    summary="Get a target",
    responses={**ok(target_schemas.TargetResponse, "The target.", "target"), **GET_ERRORS},
)
def get_target(slug: SlugPath, session: SessionDep) -> Response:
    """One target by slug (e.g. `toll-like-receptor-4`)."""
    return record_response(targets.get_target(session, slug=slug), dataset_info(session))


@router.get(
    "/mechanisms",
    operation_id="listMechanisms",
    tags=["mechanisms"],
    summary="List mechanisms",
    responses={
        **ok(mechanism_schemas.MechanismList, "A page of mechanisms.", "mechanism_list", paged=True),
        **LIST_ERRORS,
    },
)
def list_mechanisms(
    request: Request,
    session: SessionDep,
    page: PageDep,
    target: Annotated[
        str | None, Query(max_length=120, description="Target slug or gene symbol (e.g. `TLR4`).")
    ] = None,
    regimen: Annotated[str | None, Query(max_length=120, description="Regimen slug.")] = None,
    dose_context: Annotated[
        str | None, Query(pattern=r"^(low-dose|standard|any)$", description="low-dose, standard or any.")
    ] = None,
    evidence_level: Annotated[EvidenceLevel | None, Query(description="Evidence level.")] = None,
    attribution: Annotated[MechanismAttribution | None, Query(description="Who states it.")] = None,
    fields: FieldsQuery = None,
) -> Response:
    """What naltrexone does at each target, how it differs with dose and duration of blockade, with evidence
    level and sources. The seed article's own account is kept apart (`attribution: article-claim`)."""
    result = mechanisms.list_mechanisms(
        session,
        page=page,
        target=target,
        regimen=regimen,
        dose_context=dose_context,
        evidence_level=evidence_level,
        attribution=attribution,
    )
    return list_response(request, result, dataset_info(session), fields)


@router.get(
    "/mechanisms/{slug}",
    operation_id="getMechanism",
    tags=["mechanisms"],
    summary="Get a mechanism",
    responses={**ok(mechanism_schemas.MechanismResponse, "The mechanism.", "mechanism"), **GET_ERRORS},
)
def get_mechanism(slug: SlugPath, session: SessionDep) -> Response:
    """One mechanism by slug."""
    return record_response(mechanisms.get_mechanism(session, slug=slug), dataset_info(session))


@router.get(
    "/conditions",
    operation_id="listConditions",
    tags=["conditions"],
    summary="List conditions",
    responses={
        **ok(condition_schemas.ConditionList, "A page of conditions.", "condition_list", paged=True),
        **LIST_ERRORS,
    },
)
def list_conditions(
    request: Request,
    session: SessionDep,
    page: PageDep,
    category: Annotated[ConditionCategory | None, Query(description="Condition category.")] = None,
    code: CodeQuery = None,
    code_system: CodeSystemQuery = None,
    fields: FieldsQuery = None,
) -> Response:
    """Conditions with ICD-10-CM and SNOMED CT codes (each with its verification status and version notes)."""
    result = conditions.list_conditions(session, page=page, category=category, code=code, code_system=code_system)
    return list_response(request, result, dataset_info(session), fields)


@router.get(
    "/conditions/{slug}",
    operation_id="getCondition",
    tags=["conditions"],
    summary="Get a condition",
    responses={**ok(condition_schemas.ConditionResponse, "The condition.", "condition"), **GET_ERRORS},
)
def get_condition(slug: SlugPath, session: SessionDep) -> Response:
    """One condition by slug (e.g. `fibromyalgia`)."""
    return record_response(conditions.get_condition(session, slug=slug), dataset_info(session))


@router.get(
    "/indications",
    operation_id="listIndications",
    tags=["indications"],
    summary="List indications",
    responses={
        **ok(indication_schemas.IndicationList, "A page of indications.", "indication_list", paged=True),
        **LIST_ERRORS,
    },
)
def list_indications(
    request: Request,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ApprovalStatus | None, Query(description="approved (FDA) or off-label.")] = None,
    evidence_level: Annotated[EvidenceLevel | None, Query(description="Evidence level.")] = None,
    category: Annotated[ConditionCategory | None, Query(description="The condition's category.")] = None,
    regimen: Annotated[str | None, Query(max_length=120, description="Regimen slug.")] = None,
    condition: Annotated[str | None, Query(max_length=120, description="Condition slug.")] = None,
    code: CodeQuery = None,
    code_system: CodeSystemQuery = None,
    claim_basis: Annotated[ClaimBasis | None, Query(description="regulatory, checked-studies or article-only.")] = None,
    fields: FieldsQuery = None,
) -> Response:
    """Indications (drug x condition x regimen) with status, evidence level and direction, studies (negative
    results included) and sources, the condition and regimen embedded."""
    result = indications.list_indications(
        session,
        page=page,
        status=status,
        evidence_level=evidence_level,
        category=category,
        regimen=regimen,
        condition=condition,
        code=code,
        code_system=code_system,
        claim_basis=claim_basis,
    )
    return list_response(request, result, dataset_info(session), fields)


@router.get(
    "/indications/{slug}",
    operation_id="getIndication",
    tags=["indications"],
    summary="Get an indication",
    responses={**ok(indication_schemas.IndicationResponse, "The indication.", "indication"), **GET_ERRORS},
)
def get_indication(slug: SlugPath, session: SessionDep) -> Response:
    """One indication by slug (e.g. `ldn-fibromyalgia`)."""
    return record_response(indications.get_indication(session, slug=slug), dataset_info(session))


@router.get(
    "/sources",
    operation_id="listSources",
    tags=["sources"],
    summary="List sources",
    responses={**ok(source_schemas.SourceList, "A page of sources.", "source_list", paged=True), **LIST_ERRORS},
)
def list_sources(
    request: Request,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[SourceKind | None, Query(description="Kind of source.")] = None,
    verification: Annotated[Verification | None, Query(description="Verification status.")] = None,
    fields: FieldsQuery = None,
) -> Response:
    """Every source cited: labels, regulatory records, trials, reviews and the seed article, with identifiers
    (PMID, DOI, PMCID, NCT) and their verification status."""
    result = sources.list_sources(session, page=page, kind=kind, verification=verification)
    return list_response(request, result, dataset_info(session), fields)


@router.get(
    "/sources/{slug}",
    operation_id="getSource",
    tags=["sources"],
    summary="Get a source",
    responses={**ok(source_schemas.SourceResponse, "The source.", "source"), **GET_ERRORS},
)
def get_source(slug: SlugPath, session: SessionDep) -> Response:
    """One source by slug."""
    return record_response(sources.get_source(session, slug=slug), dataset_info(session))
