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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .clock import has_utc_offset, is_fhir_datetime, parse_fhir_datetime
from .config import SimulatorConfig
from .errors import issue
from .store import ResourceStore, identifiers_of
from .terminology import (
    CONDITION_CLINICAL_STATUSES,
    CONDITION_CODE_SYSTEMS,
    DIAGNOSIS_ROLE_SYSTEM,
    DISCHARGE_DISPOSITION_SYSTEM,
    ICD10_SYSTEM,
    KFA_SYSTEM,
    LOINC_SYSTEM,
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
PRESCRIPTION_ITEM_PREFIX = "http://sys-ids.kemkes.go.id/prescription-item/"

# Types whose sys-ids identifier must be unique (the platform answers 400 `duplicate`).
UNIQUE_IDENTIFIER_TYPES = frozenset({"Encounter", "Medication"})
# Referenced types the simulator can resolve; references to other types are not checked.
RESOLVABLE_TYPES = frozenset(
    {"Patient", "Practitioner", "Location", "Organization", "Encounter", "Condition", "Medication"}
)

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
    "Composition": ("status", "type", "date", "author", "title"),
    "MedicationRequest": ("status", "intent", "subject"),
}
ARRAY_FIELDS: dict[str, tuple[str, ...]] = {
    "Encounter": ("identifier", "participant", "location", "statusHistory", "diagnosis"),
    "Condition": ("identifier", "category"),
    "Observation": ("identifier", "category", "performer"),
    "Organization": ("identifier", "type", "telecom", "address"),
    "Location": ("identifier", "telecom"),
    "Procedure": ("identifier", "performer"),
    "Medication": ("identifier", "ingredient"),
    "MedicationRequest": ("identifier", "category", "dosageInstruction"),
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
    if not is_fhir_datetime(value):
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


def _coding_systems_problems(
    concept: Any, element: str, system: str, rule: int, ctx: ValidationContext
) -> Issues:
    problems: Issues = []
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for index, coding in enumerate(codings if isinstance(codings, list) else []):
        if isinstance(coding, dict) and coding.get("system") != system:
            path = ctx.expr(f"{element}.coding[{index}].system")
            problems.append(
                issue(
                    "value",
                    code_not_found_text(coding.get("code"), coding.get("system"), rule),
                    expression=[path],
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
    if not _has_reference(resource.get("serviceProvider")):
        problems.append(_required(ctx, "serviceProvider", 10124))

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
    earliest = parse_fhir_datetime(ctx.config.earliest_date)
    if start and earliest and start < earliest:
        problems.append(
            issue(
                "value",
                f"{ctx.expr('period.start')} must not be earlier than {ctx.config.earliest_date}",
                expression=[ctx.expr("period.start")],
            )
        )
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

    for index, diagnosis in enumerate(resource.get("diagnosis") or []):
        if isinstance(diagnosis, dict) and "use" in diagnosis:
            problems += _coding_systems_problems(
                diagnosis["use"], f"diagnosis[{index}].use", DIAGNOSIS_ROLE_SYSTEM, 10317, ctx
            )
    hospitalization = resource.get("hospitalization")
    if isinstance(hospitalization, dict) and "dischargeDisposition" in hospitalization:
        problems += _coding_systems_problems(
            hospitalization["dischargeDisposition"],
            "hospitalization.dischargeDisposition",
            DISCHARGE_DISPOSITION_SYSTEM,
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
    for index, coding in enumerate(
        clinical.get("coding", []) if isinstance(clinical, dict) else []
    ):
        if isinstance(coding, dict) and coding.get("code") not in CONDITION_CLINICAL_STATUSES:
            problems.append(
                issue(
                    "value",
                    code_not_found_text(coding.get("code"), coding.get("system"), 10006),
                    expression=[ctx.expr(f"clinicalStatus.coding[{index}].code")],
                )
            )
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
    if not _has_reference(resource.get("subject")):
        problems.append(_required(ctx, "subject", None))
    problems += _collect_datetimes(resource, [("effectiveDateTime", 10295), ("issued", None)], ctx)
    if not _is_vital_sign(resource):
        return problems
    codings = resource["code"].get("coding") if isinstance(resource["code"], dict) else None
    codings = codings if isinstance(codings, list) else []
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


def _medication_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    code = resource.get("code")
    raw = code.get("coding") if isinstance(code, dict) else None
    codings = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
    if any(
        c.get("system") == KFA_SYSTEM and kfa_code_plausible(str(c.get("code", "")))
        for c in codings
    ):
        return []
    first = codings[0] if codings else {}
    return [
        issue(
            "value",
            code_not_found_text(first.get("code"), first.get("system"), 10024),
            expression=[_code_expression(ctx, 0)],
        )
    ]


def _medication_request_rules(resource: JsonDict, ctx: ValidationContext) -> Issues:
    if any(
        system.startswith(PRESCRIPTION_ITEM_PREFIX) for system, _value in identifiers_of(resource)
    ):
        return []
    return [_required(ctx, "identifier (prescription-item)", 10388)]


TYPE_RULES: dict[str, Callable[[JsonDict, ValidationContext], Issues]] = {
    "Encounter": _encounter_rules,
    "Condition": _condition_rules,
    "Observation": _observation_rules,
    "Medication": _medication_rules,
    "MedicationRequest": _medication_request_rules,
}
