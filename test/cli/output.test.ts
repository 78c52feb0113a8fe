import assert from 'node:assert/strict'
import { Output, formatBytes, formatDuration, formatTime, previewContent } from '../../src/cli/output.js'

describe('cli: output formatting', () => {
  for (const [bytes, text] of [[0, '0 B'], [1023, '1023 B'], [1024, '1 KiB'], [1536, '1.5 KiB'], [10 * 1024, '10 KiB'], [16 * 1024 * 1024, '16 MiB'], [3 * 1024 ** 3, '3 GiB'], [5 * 1024 ** 4, '5120 GiB']] as const) {
    it(`formatBytes(${bytes}) = ${text}`, () => { assert.equal(formatBytes(bytes), text) })
  }
  for (const [ms, text] of [[-5, '0s'], [999, '0s'], [59_999, '59s'], [60_000, '1m'], [3_599_999, '59m'], [3_600_000, '1h'], [86_400_000 * 3, '3d']] as const) {
    it(`formatDuration(${ms}) = ${text}`, () => { assert.equal(formatDuration(ms), text) })
  }
  it('formatTime is UTC without milliseconds', () => {
    assert.equal(formatTime(Date.UTC(2024, 4, 1, 12, 30, 5, 999)), '2024-05-01 12:30:05Z')
  })
  it('previewContent flattens, truncates and sizes bytes', () => {
    assert.equal(previewContent(undefined), '-')
    assert.equal(previewContent('a\n  b'), 'a b')
    assert.equal(previewContent('x'.repeat(50), 10), 'xxxxxxxxx…')
    assert.equal(previewContent({ base64: 'AAECAw==' }), '<4 bytes>')
  })
  it('colours only when the io allows it', () => {
    let plain = ''
    let coloured = ''
    new Output({ stdout: (t) => { plain += t }, stderr: () => {} }, false).line(new Output({ stdout: () => {}, stderr: () => {} }, false).state('failed'))
    const out = new Output({ stdout: (t) => { coloured += t }, stderr: () => {}, color: true }, false)
    out.line(out.state('failed'))
    assert.equal(plain, 'failed\n')
    assert.match(coloured, /\u001b\[31mfailed\u001b\[39m/)
  })
  it('keyValue aligns keys and continues arrays on indented lines', () => {
    let text = ''
    new Output({ stdout: (t) => { text += t }, stderr: () => {} }, false).keyValue([['id', 'a'], ['addresses', ['x', 'y']], ['none', []]])
    assert.equal(text, 'id:        a\naddresses: x\n           y\nnone:      -\n')
  })
})
