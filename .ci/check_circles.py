#!/usr/bin/env python3
"""Find import circles between the modules of the `api` crate.

A module is a source file under src/: `cases/service.rs` is `cases::service`, `cases/mod.rs` is
`cases`. `lib.rs` (the root, which only declares modules) and `main.rs` (a separate binary) are
left out. An edge A -> B exists when A's non-test code names a path into B: `use crate::...`
(grouped, nested, multi-line), `use super::...`, `use self::...`, `use child::...` for a child
module (e.g. `pub use types::Y` in a mod.rs), and inline paths such as `crate::audit::flush(..)`,
`super::service::today()` or `$crate::error::UserError` in a macro body. A path maps to the
longest prefix that is a module file; `super`/`self` are resolved from the enclosing module,
inline `mod x { .. }` blocks included. Non-test code is everything before the first line that is
`#[cfg(test)]`; comments and string/char literals are blanked out before scanning. `mod x;`
declarations and self-edges are not edges.

Prints each strongly connected component of more than one module, with its edges (file:line)
and one shortest cycle, and exits 1; or exits 0 if there are none.
Usage: check_circles.py [SRC_DIR]   (default: api/src)
"""
import os, re, sys
from collections import defaultdict, deque

LEX = re.compile(r'//[^\n]*|/\*|\*/|b?r(#*)"|b?"|b?\'(?:\\(?:x..|u\{[^}]*\}|.)|[^\\\'])\'', re.S)
STR_END = re.compile(r'(?:\\.|[^"\\])*"', re.S)
TOK = re.compile(r'\$?(?:r#)?\w+|::|[{},*]')
INLINE = re.compile(r'(?<![\w:$])(\$crate|crate|super|self|\w+)((?:\s*::\s*(?:r#)?\w+)+)')


blank = lambda s: re.sub(r'[^\n]', ' ', s)  # keeps newlines, so line numbers survive


def strip(src):
    """The source with comments (nested /* */ too) and string/char literals blanked out."""
    out, i, depth = [], 0, 0
    while (m := LEX.search(src, i)):
        tok, start, end, inside = m.group(0), m.start(), m.end(), depth > 0
        if inside:  # only /* and */ matter here; a `//` must not swallow the closing */
            depth += {'/*': 1, '*/': -1}.get(tok, 0)
            end = start + 2 if tok.startswith('//') else end
        elif tok == '/*':
            depth = 1
        elif tok.endswith('"'):  # raw strings end at "###, others at an unescaped "
            hashes = m.group(1) or ''
            end = (src.index('"' + hashes, end) + 1 + len(hashes) if 'r' in tok
                   else STR_END.match(src, end).end())
        out += [blank(src[i:start]) if inside else src[i:start], blank(src[start:end])]
        i = end
    return ''.join(out) + src[i:]


def expand(toks, pos, prefix, out):
    """Expand the use tree at toks[pos] into (path, line) leaves; returns the next position."""
    path = prefix
    while pos < len(toks):
        t, line = toks[pos]
        pos += 1
        if t == '{':
            while toks[pos][0] != '}':
                pos = expand(toks, pos, path, out)
                pos += toks[pos][0] == ','
            return pos + 1
        if t == '*' or (t == 'self' and path):  # `a::*`, `a::{self}` name `a` itself
            out.append((path, line))
        else:
            path = path + [t]
            if pos < len(toks) and toks[pos][0] == '::':
                pos += 1
                continue
            out.append((path, line))
        return pos + 2 if pos < len(toks) and toks[pos][0] == 'as' else pos
    return pos


