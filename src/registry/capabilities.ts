/**
 * Capabilities as a deployer declares them (the FIPA Directory Facilitator's service
 * descriptions): shape and limits checked with zod, the optional `schema` checked against
 * the JSON Schema draft-07 meta-schema with ajv. Limits are the registry CRDT's
 * (`protocols/registry/validate.ts` `LIMITS`), so anything accepted here is accepted by
 * the replica.
 */
import { Ajv } from 'ajv'
import { z } from 'zod'
import { LIMITS, type Capability, type JsonValue } from '../../protocols/registry/index.js'
import { InvalidCapabilityError } from './errors.js'

// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/

const text = (min: number, max: number): z.ZodString =>
  z.string().min(min, `must be ${min}-${max} characters`).max(max, `must be ${min}-${max} characters`).regex(NO_CONTROL, 'must not contain control characters')

const capabilitySchema = z.strictObject({
  name: text(1, LIMITS.capabilityNameLength),
  description: text(0, LIMITS.capabilityDescriptionLength).optional(),
  version: text(1, LIMITS.capabilityVersionLength).optional(),
  schema: z.unknown().optional()
})

const listSchema = z.array(capabilitySchema).max(LIMITS.capabilities, `at most ${LIMITS.capabilities} capabilities per agent`)

// One validator for meta-schema checks only: user schemas are never compiled here (a
// schema's `pattern`s are not ours to run).
const ajv = new Ajv({ strict: false, validateSchema: false, addUsedSchema: false })

/**
 * Checks capabilities given at deploy time (a JSON array of `{ name, description?,
 * version?, schema? }`) and returns them as the registry stores them.
 * @param field - how the caller names the input in errors (`body.capabilities`, `--capabilities file`)
 * @throws InvalidCapabilityError naming the offending element and why
 */
export function parseCapabilities (input: unknown, field = 'capabilities'): Capability[] {
  const parsed = listSchema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue.path.reduce<string>((p, k) => typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`, field)
    const reason = issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (expected name, description, version, schema)`
      : issue.code === 'invalid_type' && issue.path.length === 0 ? 'must be an array of { name, description?, version?, schema? }' : issue.message
    throw new InvalidCapabilityError(path, reason)
  }
  const seen = new Set<string>()
  return parsed.data.map((c, i) => {
    const where = `${field}[${i}]`
    const key = `${c.name}\u0000${c.version ?? ''}`
    if (seen.has(key)) throw new InvalidCapabilityError(where, `${JSON.stringify(c.name)}${c.version === undefined ? '' : `@${c.version}`} is listed twice`)
    seen.add(key)
    const out: { name: string, description?: string, version?: string, schema?: JsonValue } = { name: c.name }
    if (c.description !== undefined) out.description = c.description
    if (c.version !== undefined) out.version = c.version
    if (c.schema !== undefined) out.schema = checkSchema(c.schema, `${where}.schema`)
    return out
  })
}

/**
 * Parses `name` or `name@version` (the CLI's `--capability`, the REST raw form's
 * `?capability=`). The version is what follows the last `@`; a name containing `@`
 * needs the JSON form.
 * @throws InvalidCapabilityError
 */
export function parseCapabilityRef (ref: string, field = 'capability'): Capability {
  const at = ref.lastIndexOf('@')
  const candidate = at > 0 ? { name: ref.slice(0, at), version: ref.slice(at + 1) } : { name: ref }
  try {
    return parseCapabilities([candidate], field)[0]
  } catch (err) {
    if (!(err instanceof InvalidCapabilityError)) throw err
    throw new InvalidCapabilityError(field + err.field.slice(`${field}[0]`.length), `${err.reason} (in ${JSON.stringify(ref)})`)
  }
}

/** `name` or `name@version`, as shown in tables. */
export function formatCapability (c: Pick<Capability, 'name' | 'version'>): string {
  return c.version === undefined ? c.name : `${c.name}@${c.version}`
}

function checkSchema (schema: unknown, field: string): JsonValue {
  let nodes = 0
  const walk = (v: unknown, path: string, depth: number): void => {
    if (++nodes > LIMITS.schemaNodes) throw new InvalidCapabilityError(field, `more than ${LIMITS.schemaNodes} values`)
    if (depth > LIMITS.schemaDepth) throw new InvalidCapabilityError(path, `nested deeper than ${LIMITS.schemaDepth}`)
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new InvalidCapabilityError(path, 'must be a finite number')
      return
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => { walk(x, `${path}[${i}]`, depth + 1) })
      return
    }
    if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, depth + 1)
      return
    }
    throw new InvalidCapabilityError(path, 'must be JSON')
  }
  walk(schema, field, 0)
  if (typeof schema !== 'object' && typeof schema !== 'boolean') {
    throw new InvalidCapabilityError(field, 'must be a JSON Schema: an object or a boolean')
  }
  if (schema === null || Array.isArray(schema)) throw new InvalidCapabilityError(field, 'must be a JSON Schema: an object or a boolean')
  if (ajv.validateSchema(schema as object | boolean) !== true) {
    const first = ajv.errors?.[0]
    const where = first?.instancePath !== undefined && first.instancePath !== '' ? `${field}${first.instancePath.replaceAll('/', '.')}` : field
    throw new InvalidCapabilityError(where, `is not a valid JSON Schema (draft-07): ${first?.message ?? 'rejected by the meta-schema'}`)
  }
  return schema as JsonValue
}
