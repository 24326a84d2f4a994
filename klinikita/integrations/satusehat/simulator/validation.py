"""Business validation of submitted resources, with OperationOutcomes shaped like the platform's.

Order of checks (first failing stage answers):
1. structure  -> 400 `structure` / `unparseable_resource`
2. identifier systems of another organization -> "resource cannot be accessed due to business rule"
3. duplicate identifiers (Encounter, Medication) -> 400 `duplicate`
4. references (resolution, type, ownership) and per-type kamus-validasi rules -> 400 `value`
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .clock import has_utc_offset, is_fhir_datetime, parse_fhir_datetime
from .config import SimulatorConfig
from .errors import issue
from .store import ResourceStore, identifiers_of
from .terminology import (
    ACT_CODE_SYSTEM,
    ALLERGY_CATEGORIES,
    ALLERGY_CLINICAL_STATUSES,
    ALLERGY_CLINICAL_SYSTEM,
    ALLERGY_CODE_SYSTEMS,
    ALLERGY_SEVERITIES,
    ALLERGY_VERIFICATION_STATUSES,
    ALLERGY_VERIFICATION_SYSTEM,
    CONDITION_CATEGORIES,
    CONDITION_CATEGORY_SYSTEM,
    CONDITION_CLINICAL_STATUSES,
    CONDITION_CLINICAL_SYSTEM,
    CONDITION_CODE_SYSTEMS,
    DIAGNOSIS_ROLE_SYSTEM,
    DISCHARGE_DISPOSITION_SYSTEM,
    ENCOUNTER_CLASS_CODES,
    ICD10_SYSTEM,
    KFA_SYSTEM,
    LOCATION_MODES,
    LOCATION_PHYSICAL_TYPE_SYSTEM,
    LOCATION_PHYSICAL_TYPES,
    LOCATION_STATUSES,
    LOINC_SYSTEM,
    OBSERVATION_CATEGORY_SYSTEM,
    OBSERVATION_STATUSES,
    ORGANIZATION_TYPE_SYSTEM,
    OXYGEN_SATURATION,
    PARTICIPATION_TYPE_SYSTEM,
    PROCEDURE_CODE_SYSTEMS,
    PROCEDURE_STATUSES,
    PULSE_OXIMETRY,
    UCUM_SYSTEM,
    VITAL_SIGN_UNITS,
    code_not_found_text,
    icd10_code_exists,
    kfa_code_plausible,
)

JsonDict = dict[str, Any]
Issues = list[JsonDict]

SYS_IDS_PATTERN = re.compile(r"^https?://sys-ids\.kemkes\.go\.id/(?P<kind>[^/]+)/(?P<org>[^/]+)$")
ENCOUNTER_SYSTEM_PREFIX = "http://sys-ids.kemkes.go.id/encounter/"
# A literal reference: `Type/id` (optionally absolute, optionally with `_history/<vid>`),
# `urn:uuid:<uuid>` inside a Bundle, or `#id` of a contained resource (FHIR R4 3.1.3.3).
_ID = r"[A-Za-z0-9\-.]{1,64}"
REFERENCE_PATTERN = re.compile(
    rf"^(?:https?://[^\s/]+(?:/[^\s/]+)*/)?[A-Z][A-Za-z]+/{_ID}(?:/_history/{_ID})?$"
)
URN_UUID_PATTERN = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# What API.md section 3 asks for every dateTime: `YYYY-MM-DDThh:mm:ss+00:00` (any offset
# unless `strict_utc`), seconds and a time zone included.
FULL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PRESCRIPTION_ITEM_PREFIX = "http://sys-ids.kemkes.go.id/prescription-item/"

# Types whose sys-ids identifier must be unique (the platform answers 400 `duplicate`).
UNIQUE_IDENTIFIER_TYPES = frozenset({"Encounter", "Medication"})
# Referenced types the simulator can resolve; references to other types are not checked.
RESOLVABLE_TYPES = frozenset(
    {"Patient", "Practitioner", "Location", "Organization", "Encounter", "Condition", "Medication"}
) | {"MedicationRequest"}

ENCOUNTER_STATUSES = frozenset(
    {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)

# FHIR 1..1 elements whose absence makes the FHIR store reject the payload as unparseable.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "Encounter": ("status", "class"),
    "Observation": ("status", "code"),
    "Condition": ("subject",),
    "Procedure": ("status", "subject"),
    "AllergyIntolerance": ("patient",),
    "Composition": ("status", "type", "date", "author", "title"),
    "MedicationRequest": ("status", "intent", "subject"),
    "MedicationDispense": ("status",),
}
ARRAY_FIELDS: dict[str, tuple[str, ...]] = {
    "Encounter": ("identifier", "participant", "location", "statusHistory", "diagnosis"),
    "Condition": ("identifier", "category"),
    "Observation": ("identifier", "category", "performer"),
    "Organization": ("identifier", "type", "telecom", "address"),
    "Location": ("identifier", "telecom"),
    "Procedure": ("identifier", "performer"),
    "AllergyIntolerance": ("identifier", "category", "reaction"),
    "Medication": ("identifier", "ingredient"),
    "MedicationRequest": ("identifier", "category", "dosageInstruction"),
    "MedicationDispense": (
        "identifier",
        "performer",
        "authorizingPrescription",
        "dosageInstruction",
        "contained",
    ),
}

_Ref = tuple[str, frozenset[str] | None]
REFERENCE_PATHS: dict[str, tuple[_Ref, ...]] = {
    "Encounter": (
        ("subject", frozenset({"Patient"})),
        ("participant[*].individual", frozenset({"Practitioner", "PractitionerRole"})),
        ("location[*].location", frozenset({"Location"})),
        ("serviceProvider", frozenset({"Organization"})),
        ("diagnosis[*].condition", frozenset({"Condition", "Procedure"})),
        ("partOf", frozenset({"Encounter"})),
    ),
    "Condition": (
        ("subject", frozenset({"Patient"})),
        ("encounter", frozenset({"Encounter"})),
        ("recorder", None),
        ("asserter", None),
    ),
    "Observation": (
        ("subject", frozenset({"Patient", "Group", "Device", "Location"})),
        ("encounter", frozenset({"Encounter"})),
        ("performer[*]", None),
        ("basedOn[*]", None),
        ("derivedFrom[*]", None),
        ("hasMember[*]", None),
    ),
    "Organization": (("partOf", frozenset({"Organization"})),),
    "Location": (
        ("managingOrganization", frozenset({"Organization"})),
        ("partOf", frozenset({"Location"})),
    ),
    "Procedure": (
        ("subject", frozenset({"Patient", "Group"})),
        ("encounter", frozenset({"Encounter"})),
        ("performer[*].actor", None),
        ("reasonReference[*]", None),
    ),
    "AllergyIntolerance": (
        ("patient", frozenset({"Patient"})),
        ("encounter", frozenset({"Encounter"})),
        ("recorder", frozenset({"Practitioner", "PractitionerRole", "Patient"})),
        ("asserter", None),
    ),
    "Composition": (
        ("subject", frozenset({"Patient", "Group"})),
        ("encounter", frozenset({"Encounter"})),
        ("author[*]", None),
        ("custodian", frozenset({"Organization"})),
    ),
    "MedicationRequest": (
        ("subject", frozenset({"Patient", "Group"})),
        ("encounter", frozenset({"Encounter"})),
        ("requester", None),
        ("medicationReference", frozenset({"Medication"})),
        ("reasonReference[*]", None),
        ("dispenseRequest.performer", frozenset({"Organization"})),
    ),
    "MedicationDispense": (
        ("subject", frozenset({"Patient", "Group"})),
        ("context", frozenset({"Encounter", "EpisodeOfCare"})),
        ("performer[*].actor", frozenset({"Practitioner", "PractitionerRole", "Organization"})),
        ("location", frozenset({"Location"})),
        ("authorizingPrescription[*]", frozenset({"MedicationRequest"})),
        ("medicationReference", frozenset({"Medication"})),
    ),
}
DEFAULT_REFERENCE_PATHS: tuple[_Ref, ...] = (
    ("subject", None),
    ("patient", None),
    ("encounter", frozenset({"Encounter"})),
)


@dataclass
class ValidationContext:
    store: ResourceStore
    config: SimulatorConfig
    org_id: str
    now: datetime
    # Expression prefix: "Encounter" for a single resource, "Bundle.entry[2].resource" in bundles.
    prefix: str
    # Bundle fullUrl (urn:uuid:...) -> (type, id) of resources created by the same bundle.
    bundle_refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (type, system, value) identifiers claimed by earlier entries of the same bundle.
    bundle_identifiers: set[tuple[str, str, str]] = field(default_factory=set)
    # Id of the resource being updated; it does not count as its own duplicate.
    current_id: str | None = None

    def expr(self, element: str = "") -> str:
        return f"{self.prefix}.{element}" if element else self.prefix


def validate_resource(resource: JsonDict, ctx: ValidationContext) -> None:
    """Raise `FhirError` when the platform would refuse `resource`."""
    check_structure(resource, ctx)
    check_identifier_systems(resource, ctx)
    check_duplicates(resource, ctx)
    problems = check_references(resource, ctx)
    rules = TYPE_RULES.get(resource["resourceType"])
    if rules is not None:
        problems += rules(resource, ctx)
    problems += check_identifier_kind(resource, ctx)
    if problems:
        raise errors.validation_error(problems)


def unique_identifiers(resource: JsonDict) -> set[tuple[str, str, str]]:
    rtype = resource.get("resourceType", "")
    if rtype not in UNIQUE_IDENTIFIER_TYPES:
        return set()
    return {
        (rtype, system, value)
        for system, value in identifiers_of(resource)
        if SYS_IDS_PATTERN.match(system)
    }


# --- stage 1: structure ------------------------------------------------------------------


def check_structure(resource: JsonDict, ctx: ValidationContext) -> None:
    rtype = resource["resourceType"]
    for name in REQUIRED_FIELDS.get(rtype, ()):
        if resource.get(name) in (None, "", [], {}):
            raise errors.unparseable(f'missing required field "{name}"', ctx.expr(name))
    for name in ARRAY_FIELDS.get(rtype, ()):
        if name in resource and not isinstance(resource[name], list):
            raise errors.unparseable(
                f'invalid value for field "{name}": expected an array', ctx.expr(name)
            )
    if rtype == "Composition" and isinstance(resource.get("identifier"), list):
        raise errors.unparseable(
            'invalid value for field "identifier": expected an object', ctx.expr("identifier")
        )
    position = resource.get("position")
    if rtype == "Location" and isinstance(position, dict):
        for name in ("longitude", "latitude", "altitude"):
            value = position.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise errors.unparseable(
                    f'invalid value for decimal field "{name}": {value!r}',
                    ctx.expr(f"position.{name}"),
                )


# --- stage 2: identifier systems ---------------------------------------------------------


def check_identifier_systems(resource: JsonDict, ctx: ValidationContext) -> None:
    """`http://sys-ids.kemkes.go.id/<kind>/<org>` must carry the caller's organization id."""
    raw = resource.get("identifier")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    single = isinstance(raw, dict)
    for index, item in enumerate(items):
        system = item.get("system") if isinstance(item, dict) else None
        match = SYS_IDS_PATTERN.match(system) if isinstance(system, str) else None
        if match and match["org"] != ctx.org_id:
            element = "identifier.system" if single else f"identifier[{index}].system"
            raise errors.business_rule(ctx.config, ctx.expr(element))


