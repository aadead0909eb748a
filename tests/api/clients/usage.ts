// A small TypeScript client written against the types that openapi-typescript generates from the spec.
// tests/api/test_client_typescript.py generates ./schema.d.ts beside a copy of this file and runs tsc on it:
// if the spec stops documenting a shape used here (a 200 body, a field, a closed vocabulary, the Problem
// object), tsc fails. Nothing here runs; it only has to type-check.
import type { components, paths } from "./schema";

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer Body } } };
}
  ? Body
  : never;

export type IndicationPage = paths["/v1/indications"]["get"]["responses"]["200"]["content"]["application/json"];
export type IndicationQuery = NonNullable<paths["/v1/indications"]["get"]["parameters"]["query"]>;
export type DrugRecord = Json<"/v1/drugs/{slug}", "get">;
export type Problem = components["schemas"]["Problem"];
export type Indication = IndicationPage["data"][number];

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    const fields: string[] = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
    throw new ApiProblem({ ...problem, detail: [problem.detail, ...fields].join("; ") });
  }
  return (await response.json()) as T;
}

export interface OffLabelSummary {
  slugs: string[];
  firstEvidenceLevel: string | undefined;
  disclaimer: string;
  next: string | null | undefined;
  total: number;
}

export async function offLabelIndications(baseUrl: string): Promise<OffLabelSummary> {
  const query: IndicationQuery = { status: "off-label", limit: 50, sort: "slug" };
  const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const page = await getJson<IndicationPage>(`${baseUrl}/v1/indications?${search}`);
  const first: Indication | undefined = page.data[0];
  // List items carry every field, typed as required (a `fields=` page is the separate SparseList shape).
  const level: string | undefined = first?.evidence.level;
  const slugs: string[] = page.data.map((item) => item.slug);
  const names: string[] = page.data.map((item) => item.condition.name);
  void names;
  return {
    slugs,
    firstEvidenceLevel: level,
    disclaimer: page.meta.disclaimer,
    next: page.links.next,
    total: page.meta.total,
  };
}

export async function drugName(baseUrl: string, slug: string): Promise<string> {
  const record = await getJson<DrugRecord>(`${baseUrl}/v1/drugs/${encodeURIComponent(slug)}`);
  const disclaimer: string = record.meta.disclaimer;
  return disclaimer ? record.data.name : "";
}

// The approval status is a closed vocabulary in the spec, not any string.
const approved: Indication["status"] = "approved";
// @ts-expect-error "maybe" is not an approval status
const notAStatus: Indication["status"] = "maybe";

// A query parameter the operation does not declare is a type error (the service answers 400 for it).
// @ts-expect-error "colour" is not a parameter of listIndications
const unknownParameter: IndicationQuery = { colour: "blue" };

// `sort` is a closed list of the fields this operation sorts by, each ascending or descending.
const byEvidence: IndicationQuery["sort"] = "-evidence_level";
// @ts-expect-error indications are not sortable by name
const notSortable: IndicationQuery["sort"] = "name";

// The sparse shape of a `fields=` page is documented apart, under its own media type.
export type SparseIndicationPage =
  paths["/v1/indications"]["get"]["responses"]["200"]["content"]["application/vnd.ldnkb.sparse+json"];
export const sparseSlugs = (page: SparseIndicationPage): unknown[] => page.data.map((item) => item["slug"]);

export const examples = { approved, notAStatus, unknownParameter, byEvidence, notSortable };
