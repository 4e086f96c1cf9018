// Validate JSON Feed files against the JSON Feed 1.1 schema of the npm package
// jsonfeed-schema, with ajv (draft-07) and ajv-formats (so "uri" and "date-time" are
// checked, not ignored).
//
// Usage: node validate_jsonfeed.mjs FILE...
// Install first: npm ci --prefix internal/publish/testdata
//
// Prints one JSON object {"FILE": {"valid": bool, "version": "...", "items": N,
// "ids": [...], "errors": [...]}} and exits 1 when any file is invalid.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const Ajv = require('ajv').default
const addFormats = require('ajv-formats').default
// The package's main export is the latest schema; 'jsonfeed-schema/v1.1' pins 1.1.
const schema = require('jsonfeed-schema/v1.1')

const ajv = new Ajv({ allErrors: true })
addFormats(ajv)
const validate = ajv.compile(schema)

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node validate_jsonfeed.mjs FILE...')
  process.exit(2)
}

const out = {}
let ok = true
for (const file of files) {
  const r = { valid: false, version: '', items: -1, ids: [], errors: [] }
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    r.valid = validate(doc)
    if (!r.valid) r.errors = validate.errors.map(e => `${e.instancePath || '/'} ${e.message}`)
    // The schema accepts version 1 too and does not insist that items is an array when absent.
    r.version = doc.version
    if (doc.version !== 'https://jsonfeed.org/version/1.1') {
      r.valid = false
      r.errors.push(`version ${JSON.stringify(doc.version)} is not 1.1`)
    }
    if (!Array.isArray(doc.items)) {
      r.valid = false
      r.errors.push('items is not an array')
    } else {
      r.items = doc.items.length
      r.ids = doc.items.map(it => it.id)
    }
  } catch (err) {
    r.errors.push(String(err))
  }
  ok &&= r.valid
  out[file] = r
}
console.log(JSON.stringify(out, null, 1))
process.exit(ok ? 0 : 1)
