import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * Checks what the app sent the fake against Slack's own API descriptions in `../shared/specs/`
 * (beside the repository, locally and in CI). The Web API description is from 2021, so two known
 * gaps are tolerated: it lacks `team_id`, and it lists some methods as GET although clients POST
 * every call; the HTTP verb is therefore not checked at all.
 */

const SPECS = new URL('../../../../shared/specs/', import.meta.url);

interface SpecParameter {
  name: string;
  in: string;
  type?: string;
  required?: boolean;
  description?: string;
}

interface MethodSpec {
  parameters: Map<string, SpecParameter>;
}

// Parameters Slack added after the description was written, accepted everywhere.
const KNOWN_MISSING = new Set(['team_id']);

let methods: Map<string, MethodSpec> | undefined;

function loadMethods(): Map<string, MethodSpec> {
  if (methods) return methods;
  const spec = JSON.parse(
    readFileSync(fileURLToPath(new URL('slack_web_openapi_v2.json', SPECS)), 'utf8'),
  ) as { paths: Record<string, Record<string, { parameters?: SpecParameter[] }>> };
  methods = new Map();
  for (const [path, operations] of Object.entries(spec.paths)) {
    const parameters = new Map<string, SpecParameter>();
    for (const operation of Object.values(operations)) {
      for (const p of operation.parameters ?? []) parameters.set(p.name, p);
    }
    methods.set(path.replace(/^\//, ''), { parameters });
  }
  return methods;
}

/** Why `value` does not fit the parameter's declared type; undefined when it does. */
function typeProblem(parameter: SpecParameter, value: unknown): string | undefined {
  switch (parameter.type) {
    case 'integer':
      // Form-encoded values are strings; a numeric string is an integer on the wire.
      return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value))
        ? undefined
        : 'an integer';
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? undefined
        : 'a boolean';
    case 'string':
      if (typeof value === 'string') return undefined;
      // A JSON body may carry a JSON-typed parameter (blocks, attachments) as a structure.
      if (
        typeof value === 'object' &&
        value !== null &&
        /json/i.test(parameter.description ?? '')
      ) {
        return undefined;
      }
      return 'a string';
    default:
      return undefined;
  }
}

/** One recorded Web API call, as the fake records them. */
export interface ContractCall {
  method: string;
  params: Record<string, unknown>;
}

/**
 * Every way the recorded calls break the Web API description: unknown methods, missing required
 * parameters, parameters the method does not take, and values of the wrong type. `token` is
 * ignored because it travels in the Authorization header.
 */
export function slackContractViolations(calls: readonly ContractCall[]): string[] {
  const spec = loadMethods();
  const problems: string[] = [];
  for (const call of calls) {
    const method = spec.get(call.method);
    if (!method) {
      problems.push(`${call.method}: not a Slack Web API method`);
      continue;
    }
    for (const parameter of method.parameters.values()) {
      if (parameter.name === 'token' || !parameter.required) continue;
      if (call.params[parameter.name] === undefined) {
        problems.push(`${call.method}: required parameter ${parameter.name} is missing`);
      }
    }
    for (const [name, value] of Object.entries(call.params)) {
      if (name === 'token' || KNOWN_MISSING.has(name)) continue;
      const parameter = method.parameters.get(name);
      if (!parameter) {
        problems.push(`${call.method}: takes no parameter ${name}`);
        continue;
      }
      const expected = typeProblem(parameter, value);
      if (expected) {
        problems.push(
          `${call.method}: ${name} should be ${expected}, got ${JSON.stringify(value)}`,
        );
      }
    }
  }
  return [...new Set(problems)];
}

let envelopeValidator: ValidateFunction | undefined;

function loadEnvelopeValidator(): ValidateFunction {
  if (envelopeValidator) return envelopeValidator;
  const spec = JSON.parse(
    readFileSync(fileURLToPath(new URL('slack_events_api_async_v1.json', SPECS)), 'utf8'),
  ) as { components: { schemas: { GenericEventWrapper: object } } };
  // The description carries vendor keywords (`x-examples`) that strict mode would reject.
  envelopeValidator = new Ajv({ strict: false, allErrors: true }).compile(
    spec.components.schemas.GenericEventWrapper,
  );
  return envelopeValidator;
}

/**
 * Problems with Events API envelopes the fake sent, checked against the AsyncAPI description's
 * `GenericEventWrapper`. Only `event_callback` envelopes are checked: the description's
 * per-event payloads (e.g. `message`) were generated from single samples and require fields real
 * events lack, and `url_verification` has no schema of its own.
 */
export function slackEnvelopeViolations(envelopes: readonly unknown[]): string[] {
  const validate = loadEnvelopeValidator();
  const problems: string[] = [];
  for (const envelope of envelopes) {
    const type = (envelope as { type?: unknown } | null)?.type;
    if (type !== 'event_callback') continue;
    if (!validate(envelope)) {
      const id = (envelope as { event_id?: unknown }).event_id ?? '(no event_id)';
      for (const error of validate.errors ?? []) {
        problems.push(`envelope ${String(id)}: ${error.instancePath || '/'} ${error.message}`);
      }
    }
  }
  return problems;
}