# Kamus-validasi rules naming the exact identifier system of a type.
IDENTIFIER_KIND_RULES: dict[str, tuple[str, int]] = {
    "Organization": ("organization", 10446),
    "Location": ("location", 10447),
    "Condition": ("condition", 10444),
}


def check_identifier_kind(resource: JsonDict, ctx: ValidationContext) -> Issues:
    rule = IDENTIFIER_KIND_RULES.get(resource["resourceType"])
    if rule is None:
        return []
    kind, number = rule
    expected = f"http://sys-ids.kemkes.go.id/{kind}/{ctx.org_id}"
    problems: Issues = []
    for index, item in enumerate(resource.get("identifier") or []):
        if isinstance(item, dict) and item.get("system") != expected:
            element = ctx.expr(f"identifier[{index}].system")
            problems.append(
                issue(
                    "value",
                    f"{element} must be {expected} (RuleNumber: {number})",
                    expression=[element],
                )
            )
    return problems


# --- stage 3: duplicates -----------------------------------------------------------------


def check_duplicates(resource: JsonDict, ctx: ValidationContext) -> None:
    for key in unique_identifiers(resource):
        if key in ctx.bundle_identifiers:
            raise errors.duplicate(key[0])
        for existing in ctx.store.find_by_identifier(*key):
            if existing.id != ctx.current_id:
                raise errors.duplicate(key[0])


