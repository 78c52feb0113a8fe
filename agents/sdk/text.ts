/**
 * Reading numbers out of text content (an agent's commands are often plain text).
 */

/**
 * Parses a non-negative decimal integer of 1 to `maxDigits` digits (at most 15, so that
 * every value is exact), nothing else around it; -1 when `s` is not one.
 */
export function parseUnsigned (s: string, maxDigits: i32 = 15): i64 {
  if (s.length == 0 || s.length > min(maxDigits, 15)) return -1
  let value: i64 = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    value = value * 10 + <i64>(c - 48)
  }
  return value
}
