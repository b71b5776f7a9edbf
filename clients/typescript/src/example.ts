/**
 * What a front-end team writes against the API, type-checked with `tsc --strict` against types
 * generated from the committed OpenAPI document. A contract change that breaks it fails the build.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type ClusterYearSheet = components["schemas"]["ClusterYearSheet"];
type MembershipOut = components["schemas"]["MembershipOut"];
type LeadershipOut = components["schemas"]["LeadershipOut"];
type Problem = components["schemas"]["Problem"];
type MembershipConflict = components["schemas"]["MembershipConflict"];
type Standings = components["schemas"]["Standings"];

/** JSON answers only (`application/json`, `application/problem+json`): the sheet and the
 * standings are also served as CSV and XLSX, which `exportStandings` asks for. */
export function thidua(baseUrl: string, apiKey: string) {
  return createClient<paths, `${string}/${string}json`>({
    baseUrl,
    headers: { Authorization: `Bearer ${apiKey}`, "Accept-Language": "vi" },
  });
}
type Client = ReturnType<typeof thidua>;

/** One call per screen: the cluster-year sheet, revalidated with its ETag. */
export async function readSheet(
  api: Client,
  number: number,
  year: number,
  etag?: string,
): Promise<{ sheet: ClusterYearSheet | null; etag: string | null }> {
  const { data, error, response } = await api.GET("/v1/clusters/{number}/years/{year}", {
    params: { path: { number, year }, header: etag ? { "If-None-Match": etag } : {} },
  });
  if (response.status === 304) return { sheet: null, etag: etag ?? null };
  if (error) throw new Error(describe(error));
  const leader = data.leadership?.leader.unit.name ?? "chưa có";
  console.log(`Cụm ${data.cluster.number} năm ${data.year}: ${data.members.length} thành viên, Cụm trưởng ${leader}`);
  return { sheet: data, etag: response.headers.get("ETag") };
}

/** A retried creation writes once: the same Idempotency-Key replays the first answer. */
export async function recordMembership(api: Client, unitId: number, cluster: number): Promise<MembershipOut> {
  const { data, error, response } = await api.POST("/v1/memberships", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { unit_id: unitId, cluster, valid_from: "2026-01-01", source: "Quyết định của Bộ" },
  });
  if (error) throw new Error(describe(error));
  console.log(`membership ${data.id} at ${response.headers.get("Location")}`);
  return data;
}

/** Replace a year's leadership without overwriting anyone else's change: read, then If-Match. */
export async function replaceLeadership(
  api: Client,
  number: number,
  year: number,
  leaderUnitId: number,
  deputyUnitId: number,
): Promise<LeadershipOut> {
  const path = { number, year };
  const current = await api.GET("/v1/clusters/{number}/years/{year}/leadership", { params: { path } });
  const etag = current.response.headers.get("ETag");
  if (current.error || etag === null) throw new Error("no leadership to replace yet");
  const { data, error } = await api.PUT("/v1/clusters/{number}/years/{year}/leadership", {
    params: { path, header: { "If-Match": etag } },
    body: { leader_unit_id: leaderUnitId, deputy_unit_id: deputyUnitId, decided_on: `${year - 1}-11-25` },
  });
  if (error) throw new Error(describe(error));
  return data;
}

/** The leader of the standings (dẫn đầu): rank 1, or null while scores are missing. */
export async function leaderOfStandings(api: Client, number: number, year: number): Promise<Standings["rows"][number] | null> {
  const { data, error } = await api.GET("/v1/clusters/{number}/years/{year}/standings", {
    params: { path: { number, year } },
  });
  if (error) throw new Error(describe(error));
  console.log(`phiên bản ${data.version}${data.frozen ? " (đã chốt)" : ""}`);
  return data.rows.find((row) => row.rank === 1) ?? null;
}

/** The standings as an Excel file with Vietnamese headers, and the file name the server gives. */
export async function exportStandings(
  baseUrl: string,
  apiKey: string,
  number: number,
  year: number,
): Promise<{ file: Blob; name: string | null }> {
  const files = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const { data, error, response } = await files.GET("/v1/clusters/{number}/years/{year}/standings", {
    params: { path: { number, year }, query: { format: "xlsx" } },
    parseAs: "blob",
  });
  if (error || data === undefined) throw new Error(`export failed: ${response.status}`);
  const name = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get("Content-Disposition") ?? "")?.[1];
  return { file: data, name: name ? decodeURIComponent(name) : null };
}

/** Every error is an RFC 9457 problem; programs read `type` and the extension members, which the
 * problem schema of each status declares (`MembershipConflict` on a membership's 409, …). */
function describe(problem: Problem & Partial<Pick<MembershipConflict, "conflicting_leaderships">>): string {
  const conflicts = problem.conflicting_leaderships?.map((l) => `${l.cluster}/${l.year} ${l.role}`) ?? [];
  return [`${problem.status} ${problem.title}`, problem.detail, problem.request_id, ...conflicts]
    .filter((part): part is string => typeof part === "string")
    .join(" — ");
}