# --- stage 4a: references ----------------------------------------------------------------


def _walk(node: Any, steps: list[str], path: str) -> Iterator[tuple[str, Any]]:
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    many = step.endswith("[*]")
    name = step[:-3] if many else step
    if not isinstance(node, dict) or name not in node:
        return
    child = node[name]
    here = f"{path}.{name}" if path else name
    if many:
        for index, item in enumerate(child if isinstance(child, list) else []):
            yield from _walk(item, rest, f"{here}[{index}]")
    else:
        yield from _walk(child, rest, here)


def split_reference(reference: str) -> tuple[str, str] | None:
    """`Type/id` (relative or absolute URL) -> (type, id)."""
    parts = [p for p in reference.split("?")[0].split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2:
        return None
    return parts[-2], parts[-1]


def check_references(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    paths = REFERENCE_PATHS.get(resource["resourceType"], DEFAULT_REFERENCE_PATHS)
    for path, allowed in paths:
        for element, value in _walk(resource, path.split("."), ""):
            reference = value.get("reference") if isinstance(value, dict) else None
            if not isinstance(reference, str):
                continue
            problem = _check_reference(reference, allowed, ctx.expr(element), ctx)
            if problem:
                problems.append(problem)
    return problems


def _check_reference(
    reference: str, allowed: frozenset[str] | None, expression: str, ctx: ValidationContext
) -> JsonDict | None:
    def unresolved() -> JsonDict:
        text = ctx.config.reference_error_text.format(reference=reference, element=expression)
        return issue("value", text, expression=[expression])

    if reference.startswith("#"):
        return None  # a contained resource (the 2024 MedicationRequest rule, API.md 11.4)
    if not (REFERENCE_PATTERN.match(reference) or URN_UUID_PATTERN.match(reference)):
        return issue(
            "value",
            f"Invalid reference format {reference!r} at {expression}; expected Type/id",
            expression=[expression],
        )
    if reference.startswith("urn:uuid:"):
        target = ctx.bundle_refs.get(reference)
        if target is None:
            return unresolved()
        rtype, rid = target
    else:
        parsed = split_reference(reference)
        if parsed is None:
            return unresolved()
        rtype, rid = parsed
    if allowed is not None and rtype not in allowed:
        return issue(
            "value",
            f"Invalid reference type {rtype} at {expression}; "
            f"expected {' or '.join(sorted(allowed))}",
            expression=[expression],
        )
    if reference.startswith("urn:uuid:") or rtype not in RESOLVABLE_TYPES:
        return None
    if not ctx.store.exists(rtype, rid):
        return unresolved()
    owner = ctx.store.owner_of(rtype, rid)
    if owner is not None and owner != ctx.org_id:
        raise errors.business_rule(ctx.config, expression)
    return None


# --- stage 4b: per-type rules ------------------------------------------------------------


def _required(ctx: ValidationContext, element: str, rule: int | None) -> JsonDict:
    suffix = f" (RuleNumber: {rule})" if rule else ""
    return issue(
        "value", f"{ctx.expr(element)} is required{suffix}", expression=[ctx.expr(element)]
    )


def _has_reference(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("reference"), str)


def _datetime_problem(
    value: Any, element: str, ctx: ValidationContext, rule: int | None = None
) -> JsonDict | None:
    suffix = f" (RuleNumber: {rule})" if rule else ""
    if not (is_fhir_datetime(value) and FULL_DATETIME.match(value)):
        return issue(
            "value",
            f"Invalid dateTime format {value!r} at {ctx.expr(element)}; "
            f"expected YYYY-MM-DDThh:mm:ss+00:00{suffix}",
            expression=[ctx.expr(element)],
        )
    if ctx.config.strict_utc and not has_utc_offset(value):
        return issue(
            "value",
            f"dateTime {value!r} at {ctx.expr(element)} must be sent in UTC (+00:00){suffix}",
            expression=[ctx.expr(element)],
        )
    moment, earliest = parse_fhir_datetime(value), parse_fhir_datetime(ctx.config.earliest_date)
    if moment and earliest and moment < earliest:
        return issue(
            "value",
            f"{ctx.expr(element)} must not be earlier than {ctx.config.earliest_date}",
            expression=[ctx.expr(element)],
        )
    return None


def _collect_datetimes(
    resource: JsonDict, elements: list[tuple[str, int | None]], ctx: ValidationContext
) -> Issues:
    problems: Issues = []
    for path, rule in elements:
        for element, value in _walk(resource, path.split("."), ""):
            problem = _datetime_problem(value, element, ctx, rule)
            if problem:
                problems.append(problem)
    return problems


def _coding_problem(
    coding: Any,
    element: str,
    system: str,
    codes: frozenset[str] | None,
    rule: int | None,
    ctx: ValidationContext,
) -> JsonDict | None:
    """A Coding from `system` (with a code of `codes`, when given)."""
    if not isinstance(coding, dict) or not coding.get("code"):
        return _required(ctx, f"{element}.code", rule)
    bad_system = coding.get("system") != system
    if bad_system or (codes is not None and coding["code"] not in codes):
        where = f"{element}.system" if bad_system else f"{element}.code"
        text = code_not_found_text(coding.get("code"), coding.get("system"), rule or 0)
        if not rule:
            text = text.replace(" (RuleNumber: 0)", f"; expected a code of {system}")
        return issue("value", text, expression=[ctx.expr(where)])
    return None


def _concept_problems(
    concept: Any,
    element: str,
    system: str,
    codes: frozenset[str] | None,
    rule: int | None,
    ctx: ValidationContext,
) -> Issues:
    """A required CodeableConcept whose codings all come from `system`."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list) or not codings:
        return [_required(ctx, element, rule)]
    found = [
        _coding_problem(coding, f"{element}.coding[{index}]", system, codes, rule, ctx)
        for index, coding in enumerate(codings)
    ]
    return [problem for problem in found if problem]


def _has_identifier(resource: JsonDict) -> bool:
    return any(system and value for system, value in identifiers_of(resource))


def _reference_type(value: Any) -> str | None:
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or reference.startswith(("urn:uuid:", "#")):
        return None
    parsed = split_reference(reference)
    return parsed[0] if parsed else None


def _is_reference_to(value: Any, rtype: str, rid: str) -> bool:
    reference = value.get("reference") if isinstance(value, dict) else None
    return isinstance(reference, str) and split_reference(reference) == (rtype, rid)


def _is_sub_organization(value: Any, ctx: ValidationContext) -> bool:
    """An existing Organization other than the caller's facility (a missing one, or another
    facility's, is the reference check's to report)."""
    reference = value.get("reference") if isinstance(value, dict) else None
    parsed = split_reference(reference) if isinstance(reference, str) else None
    return (
        parsed is not None
        and parsed[0] == "Organization"
        and parsed[1] != ctx.org_id
        and ctx.store.exists(*parsed)
    )


def _organization_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    if not _has_identifier(resource):
        problems.append(_required(ctx, "identifier", 10446))
    # The RME registers sub-organizations only: level 1 under the facility, deeper ones
    # under another sub-organization (API.md 6); ownership is checked with the reference.
    if not _has_reference(resource.get("partOf")):
        problems.append(_required(ctx, "partOf", None))
    for index, concept in enumerate(resource.get("type") or []):
        problems += _concept_problems(
            concept, f"type[{index}]", ORGANIZATION_TYPE_SYSTEM, None, None, ctx
        )
    return problems


def _location_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    if not _has_identifier(resource):
        problems.append(_required(ctx, "identifier", 10447))
    for name, allowed in (("status", LOCATION_STATUSES), ("mode", LOCATION_MODES)):
        value = resource.get(name)
        if value is not None and value not in allowed:
            problems.append(
                issue(
                    "value",
                    f"Invalid Location.{name} {value!r}; expected one of "
                    f"{', '.join(sorted(allowed))}",
                    expression=[ctx.expr(name)],
                )
            )
    problems += _concept_problems(
        resource.get("physicalType"),
        "physicalType",
        LOCATION_PHYSICAL_TYPE_SYSTEM,
        LOCATION_PHYSICAL_TYPES,
        None,
        ctx,
    )
    position = resource.get("position")
    if not isinstance(position, dict):
        problems.append(_required(ctx, "position", None))
    else:
        # Numbers, checked in stage 1; no range check: the ministry's own example swaps them.
        problems += [
            _required(ctx, f"position.{name}", None)
            for name in ("latitude", "longitude")
            if position.get(name) is None
        ]
    if not _has_reference(resource.get("managingOrganization")):
        problems.append(_required(ctx, "managingOrganization", None))
    return problems


def _status_history_problems(history: list, ctx: ValidationContext) -> Issues:
    """Each entry a known status with a start; every entry before the current one ended
    (API.md 8.1: "each earlier entry gets a period.end")."""
    problems: Issues = []
    for index, entry in enumerate(history):
        where = f"statusHistory[{index}]"
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("status") not in ENCOUNTER_STATUSES:
            problems.append(
                issue(
                    "value",
                    f"Invalid Encounter.{where}.status {entry.get('status')!r}",
                    expression=[ctx.expr(f"{where}.status")],
                )
            )
        period = entry.get("period") if isinstance(entry.get("period"), dict) else {}
        if not period.get("start"):
            problems.append(_required(ctx, f"{where}.period.start", 10122))
        if index < len(history) - 1 and not period.get("end"):
            problems.append(
                issue(
                    "value",
                    f"{ctx.expr(where + '.period.end')} is required: every status before "
                    "the current one must have ended (RuleNumber: 10122)",
                    expression=[ctx.expr(f"{where}.period.end")],
                )
            )
    return problems


def _encounter_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    status = resource.get("status")
    if status not in ENCOUNTER_STATUSES:
        problems.append(
            issue("value", f"Invalid Encounter.status {status!r}", expression=[ctx.expr("status")])
        )
    identifiers = resource.get("identifier") or []
    if not any(
        isinstance(i, dict)
        and str(i.get("system", "")).startswith(ENCOUNTER_SYSTEM_PREFIX)
        and i.get("value")
        for i in identifiers
    ):
        problems.append(_required(ctx, "identifier", 10117))
    if not _has_reference(resource.get("subject")):
        problems.append(_required(ctx, "subject", 10118))
    participants = resource.get("participant") or []
    if not any(isinstance(p, dict) and _has_reference(p.get("individual")) for p in participants):
        problems.append(_required(ctx, "participant.individual", 10119))
    locations = resource.get("location") or []
    if not any(isinstance(loc, dict) and _has_reference(loc.get("location")) for loc in locations):
        problems.append(_required(ctx, "location.location", 10120))
    history = resource.get("statusHistory") or []
    if not history:
        problems.append(_required(ctx, "statusHistory", 10122))
    problems += _status_history_problems(history, ctx)
    if not _has_reference(resource.get("serviceProvider")):
        problems.append(_required(ctx, "serviceProvider", 10124))
    elif _is_sub_organization(resource["serviceProvider"], ctx):
        problems.append(
            issue(
                "value",
                f"Encounter.serviceProvider must be Organization/{ctx.org_id}, the facility "
                "(RuleNumber: 10124)",
                expression=[ctx.expr("serviceProvider")],
            )
        )
    encounter_class = _coding_problem(
        resource.get("class"), "class", ACT_CODE_SYSTEM, ENCOUNTER_CLASS_CODES, None, ctx
    )
    if encounter_class:
        problems.append(encounter_class)
    for index, participant in enumerate(participants):
        kinds = participant.get("type") if isinstance(participant, dict) else None
        if not isinstance(kinds, list) or not kinds:
            problems.append(_required(ctx, f"participant[{index}].type", None))
            continue
        for number, concept in enumerate(kinds):
            problems += _concept_problems(
                concept,
                f"participant[{index}].type[{number}]",
                PARTICIPATION_TYPE_SYSTEM,
                None,
                None,
                ctx,
            )

    period = resource.get("period")
    if not isinstance(period, dict):
        problems.append(_required(ctx, "period", 10121))
        period = {}
    elif not period.get("start"):
        problems.append(_required(ctx, "period.start", 10123))

    datetime_problems = _collect_datetimes(
        resource,
        [
            ("period.start", 10123),
            ("period.end", 10173),
            ("statusHistory[*].period.start", None),
            ("statusHistory[*].period.end", None),
            ("location[*].period.start", 10290),
            ("location[*].period.end", 10291),
        ],
        ctx,
    )
    problems += datetime_problems
    if datetime_problems:
        return problems

    start = parse_fhir_datetime(period["start"]) if period.get("start") else None
    end = parse_fhir_datetime(period["end"]) if period.get("end") else None
    if status == "finished":
        if end is None:
            problems.append(_required(ctx, "period.end", 10121))
        else:
            if start is not None and not end > start:
                problems.append(
                    issue(
                        "value",
                        "Encounter.period.end must be greater than Encounter.period.start "
                        "when status is finished (RuleNumber: 10121)",
                        expression=[ctx.expr("period.end")],
                    )
                )
            latest = ctx.now + timedelta(seconds=ctx.config.future_tolerance_seconds)
            if end > latest:
                problems.append(
                    issue(
                        "value",
                        "Encounter.period.end must not be a future date (RuleNumber: 10173)",
                        expression=[ctx.expr("period.end")],
                    )
                )
        seen = {h.get("status") for h in history if isinstance(h, dict)}
        missing = [s for s in ("arrived", "in-progress", "finished") if s not in seen]
        if history and missing:
            problems.append(
                issue(
                    "value",
                    "Encounter.statusHistory must contain arrived, in-progress and finished "
                    f"(missing: {', '.join(missing)}) (RuleNumber: 10122)",
                    expression=[ctx.expr("statusHistory")],
                )
            )

    diagnoses = resource.get("diagnosis") or []
    if status == "finished" and not any(
        isinstance(d, dict) and _has_reference(d.get("condition")) for d in diagnoses
    ):
        problems.append(
            issue(
                "value",
                "Encounter.diagnosis is required when status is finished: reference the "
                "visit's Conditions",
                expression=[ctx.expr("diagnosis")],
            )
        )
    for index, diagnosis in enumerate(diagnoses):
        rank = diagnosis.get("rank") if isinstance(diagnosis, dict) else None
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
            problems.append(
                issue(
                    "value",
                    f"Encounter.diagnosis[{index}].rank must be a positive integer",
                    expression=[ctx.expr(f"diagnosis[{index}].rank")],
                )
            )
        if isinstance(diagnosis, dict) and "use" in diagnosis:
            problems += _concept_problems(
                diagnosis["use"], f"diagnosis[{index}].use", DIAGNOSIS_ROLE_SYSTEM, None, 10317, ctx
            )
    hospitalization = resource.get("hospitalization")
    if isinstance(hospitalization, dict) and "dischargeDisposition" in hospitalization:
        problems += _concept_problems(
            hospitalization["dischargeDisposition"],
            "hospitalization.dischargeDisposition",
            DISCHARGE_DISPOSITION_SYSTEM,
            None,
            10318,
            ctx,
        )
    return problems


def _code_expression(ctx: ValidationContext, index: int) -> str:
    # The platform writes code paths as `Observation.code[0].code` (official capture).
    return ctx.expr(f"code[{index}].code")


def _condition_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list) or not codings:
        problems.append(_required(ctx, "code", 10003))
    for index, coding in enumerate(codings if isinstance(codings, list) else []):
        if not isinstance(coding, dict):
            continue
        system, value = coding.get("system"), coding.get("code")
        known = system in CONDITION_CODE_SYSTEMS and isinstance(value, str) and value
        if known and system == ICD10_SYSTEM:
            known = icd10_code_exists(value)
        if not known:
            problems.append(
                issue(
                    "value",
                    code_not_found_text(value, system, 10003),
                    expression=[_code_expression(ctx, index)],
                )
            )
    clinical = resource.get("clinicalStatus")
    verification = resource.get("verificationStatus")
    withdrawn = any(
        isinstance(c, dict) and c.get("code") == "entered-in-error"
        for c in (verification.get("coding") or [] if isinstance(verification, dict) else [])
    )
    # FHIR con-3/con-5: required, except on a Condition entered in error (then absent).
    if clinical is not None or not withdrawn:
        problems += _concept_problems(
            clinical,
            "clinicalStatus",
            CONDITION_CLINICAL_SYSTEM,
            CONDITION_CLINICAL_STATUSES,
            10006,
            ctx,
        )
    categories = resource.get("category") or []
    if not categories:
        problems.append(_required(ctx, "category", None))
    for index, concept in enumerate(categories):
        problems += _concept_problems(
            concept,
            f"category[{index}]",
            CONDITION_CATEGORY_SYSTEM,
            CONDITION_CATEGORIES,
            None,
            ctx,
        )
    if not _has_reference(resource.get("encounter")):
        problems.append(_required(ctx, "encounter", None))
    problems += _collect_datetimes(
        resource, [("onsetDateTime", 10402), ("recordedDate", 10403)], ctx
    )
    return problems


def _is_vital_sign(resource: JsonDict) -> bool:
    for category in resource.get("category") or []:
        for coding in category.get("coding", []) if isinstance(category, dict) else []:
            if isinstance(coding, dict) and coding.get("code") == "vital-signs":
                return True
    return False


def _observation_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    if resource.get("status") not in OBSERVATION_STATUSES:
        problems.append(
            issue(
                "value",
                f"Invalid Observation.status {resource.get('status')!r}",
                expression=[ctx.expr("status")],
            )
        )
    if not _has_reference(resource.get("subject")):
        problems.append(_required(ctx, "subject", None))
    problems += _collect_datetimes(resource, [("effectiveDateTime", 10295), ("issued", None)], ctx)
    codings = resource["code"].get("coding") if isinstance(resource["code"], dict) else None
    codings = codings if isinstance(codings, list) else []
    loinc_codes = {
        c.get("code") for c in codings if isinstance(c, dict) and c.get("system") == LOINC_SYSTEM
    }
    if not _is_vital_sign(resource):
        vital_codes = sorted(code for code in loinc_codes if code in VITAL_SIGN_UNITS)
        if vital_codes:
            problems.append(
                issue(
                    "value",
                    f"Observation.category must be vital-signs ({OBSERVATION_CATEGORY_SYSTEM}) "
                    f"for LOINC {vital_codes[0]} (RuleNumber: 10009)",
                    expression=[ctx.expr("category")],
                )
            )
        return problems
    problems += _vital_sign_rules(resource, loinc_codes, ctx)
    loinc = next(
        (
            c.get("code")
            for c in codings
            if isinstance(c, dict)
            and c.get("system") == LOINC_SYSTEM
            and c.get("code") in VITAL_SIGN_UNITS
        ),
        None,
    )
    if loinc is None:
        first = codings[0] if codings and isinstance(codings[0], dict) else {}
        problems.append(
            issue(
                "value",
                code_not_found_text(first.get("code"), first.get("system"), 10010),
                expression=[_code_expression(ctx, 0)],
            )
        )
        return problems
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict):
        unit_ok = (
            quantity.get("system") == UCUM_SYSTEM
            and quantity.get("code") in (VITAL_SIGN_UNITS[loinc])
        )
        if not unit_ok:
            problems.append(
                issue(
                    "value",
                    code_not_found_text(quantity.get("code"), quantity.get("system"), 10012),
                    expression=[ctx.expr("valueQuantity.code")],
                )
            )
        if isinstance(quantity.get("value"), bool) or not isinstance(
            quantity.get("value"), int | float
        ):
            problems.append(
                issue(
                    "value",
                    "Observation.valueQuantity.value must be a number",
                    expression=[ctx.expr("valueQuantity.value")],
                )
            )
    return problems


def _vital_sign_rules(resource: JsonDict, loinc_codes: set, ctx: ValidationContext) -> Issues:
    """What a vital-sign Observation needs beyond its code and unit (API.md 10)."""
    problems: Issues = []
    for index, category in enumerate(resource.get("category") or []):
        for number, coding in enumerate(
            category.get("coding") or [] if isinstance(category, dict) else []
        ):
            if (
                isinstance(coding, dict)
                and coding.get("code") == "vital-signs"
                and coding.get("system") != OBSERVATION_CATEGORY_SYSTEM
            ):
                problems.append(
                    issue(
                        "value",
                        code_not_found_text("vital-signs", coding.get("system"), 10009),
                        expression=[ctx.expr(f"category[{index}].coding[{number}].system")],
                    )
                )
    if PULSE_OXIMETRY in loinc_codes and OXYGEN_SATURATION not in loinc_codes:
        problems.append(
            issue(
                "value",
                f"Observation.code: oxygen saturation is LOINC {OXYGEN_SATURATION} (FHIR R4 "
                f"vital-signs profile); {PULSE_OXIMETRY} goes beside it, not alone",
                expression=[ctx.expr("code")],
            )
        )
    if not _has_reference(resource.get("encounter")):
        problems.append(_required(ctx, "encounter", None))
    if not resource.get("effectiveDateTime"):
        problems.append(_required(ctx, "effectiveDateTime", 10295))
    performers = resource.get("performer") or []
    if not performers:
        problems.append(_required(ctx, "performer", 10383))
    for index, performer in enumerate(performers):
        kind = _reference_type(performer)
        if kind is not None and kind != "Practitioner":
            problems.append(
                issue(
                    "value",
                    f"Observation.performer[{index}] must reference a Practitioner, not {kind} "
                    "(RuleNumber: 10383)",
                    expression=[ctx.expr(f"performer[{index}]")],
                )
            )
    quantity = resource.get("valueQuantity")
    if not isinstance(quantity, dict):
        if "dataAbsentReason" not in resource:
            problems.append(_required(ctx, "valueQuantity", 10012))
    elif not isinstance(quantity.get("unit"), str) or not quantity["unit"].strip():
        problems.append(_required(ctx, "valueQuantity.unit", 10012))
    return problems


def _procedure_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    """API.md 11.1: a coded procedure (rule 10015) of a patient in an encounter, performed
    by a Practitioner (rule 10399) at a full dateTime; its status a FHIR event-status code
    (a withdrawn one is PUT again as entered-in-error, whole)."""
    problems: Issues = []
    if resource.get("status") not in PROCEDURE_STATUSES:
        problems.append(
            issue(
                "value",
                f"Invalid Procedure.status {resource.get('status')!r}",
                expression=[ctx.expr("status")],
            )
        )
    code = resource.get("code")
    if not (isinstance(code, dict) and code.get("coding")):
        problems.append(_required(ctx, "code", 10015))
    if not _has_reference(resource.get("encounter")):
        problems.append(_required(ctx, "encounter", None))
    if not resource.get("performer"):
        problems.append(_required(ctx, "performer", 10399))
    problems += _collect_datetimes(
        resource,
        [("performedDateTime", None), ("performedPeriod.start", None),
         ("performedPeriod.end", None)],
        ctx,
    )  # fmt: skip
    for index, coding in enumerate(code.get("coding") or [] if isinstance(code, dict) else []):
        if isinstance(coding, dict) and coding.get("system") not in PROCEDURE_CODE_SYSTEMS:
            problems.append(
                issue(
                    "value",
                    code_not_found_text(coding.get("code"), coding.get("system"), 10015),
                    expression=[_code_expression(ctx, index)],
                )
            )
    for index, performer in enumerate(resource.get("performer") or []):
        actor = performer.get("actor") if isinstance(performer, dict) else None
        kind = _reference_type(actor)
        if kind is not None and kind != "Practitioner":
            problems.append(
                issue(
                    "value",
                    f"Procedure.performer[{index}].actor must reference a Practitioner "
                    "(RuleNumber: 10399)",
                    expression=[ctx.expr(f"performer[{index}].actor")],
                )
            )
    return problems


def _kfa_coded(concept: Any) -> bool:
    raw = concept.get("coding") if isinstance(concept, dict) else None
    codings = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
    return any(
        c.get("system") == KFA_SYSTEM and kfa_code_plausible(str(c.get("code", "")))
        for c in codings
    )


def _kfa_issue(concept: Any, expression: str) -> JsonDict:
    raw = concept.get("coding") if isinstance(concept, dict) else None
    first = raw[0] if isinstance(raw, list) and raw and isinstance(raw[0], dict) else {}
    return issue(
        "value",
        code_not_found_text(first.get("code"), first.get("system"), 10024),
        expression=[expression],
    )


def _medication_type(resource: JsonDict) -> str:
    """The MedicationType extension's code (NC, SD, EP), or ""."""
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and str(extension.get("url", "")).endswith(
            "/MedicationType"
        ):
            codings = (extension.get("valueCodeableConcept") or {}).get("coding") or []
            for coding in codings:
                if isinstance(coding, dict) and coding.get("code"):
                    return str(coding["code"])
    return ""


def _allergy_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    """AllergyIntolerance (rawat jalan): a code from SNOMED CT / KFA / clinical-term (the
    "no known allergy" SNOMED 716186003 included), its statuses from the FHIR code systems
    (clinicalStatus absent only when entered in error: FHIR ait-1/ait-2), the encounter, a
    Practitioner recorder, reactions with a manifestation and a known severity."""
    problems: Issues = []
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list) or not codings:
        problems.append(_required(ctx, "code", None))
    for index, coding in enumerate(codings if isinstance(codings, list) else []):
        system = coding.get("system") if isinstance(coding, dict) else None
        value = coding.get("code") if isinstance(coding, dict) else None
        if system not in ALLERGY_CODE_SYSTEMS or not isinstance(value, str) or not value:
            problems.append(
                issue(
                    "value",
                    code_not_found_text(value, system, 0).replace(
                        " (RuleNumber: 0)", "; expected SNOMED CT, KFA or clinical-term"
                    ),
                    expression=[_code_expression(ctx, index)],
                )
            )
    verification = resource.get("verificationStatus")
    withdrawn = any(
        isinstance(c, dict) and c.get("code") == "entered-in-error"
        for c in (verification.get("coding") or [] if isinstance(verification, dict) else [])
    )
    clinical = resource.get("clinicalStatus")
    if clinical is not None or not withdrawn:
        problems += _concept_problems(
            clinical,
            "clinicalStatus",
            ALLERGY_CLINICAL_SYSTEM,
            ALLERGY_CLINICAL_STATUSES,
            None,
            ctx,
        )
    if verification is not None:
        problems += _concept_problems(
            verification,
            "verificationStatus",
            ALLERGY_VERIFICATION_SYSTEM,
            ALLERGY_VERIFICATION_STATUSES,
            None,
            ctx,
        )
    for index, category in enumerate(resource.get("category") or []):
        if category not in ALLERGY_CATEGORIES:
            problems.append(
                issue(
                    "value",
                    f"Invalid AllergyIntolerance.category {category!r}",
                    expression=[ctx.expr(f"category[{index}]")],
                )
            )
    if not _has_reference(resource.get("encounter")):
        problems.append(_required(ctx, "encounter", None))
    if not _has_reference(resource.get("recorder")):
        problems.append(_required(ctx, "recorder", None))
    problems += _collect_datetimes(resource, [("recordedDate", None)], ctx)
    for index, reaction in enumerate(resource.get("reaction") or []):
        reaction = reaction if isinstance(reaction, dict) else {}
        if not reaction.get("manifestation"):
            problems.append(_required(ctx, f"reaction[{index}].manifestation", None))
        severity = reaction.get("severity")
        if severity is not None and severity not in ALLERGY_SEVERITIES:
            problems.append(
                issue(
                    "value",
                    f"Invalid AllergyIntolerance.reaction[{index}].severity {severity!r}",
                    expression=[ctx.expr(f"reaction[{index}].severity")],
                )
            )
    return problems


