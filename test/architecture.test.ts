// The layer table of ARCHITECTURE.md, enforced: every import under lib/ must be an edge the table allows.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';

const LIB = resolve(import.meta.dirname, '..', 'lib');

const L0 = ['errors', 'util'];
const L1 = ['oci'];
const L2 = ['content', 'registry', 'unpack', 'runtime', 'shim', 'containerd', 'network'];

// Which folders each folder may import (its own folder is always allowed).
const ALLOWED: Record<string, string[]> = {
  errors: [],
  util: ['errors'],
  oci: [...L0],
  content: [...L0, ...L1],
  registry: [...L0, ...L1],
  unpack: [...L0, ...L1],
  runtime: [...L0, ...L1],
  network: [...L0, ...L1],
  shim: [...L0, ...L1, 'gen'],
  containerd: [...L0, ...L1, 'gen'],
  images: [...L0, ...L1, ...L2],
  engine: [...L0, ...L1, ...L2, 'images'],
  dockerapi: [...L0, ...L1, ...L2, 'images', 'engine'],
  cli: [...L0, ...L1, ...L2, 'images', 'engine'],
  gen: [],
  // The public barrel re-exports every component but never the generated code.
  '.': [...L0, ...L1, ...L2, 'images', 'engine', 'dockerapi', 'cli'],
};

export interface ImportEdge {
  from: string; // file, relative to lib/
  to: string; // file, relative to lib/
  typeOnly: boolean;
}

function folderOf(fileInLib: string): string {
  const parts = fileInLib.split(sep);
  return parts.length === 1 ? '.' : parts[0]!;
}

/** Why an edge is not allowed, or undefined when it is. */
export function violation(edge: ImportEdge): string | undefined {
  const from = folderOf(edge.from);
  const to = folderOf(edge.to);
  if (from === to) return undefined;
  const allowed = ALLOWED[from];
  if (allowed === undefined) return `${edge.from}: folder lib/${from} is not in the layer table`;
  if (allowed.includes(to)) return undefined;
  // An L2 folder may `import type` from a sibling's types.ts.
  if (edge.typeOnly && L2.includes(from) && L2.includes(to) && edge.to === join(to, 'types.ts')) return undefined;
  return `${edge.from} imports ${edge.to}${edge.typeOnly ? ' (type-only)' : ''}: lib/${from} may not depend on lib/${to}`;
}

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTs(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false; // a side-effect import
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Every relative import and re-export in a file under lib/, resolved to a file under lib/. */
export function importsOf(file: string): ImportEdge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    if (!specifier.startsWith('.')) return; // packages are governed by package.json, not by layers
    const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
    edges.push({ from: relative(LIB, file), to: relative(LIB, target), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, isTypeOnly(node));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

describe('architecture: the layer table of ARCHITECTURE.md', () => {
  it('the checker refuses edges the table forbids and allows the ones it permits', () => {
    expect(violation({ from: 'util/fifo.ts', to: 'oci/digest.ts', typeOnly: false })).to.match(/lib\/util may not depend on lib\/oci/);
    expect(violation({ from: 'registry/client.ts', to: 'content/local-store.ts', typeOnly: false })).to.be.a('string');
    expect(violation({ from: 'registry/client.ts', to: 'content/local-store.ts', typeOnly: true })).to.be.a('string');
    expect(violation({ from: 'containerd/pull.ts', to: 'content/types.ts', typeOnly: true })).to.equal(undefined);
    expect(violation({ from: 'containerd/pull.ts', to: 'content/types.ts', typeOnly: false })).to.be.a('string');
    expect(violation({ from: 'shim/ttrpc/client.ts', to: 'runtime/oci-runtime.ts', typeOnly: false })).to.be.a('string');
    expect(violation({ from: 'index.ts', to: 'gen/x.ts', typeOnly: false })).to.be.a('string');
    expect(violation({ from: 'images/pull.ts', to: 'engine/engine.ts', typeOnly: true })).to.be.a('string');
    expect(violation({ from: 'oci/reference.ts', to: 'errors/index.ts', typeOnly: false })).to.equal(undefined);
  });

  it('the import parser sees type-only imports, re-exports and dynamic imports', () => {
    const edges = importsOf(join(LIB, 'index.ts'));
    expect(edges.length).to.be.greaterThan(0);
    expect(edges.every((e) => !e.to.startsWith('..'))).to.equal(true);
  });

  it('every import under lib/ is allowed', () => {
    const problems = listTs(LIB)
      .flatMap(importsOf)
      .map(violation)
      .filter((v): v is string => v !== undefined);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('no file under lib/ (generated code aside) is over 400 lines: files split along their seams', () => {
    const long = listTs(LIB)
      .filter((file) => !relative(LIB, file).startsWith('gen/'))
      .map((file) => ({ file: relative(LIB, file), lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 400);
    expect(long).to.deep.equal([]);
  });
});
