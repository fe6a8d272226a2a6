import { Ajv, type ValidateFunction } from 'ajv';

/** The parts of an OpenAPI 3.0 document (`GET /docs/json`) a response is checked against. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

interface OpenApiOperation {
  responses: Record<string, { description?: string; content?: Record<string, { schema?: object }> }>;
}

export interface ObservedResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * What is wrong with `response` as the answer to `method pathTemplate` by the document: its status is
 * not documented, its content type is not one documented for that status, or its body does not
 * validate against that content type's schema (JSON bodies; other bodies only when empty or not).
 * An empty list: the response is one the document allows.
 */
export function conformanceProblems(
  document: OpenApiDocument,
  method: string,
  pathTemplate: string,
  response: ObservedResponse,
): string[] {
  const operation = document.paths[pathTemplate]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${pathTemplate} is not in the document`];
  const documented = operation.responses[String(response.statusCode)] ?? operation.responses.default;
  if (!documented) {
    return [
      `status ${response.statusCode} is not documented (${Object.keys(operation.responses).join(', ')})`,
    ];
  }
  const content = documented.content ?? {};
  if (Object.keys(content).length === 0) {
    return response.body === '' ? [] : [`status ${response.statusCode} is documented without a body`];
  }
  const contentType = String(response.headers['content-type'] ?? '');
  const mediaType = Object.keys(content).find((documentedType) =>
    mediaTypeMatches(documentedType, contentType),
  );
  if (mediaType === undefined) {
    return [`content type "${contentType}" is not documented (${Object.keys(content).join(', ')})`];
  }
  const schema = content[mediaType].schema;
  if (!schema || !isJson(mediaType)) return [];
  const validate = compile(schema, document);
  if (validate(JSON.parse(response.body))) return [];
  return (validate.errors ?? []).map((error) => `body${error.instancePath} ${error.message}`);
}

/**
 * `text/plain; version=0.0.4; charset=utf-8` is a `text/plain; version=0.0.4`; `image/png` is an
 * `image/*`. The documented type's parameters must all be in the actual one.
 */
export function mediaTypeMatches(documented: string, actual: string): boolean {
  const want = parseMediaType(documented);
  const got = parseMediaType(actual);
  const [wantType, wantSubtype] = want.essence.split('/');
  const [gotType, gotSubtype] = got.essence.split('/');
  return (
    (wantType === '*' || wantType === gotType) &&
    (wantSubtype === '*' || wantSubtype === gotSubtype) &&
    [...want.parameters].every(([name, value]) => got.parameters.get(name) === value)
  );
}

function parseMediaType(value: string): { essence: string; parameters: Map<string, string> } {
  const [essence, ...parameters] = value.split(';').map((part) => part.trim().toLowerCase());
  return {
    essence,
    parameters: new Map(
      parameters.map((parameter) => {
        const [name, parameterValue = ''] = parameter.split('=');
        return [name.trim(), parameterValue.trim().replace(/^"|"$/g, '')];
      }),
    ),
  };
}

function isJson(mediaType: string): boolean {
  const { essence } = parseMediaType(mediaType);
  return essence === 'application/json' || essence.endsWith('+json');
}

// OpenAPI 3.0 schemas: `nullable` (which Ajv knows), and formats such as `binary` that are not JSON Schema's.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const compiled = new Map<string, ValidateFunction>();

/** The schema with the document's components beside it, so `#/components/schemas/...` references resolve. */
function compile(schema: object, document: OpenApiDocument): ValidateFunction {
  const key = JSON.stringify([schema, document.components]);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: document.components ?? {} });
    compiled.set(key, validate);
  }
  return validate;
}
