"""Schema-driven fuzzing: schemathesis with ALL its checks and ALL its phases, stateful included, against the live spec.

The spec is generated fresh from the app, and the real service runs in a uvicorn subprocess (on SQLite and,
when configured, PostgreSQL). The first test runs schemathesis' own engine exactly as ``st run`` does with its
default phases (examples, coverage, fuzzing, stateful) and every registered check enabled, like
``--checks all``: no 5xx, documented statuses, content types, headers and schemas, valid data accepted,
invalid data rejected, ``Allow`` and unsupported methods, missing required headers, authentication, resources
that stay available or deleted, and responses within 10 s. The stateful phase chains operations through the
spec's OpenAPI links (app/api/links.py). Examples are bounded and derandomized: the same run every time.

The second test sends a fixed list of hostile inputs that have broken services like this one before (huge
``limit``, malformed ``cursor``, odd ``sort``, unknown ``fields``, unicode and NUL in slugs and filters,
repeated parameters, NUL characters in JSON bodies) to every operation that takes them, under the same checks.

All failures of a run are collected and reported together (operation, check, a curl command).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api.clients.live import live_service, openapi_document
from tests.ops.server import Server

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 20  # hypothesis examples per operation and phase (and stateful scenarios per link)
STATEFUL_SCENARIOS = 80
#: A refusal by the request guard (app/api/limits.py) before any route sees the data is a rejection too.
REJECTION_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "431"]
#: False positives, each switched off for only the operations it is false for, with the reason.
CONFIG: dict[str, Any] = {
    # NUL characters are refused in every parameter on purpose (a 400 that names it; PostgreSQL cannot store
    # U+0000): schemathesis' own switch for such servers keeps them out of generated data, and the hostile
    # probes of the second test send them to every operation and check each refusal.
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "allow-x00": False},
    # More scenarios in the stateful phase, so that it walks most of the declared links.
    "phases": {"stateful": {"generation": {"max-examples": STATEFUL_SCENARIOS}}},
    "checks": {
        # `--checks all` also turns on the response time check, at its default limit.
        "max_response_time": 10,
        "negative_data_rejection": {"expected-statuses": REJECTION_STATUSES},
    },
    "operations": [
        {
            # The dose check reads its inputs with the dose grammar of app/domain/dosing (units, frequencies,
            # weekly schedules such as "50 mg weekdays + 100 mg Saturday", and which of them go together):
            # text a JSON Schema cannot describe, so "schema-valid" text is often no dose at all, and a 422 that
            # says why is the right answer. Every other check still runs on these operations.
            "include-operation-id": ["checkDose", "checkDoseByQuery"],
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    ],
}
NO_LETTER = b"q must contain at least one letter or digit"
WRONG_HOOK = b" hook, not "
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is recorded as found
)

# Hostile inputs for the parameters most list operations share; each is sent alone, to each operation that
# declares the parameter.
QUERY_PROBES: list[tuple[str, Any]] = [
    ("limit", 10**12),
    ("limit", 0),
    ("limit", -1),
    ("limit", "ten"),
    ("limit", ["1", "2"]),
    ("cursor", "!!!not-base64!!!"),
    ("cursor", "eyJ4IjoxfQ"),  # base64 of {"x":1}: decodes, but is no cursor of ours
    ("cursor", "A" * 512),
    ("cursor", "A" * 513),
    ("cursor", "\x00"),
    ("sort", "no_such_field"),
    ("sort", "-"),
    ("sort", "--slug"),
    ("sort", ["slug", "-slug"]),
    ("fields", "slug,name"),
    ("fields", "no_such_field"),
    ("fields", "slug,no_such_field"),
    ("fields", "slug,,name"),
    ("fields", ["slug", "name"]),
    ("status", ["approved", "off-label"]),
    ("regimen", "a\x00b"),
    ("condition", "fibromyalgi\u00e4"),
    ("condition", "\x00"),
    ("target", "\U0001f9ea"),
    ("target", "TLR4\x00"),
    ("code", "K50\x00"),
    ("q", "\x00"),
    ("q", "%" * 200),
    ("q", "naltrex*"),
]
SLUG_PROBES = [
    "naltr\u00e9xone",
    "\u0646\u0627\u0644\u062a\u0631\u0643\u0633\u0648\u0646",
    "a" * 121,
    "-",
    "a--b",
    "%00",
]


# Failures already reported to the owner of the code at fault, with the reason; they are printed, not failed
# on. Each entry: (query parameter present in the request, failure code, reason). Remove an entry once fixed.
KNOWN_ISSUES: list[tuple[str, str, str]] = []  # (query parameter, check code, reason): none open


def _known(case: Case[Any], codes: set[str]) -> str | None:
    query = case.query or {}
    for name, code, reason in KNOWN_ISSUES:
        if name in query and codes == {code}:
            return reason
    return None


@dataclass
class Run:
    examples: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    known: Counter[str] = field(default_factory=Counter)

    def validate(self, case: Case[Any], response: Any, label: str) -> None:
        self.examples[label] += 1
        try:
            case.validate_response(response)  # every check the schema's config enables: all of them
        except FailureGroup as group:
            kinds = sorted({f"{f.code} {f.title}" for f in group.exceptions})
            if response.status_code == 414 and {f.code for f in group.exceptions} == {"ST201"}:
                # A request too long to read is refused (documented 414) before its data is checked: that is a
                # rejection, though not one of the statuses the negative-data check expects.
                self.known["414 refusal of a too-long invalid request"] += 1
                return
            reason = _known(case, {f.code for f in group.exceptions})
            if reason is not None:
                self.known[reason] += 1
                return
            self.failures.append(
                f"{label} -> {response.status_code} ({'; '.join(kinds)})\n  {case.as_curl_command()}\n"
                f"  {response.text[:300]}"
            )


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_service(database_url, tmp_path_factory.mktemp("schemathesis-server")) as running_server:
        yield running_server


def load_schema(base_url: str | None = None, document: dict[str, Any] | None = None) -> OpenApiSchema:
    """The app's spec under :data:`CONFIG`, with the one hook below."""
    config = SchemathesisConfig.from_dict({**CONFIG, **({"base-url": base_url} if base_url else {})})
    schema = schemathesis.openapi.from_dict(document or openapi_document(), config=config)

    @schema.hook
    def filter_failure(ctx: Any, failure: Failure, case: Case[Any], response: Any) -> bool:
        """False positives of the "schema-valid request rejected" check, each dropped for only its answer.

        A cursor is an opaque token only a previous page gives (``links.next``): a generated one is no
        cursor, and its 400 ``invalid-cursor`` is the right answer, not a schema-valid request rejected. Only
        that one failure on that one problem type is dropped; a cursor's other failures (a 5xx) still count."""
        if failure.code != "ST202":
            return True
        generated_cursor = "cursor" in (case.query or {})
        if generated_cursor and response.status_code == 400 and b"/problems/invalid-cursor" in response.content:
            return False
        # The search folds what was typed (accents, Greek letters, ligatures) before it looks for a letter or a
        # digit; "has one after Unicode folding" is no JSON Schema pattern, so a `q` of only symbols ("±") is
        # schema-valid and rightly a 422 that says so. Only that answer on that operation is dropped.
        if case.operation.label == "GET /v1/search" and NO_LETTER in response.content:
            return False
        # Each CDS service answers one hook: which `hook` goes with which `service_id` is a rule between the path
        # and the body that OpenAPI cannot state on one operation (discovery says it, per service).
        return not (case.operation.label == "POST /cds-services/{service_id}" and WRONG_HOOK in response.content)

    return schema


