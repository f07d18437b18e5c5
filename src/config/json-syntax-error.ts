/**
 * Where a JSON text first goes wrong, as line and column. V8's JSON.parse
 * messages do not always carry a position (and their wording changes between
 * versions), so after JSON.parse rejects a text this small scanner walks it
 * again to find the first bad character and say what was expected there.
 */

export interface JsonSyntaxError {
  /** Index into the text (UTF-16 code units) of the first character that cannot be right. */
  offset: number;
  /** 1-based line and column of `offset`. */
  line: number;
  column: number;
  /** What is wrong and how to fix it, in the `problem — fix` form. */
  message: string;
}

class Stop {
  constructor(readonly offset: number, readonly message: string) {}
}

function describeAt(text: string, i: number): string {
  if (i >= text.length) return 'the end of the file';
  const c = text.charAt(i);
  return c === '\n' ? 'a line break' : JSON.stringify(c);
}

/**
 * A recursive-descent pass over `text` that throws `Stop` at the first error.
 * It accepts exactly RFC 8259 JSON, the language JSON.parse accepts.
 */
class Scanner {
  i = 0;
  constructor(readonly text: string) {}

  fail(problem: string, fix: string): never {
    throw new Stop(this.i, `${problem}, found ${describeAt(this.text, this.i)} — ${fix}`);
  }

  /** Comments and trailing commas are the usual reasons a hand-edited config stops parsing. */
  failValueExpected(after: string): never {
    const c = this.text.charAt(this.i);
    if (c === '/') this.fail(`expected ${after}`, 'JSON has no comments; remove the comment');
    if (c === '}' || c === ']') this.fail(`expected ${after}`, 'remove the trailing comma before it');
    this.fail(`expected ${after}`, 'fix the JSON here');
  }

  skipSpace(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text.charAt(this.i))) this.i++;
  }

  value(): void {
    this.skipSpace();
    const c = this.text.charAt(this.i);
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string();
    else if (c === '-' || (c >= '0' && c <= '9')) this.number();
    else if (this.literal('true') || this.literal('false') || this.literal('null')) return;
    else if (c === "'") this.fail('expected a value', 'JSON strings use double quotes');
    else this.failValueExpected('a value');
  }

  literal(word: string): boolean {
    if (!this.text.startsWith(word, this.i)) return false;
    this.i += word.length;
    return true;
  }

  object(): void {
    this.i++;
    this.skipSpace();
    if (this.text.charAt(this.i) === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.skipSpace();
      const c = this.text.charAt(this.i);
      if (c !== '"') {
        if (c === "'") this.fail('expected a property name', 'JSON property names use double quotes');
        if (/[A-Za-z_$]/.test(c)) this.fail('expected a property name', 'put the name in double quotes');
        this.failValueExpected('a property name in double quotes');
      }
      this.string();
      this.skipSpace();
      if (this.text.charAt(this.i) !== ':') this.fail('expected ":" after the property name', 'add the colon');
      this.i++;
      this.value();
      this.skipSpace();
      const next = this.text.charAt(this.i);
      if (next === '}') {
        this.i++;
        return;
      }
      if (next !== ',') this.fail('expected "," or "}" after a property value', 'add the missing comma or brace');
      this.i++;
    }
  }

  array(): void {
    this.i++;
    this.skipSpace();
    if (this.text.charAt(this.i) === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value();
      this.skipSpace();
      const next = this.text.charAt(this.i);
      if (next === ']') {
        this.i++;
        return;
      }
      if (next !== ',') this.fail('expected "," or "]" after an array element', 'add the missing comma or bracket');
      this.i++;
      this.skipSpace();
      if (this.text.charAt(this.i) === ']') this.failValueExpected('an array element');
    }
  }

  string(): void {
    this.i++;
    for (;;) {
      if (this.i >= this.text.length) this.fail('unterminated string', 'close the string with a double quote');
      const c = this.text.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return;
      }
      if (c < 0x20) this.fail('control character inside a string', 'write it as an escape such as \\n');
      if (c === 0x5c) {
        this.i++;
        const e = this.text.charAt(this.i);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 1, this.i + 5))) {
            this.fail('bad \\u escape', 'write four hex digits after \\u');
          }
          this.i += 5;
        } else if (e !== '' && '"\\/bfnrt'.includes(e)) this.i++;
        else this.fail('bad escape in a string', 'use one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX');
      } else this.i++;
    }
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (m === null) {
      this.i++;
      this.fail('expected a digit', 'write a number such as 64 or -1.5');
    }
    this.i += m[0].length;
  }

  document(): void {
    this.value();
    this.skipSpace();
    if (this.i < this.text.length) this.fail('unexpected text after the JSON value', 'remove it, or wrap both in one object');
  }
}

/** 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The first syntax error in `text`, or undefined when `text` is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    new Scanner(text).document();
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop) && !(e instanceof RangeError)) throw e;
    // A RangeError is a nesting too deep for the scanner's recursion: report the start.
    const stop = e instanceof Stop ? e : new Stop(0, 'the JSON nests too deeply to read — flatten it');
    return { offset: stop.offset, ...lineAndColumn(text, stop.offset), message: stop.message };
  }
}
