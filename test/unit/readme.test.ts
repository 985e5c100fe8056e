// README's TypeScript blocks are code users paste: each one must type-check against the package as it is.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');

interface Block {
  line: number;
  code: string;
}

/** The ```ts blocks of a markdown text, with the line each starts on. */
export function typescriptBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    while (++i < lines.length && !lines[i]!.startsWith('```'));
    blocks.push({ line: start + 1, code: lines.slice(start, i).join('\n') });
  }
  return blocks;
}

/** Type-checks each block as its own module against the repository's tsconfig; returns one message per diagnostic. */
function checkBlocks(blocks: Block[]): string[] {
  const configPath = join(ROOT, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT);
  // Blocks may name a value only to show it, so unused locals are allowed. Virtual files beside package.json, so 'containerkit' resolves through the tsconfig paths as it does for examples.
  const virtual = new Map(blocks.map((b) => [join(ROOT, `README.block-${b.line}.ts`), b]));
  const host = ts.createCompilerHost(parsed.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f)?.code ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const block = virtual.get(f);
    return block ? ts.createSourceFile(f, block.code, lang) : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], { ...parsed.options, noEmit: true, noUnusedLocals: false }, host);
  return [...virtual.keys()].flatMap((file) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
      const { line } = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0 };
      return `README.md:${virtual.get(file)!.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    }),
  );
}

describe('README', function () {
  this.timeout(120_000);

  it('finds the TypeScript blocks it checks', () => {
    const blocks = typescriptBlocks('a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n```ts\nlet y;\n```\n');
    expect(blocks).to.deep.equal([
      { line: 3, code: 'const x = 1;' },
      { line: 9, code: 'let y;' },
    ]);
  });

  it('reports a block that does not type-check', () => {
    const errors = checkBlocks([{ line: 10, code: "import { withProcessArgs } from 'containerkit/runtime';\nwithProcessArgs(['a']);" }]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^README\.md:11: Argument of type 'string\[\]'/);
  });

  it('has TypeScript blocks that all type-check against the package', () => {
    const blocks = typescriptBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).to.be.greaterThan(5);
    expect(checkBlocks(blocks)).to.deep.equal([]);
  });
});