def _medication_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    """A product is KFA-coded (rule 10024); a compound (MedicationType SD or EP) has each
    ingredient KFA-coded instead."""
    if _medication_type(resource) in ("SD", "EP"):
        ingredients = resource.get("ingredient")
        if not isinstance(ingredients, list) or not ingredients:
            return [_required(ctx, "ingredient", 10024)]
        problems: Issues = []
        for index, part in enumerate(ingredients):
            concept = part.get("itemCodeableConcept") if isinstance(part, dict) else None
            if not _kfa_coded(concept):
                expression = ctx.expr(f"ingredient[{index}].itemCodeableConcept.coding[0].code")
                problems.append(_kfa_issue(concept, expression))
        return problems
    if _kfa_coded(resource.get("code")):
        return []
    return [_kfa_issue(resource.get("code"), _code_expression(ctx, 0))]


def _contained_medication(resource: JsonDict, ctx: ValidationContext) -> Issues:
    """A `#id` medicationReference names a Medication contained in the request, which
    follows the Medication rules."""
    reference = (resource.get("medicationReference") or {}).get("reference")
    if not isinstance(reference, str) or not reference.startswith("#"):
        return []
    for index, contained in enumerate(resource.get("contained") or []):
        if isinstance(contained, dict) and contained.get("id") == reference[1:]:
            if contained.get("resourceType") != "Medication":
                break
            inner = replace(ctx, prefix=ctx.expr(f"contained[{index}]"))
            return _medication_rules(contained, inner)
    return [
        issue(
            "value",
            f"Contained resource {reference!r} not found at {ctx.expr('medicationReference')}",
            expression=[ctx.expr("medicationReference")],
        )
    ]


