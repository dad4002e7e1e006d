/**
 * The leak rule the vault tests search by (test/support/secret-leaks.ts): a key's head, tail or
 * middle of 8 characters or more, or its length next to a word that makes it one, is found; a
 * count of keys and an unrelated number are not. A rule that found nothing would pass every
 * vault test vacuously.
 */
import { keyLeaks, keyPieces, lengthMention, PIECE_LENGTH } from "../support/secret-leaks";

const KEY = "l8mGrOtocPBRVIlAFuRIrq1LDog8JsWtyi8WqjlZbbDl"; // 44 characters

describe("keyLeaks: pieces of a key", () => {
  it("lists every 8-character substring of a key", () => {
    expect(PIECE_LENGTH).toBe(8);
    const pieces = keyPieces(KEY);
    expect(pieces).toHaveLength(KEY.length - 7);
    expect(pieces[0]).toBe(KEY.slice(0, 8));
    expect(pieces.at(-1)).toBe(KEY.slice(-8));
    expect(pieces.every((p) => p.length === 8 && KEY.includes(p))).toBe(true);
  });

  it.each([
    ["the whole key", KEY],
    ["its first 8 characters", KEY.slice(0, 8)],
    ["its last 8 characters", KEY.slice(-8)],
    ["its last 11 characters", KEY.slice(-11)],
    ["8 characters from its middle", KEY.slice(17, 25)],
  ])("finds %s in a progress line", (_name, piece) => {
    const line = `vault/0: key 1 of 3 accepted (sealed=true, progress 1/3) ...${piece}`;
    expect(keyLeaks(line, [KEY])).not.toEqual([]);
  });

  it("does not find 7 characters of a key, nor describe the key in what it reports", () => {
    expect(keyLeaks(`tail ${KEY.slice(-7)}`, [KEY])).toEqual([]);
    const found = keyLeaks(KEY, [KEY]).join("\n");
    for (const piece of keyPieces(KEY)) expect(found).not.toContain(piece);
  });
});

describe("keyLeaks: a key's length", () => {
  it.each([
    "(44 chars)",
    "44 characters",
    "a 44-byte key",
    "44b",
    "44 long",
    "length 44",
    "len=44",
    "size: 44",
    "chars: 44",
    "Length of '44",
  ])("finds %j", (text) => {
    expect(lengthMention(44).test(`vault/0: key 1 of 3 accepted ${text}`)).toBe(true);
    expect(keyLeaks(text, [KEY])).toHaveLength(1);
  });

  it.each([
    "3 key(s) per sealed unit, threshold 3, 5 held",
    "144 chars",
    "4.44 bytes",
    "length 440",
    "poll 44: sealed",
    "took 44s",
  ])("does not find %j", (text) => {
    expect(keyLeaks(text, [KEY])).toEqual([]);
  });
});