def references(text):
    """(path, line, inline modules around it) for each use leaf and inline path in `text`."""
    line = lambda p: text.count('\n', 0, p) + 1
    spans = []  # inline `mod x { .. }` blocks: (start, end, x)
    for m in re.finditer(r'\bmod\s+(\w+)\s*\{', text):
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += {'{': 1, '}': -1}.get(text[j], 0); j += 1
        spans.append((m.start(), j, m.group(1)))
    scope = lambda p: [name for s, e, name in spans if s < p < e]
    refs, rest = [], list(text)
    for m in re.finditer(r'\buse\b([^;]*);', text):
        toks, leaves = [(t[0], m.start(1) + t.start()) for t in TOK.finditer(m.group(1))], []
        expand(toks[1:] if toks and toks[0][0] == '::' else toks, 0, [], leaves)  # `use ::x`
        refs += [(path, line(p), scope(p)) for path, p in leaves]
        rest[m.start():m.end()] = blank(m.group(0))
    for m in INLINE.finditer(''.join(rest)):
        path = [m.group(1)] + re.findall(r'\w+', m.group(2))
        refs.append((path, line(m.start()), scope(m.start())))
    return refs


def resolve(segs, here, modules):
    """The module file a path names, seen from module `here`; None if not one of ours."""
    if segs[0] in ('crate', '$crate'):
        full = segs[1:]
    elif segs[0] in ('self', 'super') or here + (segs[0],) in modules:
        full = list(here)
        for s in segs:
            if s == 'super':
                full = full[:-1]
            elif s != 'self':
                full.append(s)
    else:
        return None  # std, an extern crate, or a local name
    return next((tuple(full[:n]) for n in range(len(full), 0, -1) if tuple(full[:n]) in modules), None)


def tarjan(graph):
    """Strongly connected components, iteratively (no recursion limit)."""
    index, low, stack, on, sccs, work = {}, {}, [], set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v); on.add(v); work.append((v, iter(sorted(graph[v]))))

    for root in sorted(graph):
        if root not in index:
            visit(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while not comp or comp[-1] != v:
                        comp.append(stack.pop()); on.discard(comp[-1])
                    sccs.append(sorted(comp))
            elif w not in index:
                visit(w)
            elif w in on:
                low[v] = min(low[v], index[w])
    return sccs


def shortest_cycle(graph, comp):
    """BFS from each member back to itself, within the component; the shortest such loop."""
    best = None
    for s in comp:
        prev, queue = {s: None}, deque([s])
        while queue:
            v = queue.popleft()
            if s in graph[v]:
                cyc = [v]
                while prev[cyc[-1]] is not None:
                    cyc.append(prev[cyc[-1]])
                if best is None or len(cyc) + 1 < len(best):
                    best = cyc[::-1] + [s]
                break
            for w in sorted(graph[v] & set(comp) - prev.keys()):
                prev[w] = v; queue.append(w)
    return best


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else 'api/src'
    files = {}  # module path tuple -> file
    for d, _, names in os.walk(src):
        for f in names:
            parts = os.path.relpath(os.path.join(d, f), src)[:-3].split(os.sep)
            if f.endswith('.rs') and parts not in (['lib'], ['main']):
                files[tuple(parts[:-1] if parts[-1] == 'mod' else parts)] = os.path.join(d, f)
    if not files:
        print(f'no .rs modules under {src!r}; pass the crate\'s src directory', file=sys.stderr)
        return 2
    graph, sites = defaultdict(set), defaultdict(set)
    for mod, path in sorted(files.items()):
        lines = open(path, encoding='utf-8').read().split('\n')
        cut = next((i for i, l in enumerate(lines) if l.strip() == '#[cfg(test)]'), len(lines))
        graph[mod]
        for segs, line, inner in references(strip('\n'.join(lines[:cut]))):
            to = resolve(segs, mod + tuple(inner), files)
            if to and to != mod:
                graph[mod].add(to); sites[mod, to].add(line)
    name = '::'.join
    sccs = sorted((c for c in tarjan(graph) if len(c) > 1), key=len)
    print(f'{len(files)} modules, {len(sites)} edges')
    if not sccs:
        print(f'no import circles between the {len(files)} modules of api')
        return 0
    for k, comp in enumerate(sccs, 1):
        print(f'\ncircle {k}: {len(comp)} modules: {", ".join(map(name, comp))}')
        print('  shortest cycle: ' + ' -> '.join(map(name, shortest_cycle(graph, comp))))
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                print(f'  {name(a)} -> {name(b)}   {files[a]}:{",".join(map(str, sorted(sites[a, b])))}')
    return 1


if __name__ == '__main__':
    sys.exit(main())