def _medication_request_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    problems: Issues = []
    if not any(
        system.startswith(PRESCRIPTION_ITEM_PREFIX) and value
        for system, value in identifiers_of(resource)
    ):
        problems.append(_required(ctx, "identifier (prescription-item)", 10388))
    for element in ("encounter", "requester"):
        if not _has_reference(resource.get(element)):
            problems.append(_required(ctx, element, None))
    if not (
        _has_reference(resource.get("medicationReference"))
        or isinstance(resource.get("medicationCodeableConcept"), dict)
    ):
        problems.append(_required(ctx, "medicationReference", None))
    if _reference_type(resource.get("requester")) not in (None, "Practitioner"):
        problems.append(
            issue(
                "value",
                "MedicationRequest.requester must reference a Practitioner",
                expression=[ctx.expr("requester")],
            )
        )
    problems += _contained_medication(resource, ctx)
    dispense = resource.get("dispenseRequest")
    performer = dispense.get("performer") if isinstance(dispense, dict) else None
    if performer is None or not _is_reference_to(performer, "Organization", ctx.org_id):
        problems.append(
            issue(
                "value",
                "MedicationRequest.dispenseRequest.performer must be "
                f"Organization/{ctx.org_id} (RuleNumber: 10453)",
                expression=[ctx.expr("dispenseRequest.performer")],
            )
        )
    return problems


