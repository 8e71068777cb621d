import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT_DIR } from '../../src/server/paths.js';

// The browser code's layout, checked from its syntax (comments and strings cannot fool it):
// lib/ folders are DOM-free, one file negotiates connections, every island mounts and unmounts.
// And the stylesheet's: its contents list what it imports, colours are tokens, no class is unused.

const CLIENT = path.join(ROOT_DIR, 'src', 'client');

/** sources — every .ts file under src/client, as paths from the repository root. */
function sources(): string[] {
  return readdirSync(CLIENT, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT_DIR, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(path.join(ROOT_DIR, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  node.forEachChild((c) => visit(c, fn));
}

/** isFreeName — the identifier as a name of its own (not `x.name`, `{ name: … }` or a declaration's name). */
function isFreeName(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if (ts.isQualifiedName(p) && p.right === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p)) && p.name === id) return false;
  if ((ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isParameter(p) || ts.isVariableDeclaration(p) || ts.isBindingElement(p)) && p.name === id) return false;
  return true;
}

// The page and its elements: a lib/ file takes what it needs from the page through its caller.
const DOM_NAMES = new Set([
  'document', 'window', 'location', 'history', 'customElements', 'CSS', 'getComputedStyle', 'requestAnimationFrame',
  'addEventListener', 'removeEventListener', 'dispatchEvent', 'Document', 'DocumentFragment', 'Window', 'Element', 'Node',
  'MutationObserver', 'ResizeObserver', 'IntersectionObserver', 'KeyboardEvent', 'MouseEvent', 'PointerEvent', 'DragEvent',
  'FocusEvent', 'InputEvent', 'SubmitEvent', 'PageTransitionEvent',
]);
const isDomName = (name: string) => DOM_NAMES.has(name) || /^(HTML|SVG)\w*Element$/.test(name);

/** domUses — `line: name` for every DOM name `file` uses. */
function domUses(file: string): string[] {
  const sf = parse(file);
  const found: string[] = [];
  visit(sf, (n) => {
    let name: string | null = null;
    if (ts.isIdentifier(n) && isFreeName(n) && isDomName(n.text)) name = n.text;
    // globalThis.document and the like.
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'globalThis' && isDomName(n.name.text)) name = `globalThis.${n.name.text}`;
    if (name) found.push(`${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${name}`);
  });
  return found;
}

// The calls that make and apply offers and answers.
const NEGOTIATION = new Set(['setLocalDescription', 'setRemoteDescription', 'createOffer', 'createAnswer', 'addIceCandidate']);

function negotiates(file: string): boolean {
  let found = false;
  visit(parse(file), (n) => {
    if (ts.isPropertyAccessExpression(n) && NEGOTIATION.has(n.name.text)) found = true;
  });
  return found;
}

describe('client layout', () => {
  const files = sources();

  it('finds the browser sources', () => {
    expect(files.filter((f) => f.includes('/lib/')).length).to.be.above(20);
    // The check itself sees a DOM name in code, and none in a comment or a string.
    expect(domUses('src/client/shared/ui/page.ts')).to.not.deep.equal([]);
  });

  describe('lib/ folders are DOM-free', () => {
    for (const file of files.filter((f) => /\/lib\//.test(f))) {
      it(file, () => expect(domUses(file), `${file} uses the page`).to.deep.equal([]));
    }
  });

  it('only shared/lib/peer-link.ts makes and applies offers and answers', () => {
    expect(files.filter(negotiates)).to.deep.equal(['src/client/shared/lib/peer-link.ts']);
  });

  it('every island exports mount(root) and returns its teardown', () => {
    const islands = files.filter((f) => f.startsWith('src/client/islands/'));
    expect(islands).to.not.deep.equal([]);
    for (const file of islands) {
      const mount = parse(file).statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'mount');
      expect(mount, `${file} declares mount`).to.not.equal(undefined);
      expect(mount!.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword), `${file} exports mount`).to.equal(true);
      expect(mount!.parameters.length, `${file}: mount(root)`).to.equal(1);
      expect(mount!.type?.getText(), `${file}: mount returns its teardown`).to.equal('() => void');
    }
  });
});

const CSS = path.join(ROOT_DIR, 'public', 'css');

/** rules — a stylesheet without its comments. */
const uncommented = (css: string) => css.replace(/\/\*[\s\S]*?\*\//g, '');

describe('stylesheet', () => {
  const entry = readFileSync(path.join(CSS, 'hearth.css'), 'utf8');
  const imports = [...entry.matchAll(/^@import "\.\/([^"]+)";$/gm)].map((m) => m[1]!);
  const parts = readdirSync(CSS, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.css') && e.name !== 'hearth.css')
    .map((e) => path.relative(CSS, path.join(e.parentPath, e.name)).split(path.sep).join('/'));

  it('hearth.css imports every part once, and its contents list them in that order with their titles', () => {
    expect([...imports].sort()).to.deep.equal([...parts].sort());
    const contents = [...entry.matchAll(/^ \* +(\d+)\. (.+?) {2,}(\S+\.css)$/gm)].map((m) => ({ n: Number(m[1]), title: m[2]!.trim(), file: m[3]! }));
    expect(contents.map((c) => c.file)).to.deep.equal(imports);
    contents.forEach((c, i) => {
      expect(c.n, c.file).to.equal(i + 1);
      const first = readFileSync(path.join(CSS, c.file), 'utf8').split('\n')[0]!;
      expect(first, `${c.file} opens with its title`).to.match(new RegExp(`^/\\* ${c.n}\\. ${c.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -+ \\*/$`));
    });
  });

  it('names colours only in shared/tokens.css', () => {
    const literal = /#[0-9a-f]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(|:\s*(?:white|black|red|green|blue|yellow|gray|grey|orange|purple)\b/i;
    for (const part of parts.filter((p) => p !== 'shared/tokens.css')) {
      const found = uncommented(readFileSync(path.join(CSS, part), 'utf8')).split('\n').filter((l) => literal.test(l));
      expect(found, part).to.deep.equal([]);
    }
  });

  it('styles only classes that the views or the browser code use', () => {
    const views = readdirSync(path.join(ROOT_DIR, 'views'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.pug'))
      .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8')).join('\n');
    const code = sources().map((f) => readFileSync(path.join(ROOT_DIR, f), 'utf8')).join('\n');
    const words = new Set([...`${views}\n${code}`.matchAll(/[A-Za-z][\w-]*/g)].map((m) => m[0]));
    // A class built from a template (`toast--${kind}`) counts by its prefix.
    const prefixes = [...code.matchAll(/([a-z][\w-]*--)\$\{/g)].map((m) => m[1]!);
    const selectors = parts.map((p) => uncommented(readFileSync(path.join(CSS, p), 'utf8')).replace(/\{[^{}]*\}/g, '{}')).join('\n');
    const classes = new Set([...selectors.matchAll(/\.([A-Za-z][\w-]*)/g)].map((m) => m[1]!));
    const unused = [...classes].filter((c) => !words.has(c) && !prefixes.some((p) => c.startsWith(p)));
    expect(unused).to.deep.equal([]);
  });
});