@dataclass
class EngineRun:
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    tested: Counter[str] = field(default_factory=Counter)
    phases: dict[str, Status] = field(default_factory=dict)
    links_total: int = 0
    links_covered: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def run_engine(schema: OpenApiSchema) -> EngineRun:
    """schemathesis' engine, the one ``st run`` drives, with every failure of every scenario collected."""
    run = EngineRun()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            run.tested[event.label or ""] += 1
            for case_id, checks in event.recorder.checks.items():
                node = event.recorder.cases.get(case_id)
                if node is not None and node.transition is not None and node.is_transition_applied:
                    run.links_covered.add(node.transition.id)
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        key = (event.recorder.label, check.name, f"{failure.code} {failure.title}: {failure.message}")
                        run.failures.setdefault(key, check.failure_info.code_sample)
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            run.links_total = event.payload.transitions_total - event.payload.inferred_transitions
        elif isinstance(event, events.PhaseFinished):
            run.phases[event.phase.name.value] = event.status
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            run.errors.append(str(getattr(event, "info", event)))
    return run


def _with_nul(value: Any) -> Any:
    """Every string inside a JSON body with a NUL character appended (PostgreSQL rejects U+0000 in text)."""
    if isinstance(value, str):
        return value + "\x00"
    if isinstance(value, dict):
        return {k: _with_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_nul(v) for v in value]
    return value