MEDICATION_DISPENSE_CATEGORY_SYSTEM = (
    "http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category"
)
PRESCRIPTION_PREFIX = "http://sys-ids.kemkes.go.id/prescription/"


def _medication_dispense_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    """API.md 11.3/11.4: the request's identifiers (prescription and prescription-item),
    the MedicationRequest it fulfils, the patient and the Encounter, and its category."""
    problems: Issues = []
    systems = [system for system, _value in identifiers_of(resource)]
    if not any(system.startswith(PRESCRIPTION_PREFIX) for system in systems):
        problems.append(_required(ctx, "identifier (prescription)", None))
    if not any(system.startswith(PRESCRIPTION_ITEM_PREFIX) for system in systems):
        problems.append(_required(ctx, "identifier (prescription-item)", None))
    prescriptions = resource.get("authorizingPrescription") or []
    if not any(_has_reference(p) for p in prescriptions):
        problems.append(_required(ctx, "authorizingPrescription", None))
    for element in ("subject", "context"):
        if not _has_reference(resource.get(element)):
            problems.append(_required(ctx, element, None))
    if not isinstance(resource.get("medicationReference"), dict) and not isinstance(
        resource.get("medicationCodeableConcept"), dict
    ):
        problems.append(_required(ctx, "medicationReference", None))
    problems += _concept_problems(
        resource.get("category"),
        "category",
        MEDICATION_DISPENSE_CATEGORY_SYSTEM,
        None,
        None,
        ctx,
    )
    for element in ("whenPrepared", "whenHandedOver"):
        if element in resource:
            problem = _datetime_problem(resource[element], element, ctx)
            if problem:
                problems.append(problem)
    return problems


TYPE_RULES: dict[str, Callable[[JsonDict, ValidationContext], Issues]] = {
    "Organization": _organization_rules,
    "Location": _location_rules,
    "Procedure": _procedure_rules,
    "AllergyIntolerance": _allergy_rules,
    "Encounter": _encounter_rules,
    "Condition": _condition_rules,
    "Observation": _observation_rules,
    "Medication": _medication_rules,
    "MedicationRequest": _medication_request_rules,
    "MedicationDispense": _medication_dispense_rules,
}
