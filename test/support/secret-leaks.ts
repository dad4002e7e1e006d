/**
 * What counts as a key leaking into text a test can read (console, progress lines, record,
 * report, error text). Looking for whole keys, or for a 12- or 16-character piece of one, lets
 * a key's head or tail through; so:
 *
 * - PIECE: any run of PIECE_LENGTH (8) or more consecutive characters of a key is a leak. Every
 *   longer piece contains an 8-character one, so looking for each 8-character substring of each
 *   key finds them all (a 44-character key has 37).
 * - LENGTH: a key's length, written as a whole decimal number (no digit or "." either side) next
 *   to a word that makes it a length, is a leak: the number followed by an optional "-" or space
 *   and then char(s)/character(s)/byte(s)/b/digit(s)/symbol(s)/letter(s)/long ("(44 chars)",
 *   "44-byte", "44b"), or preceded by length/len/size/chars/characters/bytes and an optional
 *   ":", "=", "of", "is" or "was" and an optional quote ("length 44", "len=44", "size: 44",
 *   "chars=44"). Counts of keys ("3 key(s)", "threshold 3") are not lengths and are allowed.
 */
export const PIECE_LENGTH = 8;

/** Every PIECE_LENGTH-character substring of `key` (the key itself when it is shorter). */
export function keyPieces(key: string): string[] {
  if (key.length <= PIECE_LENGTH) return [key];
  return Array.from({ length: key.length - PIECE_LENGTH + 1 }, (_, i) => key.slice(i, i + PIECE_LENGTH));
}

const AFTER_NUMBER = String.raw`\s?-?\s?(?:chars?|characters?|bytes?|b|digits?|symbols?|letters?|long)\b`;
const BEFORE_NUMBER = String.raw`\b(?:length|len|size|chars?|characters?|bytes?)\b\s*(?:[:=]|of|is|was)?\s*["']?`;

/** The LENGTH rule above for one length, as a RegExp. */
export function lengthMention(length: number): RegExp {
  const n = String.raw`(?<![\d.])${length}(?![\d.])`;
  return new RegExp(`${n}${AFTER_NUMBER}|${BEFORE_NUMBER}${n}`, "i");
}

/** Every leak of any of `keys` in `text`, described without the key (an empty list when none). */
export function keyLeaks(text: string, keys: readonly string[]): string[] {
  const found: string[] = [];
  keys.forEach((key, k) => {
    for (const piece of new Set(keyPieces(key))) {
      const at = text.indexOf(piece);
      if (at >= 0) found.push(`key ${k + 1}: an ${piece.length}-character piece of it at offset ${at}`);
    }
    const m = lengthMention(key.length).exec(text);
    if (m)
      found.push(`key ${k + 1}: its length in ${JSON.stringify(text.slice(Math.max(0, m.index - 20), m.index + 30))}`);
  });
  return found;
}
