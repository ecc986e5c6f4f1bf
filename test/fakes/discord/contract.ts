import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Checks what the bot sent the fake against Discord's own OpenAPI 3.1 description in
 * `../shared/specs/` (beside the repository, locally and in CI): the route and method exist,
 * path parameters and query keys are ones the operation declares, and a JSON body validates
 * against the operation's request schema. The path is matched against the description itself,
 * not taken from the fake's router, so a route the fake wrongly accepts is still caught.
 */

const SPEC_FILE = fileURLToPath(
  new URL('../../../../shared/specs/discord-openapi.json', import.meta.url),
);
const SPEC_ID = 'https://concord.test/discord-openapi.json';
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
}
type PathItem = Partial<Record<(typeof METHODS)[number], Operation>> & { parameters?: Parameter[] };

/** What the checker needs of a recorded call (the fake's `RestCall` fits). */
export interface ContractCall {
  method: string;
  /** Below `/api/v10`, e.g. `/channels/1234/messages`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

interface Loaded {
  ajv: Ajv2020;
  paths: { template: string; parts: string[]; item: PathItem }[];
  validators: Map<string, ValidateFunction>;
}
let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  const spec = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as {
    paths: Record<string, PathItem>;
    components: unknown;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  // ajv-formats is CommonJS; under NodeNext its default import is the module object.
  const plugin = (addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats;
  (plugin as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('snowflake', /^(0|[1-9][0-9]*)$/);
  ajv.addFormat('nonce', true);
  ajv.addSchema({ $id: SPEC_ID, components: spec.components });
  const paths = Object.entries(spec.paths).map(([template, item]) => ({
    template,
    parts: template.split('/').filter(Boolean),
    item,
  }));
  loaded = { ajv, paths, validators: new Map() };
  return loaded;
}

/** Points the description's local `#/components/...` references at the registered document. */
function anchored(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(anchored);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${SPEC_ID}${v}` : anchored(v),
    ]),
  );
}

function validator(key: string, schema: unknown): ValidateFunction {
  const { ajv, validators } = load();
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(anchored(schema) as object);
    validators.set(key, validate);
  }
  return validate;
}

const describe = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? [])
    .slice(0, 4)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');

/** The description's path for a concrete path; literal segments (`@me`) beat parameters. */
function findPath(path: string) {
  const segments = path.split('/').filter(Boolean);
  let best:
    | { entry: Loaded['paths'][number]; params: Record<string, string>; literals: number }
    | undefined;
  for (const entry of load().paths) {
    if (entry.parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const fits = entry.parts.every((part, i) => {
      const segment = decodeURIComponent(segments[i] ?? '');
      if (part.startsWith('{')) {
        params[part.slice(1, -1)] = segment;
        return true;
      }
      literals++;
      return part === segment;
    });
    if (fits && (!best || literals > best.literals)) best = { entry, params, literals };
  }
  return best;
}

function violationsOf(call: ContractCall): string[] {
  const method = call.method.toLowerCase() as (typeof METHODS)[number];
  const label = `${call.method.toUpperCase()} ${call.path}`;
  const found = findPath(call.path);
  if (!found) return [`${label}: no such route in Discord's API description`];
  const { entry, params } = found;
  const operation = entry.item[method];
  if (!operation) return [`${label}: ${entry.template} has no ${call.method.toUpperCase()}`];
  const key = `${call.method.toUpperCase()} ${entry.template}`;
  const declared = [...(entry.item.parameters ?? []), ...(operation.parameters ?? [])];
  const problems: string[] = [];

  for (const p of declared.filter((d) => d.in === 'path')) {
    const validate = validator(`${key} path ${p.name}`, p.schema ?? {});
    if (!validate(params[p.name]))
      problems.push(`${label}: path ${p.name} ${describe(validate.errors)}`);
  }
  const queryNames = new Set(declared.filter((d) => d.in === 'query').map((d) => d.name));
  for (const name of Object.keys(call.query ?? {}))
    if (!queryNames.has(name)) problems.push(`${label}: unknown query parameter ${name}`);

  const schema = operation.requestBody?.content?.['application/json']?.schema;
  if (call.body === undefined) {
    if (operation.requestBody?.required && schema !== undefined)
      problems.push(`${label}: a JSON body is required`);
  } else if (schema === undefined) {
    problems.push(`${label}: ${key} takes no JSON body`);
  } else {
    const validate = validator(`${key} body`, schema);
    if (!validate(call.body)) problems.push(`${label}: body ${describe(validate.errors)}`);
  }
  return problems;
}

/** Every way the recorded calls break Discord's API description; empty when they all fit. */
export function discordContractViolations(calls: readonly ContractCall[]): string[] {
  return calls.flatMap(violationsOf);
}