def _fuzz_nul_bodies(operation: Any, run: Run, base_url: str, session: requests.Session) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def each(case: Case[Any]) -> None:
        case.body = _with_nul(case.body)
        response = case.call(base_url=base_url, session=session)
        run.validate(case, response, f"{operation.label} [NUL body]")

    each()


def _probe(operation: Any, run: Run, base_url: str, session: requests.Session) -> None:
    declared = {p.name for p in operation.query}
    path_names = [p.name for p in operation.path_parameters]
    valid_path = {name: "naltrexone" for name in path_names}
    for name, value in QUERY_PROBES:
        if name in declared:
            case = operation.Case(path_parameters=valid_path or None, query={name: value})
            run.validate(case, case.call(base_url=base_url, session=session), f"{operation.label} [probe]")
    if "slug" in path_names:
        for slug in SLUG_PROBES:
            case = operation.Case(path_parameters={**valid_path, "slug": slug})
            run.validate(case, case.call(base_url=base_url, session=session), f"{operation.label} [probe]")


def test_every_check_of_every_phase_passes_on_every_operation(server: Server) -> None:
    schema = load_schema(server.url)
    load_all_checks()
    enabled = schema.config.checks_config_for(operation=schema.find_operation_by_id("listDrugs"), phase=None)
    registered = [check.__name__ for check in CHECKS.get_all()] + ["max_response_time"]
    assert all(enabled.get_by_name(name=name).enabled for name in registered), "not every check is on"
    results = list(schema.get_all_operations())
    invalid = [str(result.err()) for result in results if isinstance(result, Err)]
    assert not invalid, f"schemathesis cannot read these operations: {invalid}"
    labels = {result.ok().label for result in results if isinstance(result, Ok)}
    assert len(labels) >= 20, f"only {len(labels)} operations in the spec"

    run = run_engine(schema)

    summary = (
        f"{len(labels)} operations, {sum(run.tested.values())} scenarios, stateful: {len(run.links_covered)} of "
        f"{run.links_total} declared links followed; phases {run.phases}"
    )
    print(f"schemathesis: {summary}; {len(run.failures)} failing")
    assert not run.errors, run.errors
    assert set(run.phases) >= {"examples", "coverage", "fuzzing", "stateful"}, run.phases
    assert run.phases["stateful"] != Status.SKIP, "the stateful phase did not run"
    untested = sorted(labels - set(run.tested))
    assert not untested, f"no scenario for: {untested}"
    failures = [f"{label}: {check} ({title})\n  {curl[:600]}" for (label, check, title), curl in run.failures.items()]
    assert not failures, f"{summary}; {len(failures)} failed:\n\n" + "\n\n".join(failures[:40])
    # The declared links are in the spec, and the stateful phase follows them (the Bulk Data flow among them).
    assert run.links_total >= 40, summary
    assert "GET /fhir/R4/$export -> [202] status -> GET /fhir/R4/$export-status/{job}" in run.links_covered
    assert len(run.links_covered) >= 10, sorted(run.links_covered)


def test_hostile_inputs_pass_every_check(server: Server) -> None:
    schema = load_schema()
    # Invalid data may also be refused by the request guard before any route sees it: a documented 413, 414
    # or 431 problem is a rejection too (CONFIG).
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    run = Run()
    with requests.Session() as session:
        for operation in operations:
            if operation.method.upper() == "GET":
                _probe(operation, run, server.url, session)
            elif any(body.media_type == "application/json" for body in operation.body):
                _fuzz_nul_bodies(operation, run, server.url, session)
    total = sum(run.examples.values())
    print(f"schemathesis probes: {total} requests, {len(run.failures)} failing")
    assert total > 300
    for _, _, reason in KNOWN_ISSUES:
        seen = run.known[reason]
        print(f"schemathesis: known issue, {seen} requests: {reason}" if seen else f"schemathesis: fixed? {reason}")
    assert not run.failures, f"{total} requests; {len(run.failures)} failed:\n\n" + "\n\n".join(run.failures[:40])


def test_fuzzing_detects_an_undocumented_status(server: Server) -> None:
    """Control: with 404 dropped from getDrug's documented responses, an unknown slug must be reported."""
    document = openapi_document()
    del document["paths"]["/v1/drugs/{slug}"]["get"]["responses"]["404"]
    operation = load_schema(document=document).find_operation_by_id("getDrug")
    run = Run()
    with requests.Session() as session:
        case = operation.Case(path_parameters={"slug": "no-such-drug"})
        run.validate(case, case.call(base_url=server.url, session=session), operation.label)
    assert len(run.failures) == 1
    assert "Undocumented status code" in run.failures[0]
