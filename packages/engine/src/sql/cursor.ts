/** A cursor over lexer tokens for the hand-written statement parsers (parse-*.ts). */
import { KalamError } from '../core/errors';
import type { TableName } from './ast';
import type { Token } from './lexer';

export class Cursor {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly sqlLength: number) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }
  position(): number {
    return this.tokens[this.i]?.start ?? this.sqlLength;
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.tokens[this.i + offset];
    return !!t && t.type === 'word' && t.text.toUpperCase() === word;
  }
  acceptWord(word: string): boolean {
    if (this.isWord(word)) { this.i++; return true; }
    return false;
  }
  acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!this.isWord(words[k], k)) return false;
    this.i += words.length;
    return true;
  }
  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail(`expected ${word}`);
  }
  isPunct(p: string): boolean {
    const t = this.tokens[this.i];
    return !!t && t.type === 'punct' && t.text === p;
  }
  acceptPunct(p: string): boolean {
    if (this.isPunct(p)) { this.i++; return true; }
    return false;
  }
  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) this.fail(`expected '${p}'`);
  }
  next(): Token {
    const t = this.tokens[this.i];
    if (!t) this.fail('unexpected end of statement');
    this.i++;
    return t;
  }
  identifier(what: string): string {
    const t = this.tokens[this.i];
    if (!t || (t.type !== 'word' && t.type !== 'quoted')) this.fail(`expected ${what}`);
    this.i++;
    return t.text.toLowerCase();
  }
  tableName(): TableName {
    const first = this.identifier('a table name');
    if (this.acceptPunct('.')) return { namespace: first, name: this.identifier('a table name') };
    return { name: first };
  }
  end(): void {
    if (!this.atEnd()) this.fail(`unexpected '${this.tokens[this.i].text}'`);
  }
  fail(what: string): never {
    const t = this.tokens[this.i];
    throw new KalamError('PARSE_ERROR', `Syntax error at ${t ? `'${t.text}'` : 'end of statement'}: ${what}`, this.position());
  }
}
