#!/usr/bin/env python3
"""The source tree's layers, checked: a file includes headers of its own
layer or lower, and no two modules include each other, directly or through
others.

    layers.py SRCDIR    check the tree, then that the checker catches
                        what it must on a small tree made to break the
                        rules; TAP on stdout

Layers, lowest first, are the folders of src/ (LAYERS below); src/main.c
sits on top.  A header in include/ belongs to the layer of the source file
of the same name, or of the longest module name it starts with
(proxy_proto_spec.h -> proxy_proto); header-only modules are listed in
HEADER_ONLY.  A module is a header and its sources: X.h, X.c, X_*.c that
no longer module claims, and X_internal.h."""
import os
import re
import sys
import tempfile

LAYERS = ["base", "proxy", "tls", "config", "mptcp", "conn", "daemon"]
HEADER_ONLY = {"compat": "base"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(name, headers):
    """X_internal -> X; else the longest '_'-prefix that is a header."""
    if name.endswith("_internal"):
        name = name[: -len("_internal")]
    parts = name.split("_")
    for n in range(len(parts), 0, -1):
        cand = "_".join(parts[:n])
        if cand in headers:
            return cand
    return name


def scan(top):
    """(files, headers): files maps path -> (layer rank, module, includes)."""
    inc = os.path.join(top, "include")
    headers = {f[:-2] for f in os.listdir(inc) if f.endswith(".h")}
    src = os.path.join(top, "src")
    rank = {l: i for i, l in enumerate(LAYERS)}
    files, sources = {}, {}
    for layer in sorted(os.listdir(src)):
        d = os.path.join(src, layer)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                sources[os.path.join(d, f)] = layer
    for f in sorted(os.listdir(src)):
        if f.endswith(".c"):
            sources[os.path.join(src, f)] = "main"
    problems = []
    for path, layer in sources.items():
        if layer != "main" and layer not in rank:
            problems.append("%s: folder %s is not a layer (%s)" %
                            (path, layer, ", ".join(LAYERS)))
            continue
    # The layer of each header: where its module's sources are.
    module_layer = {}
    for path, layer in sources.items():
        base = os.path.basename(path)[:-2]
        mod = module_of(base, headers)
        if layer in rank:
            module_layer.setdefault(mod, set()).add(layer)
    header_layer = {}
    for h in sorted(headers):
        mod = module_of(h, headers)
        where = module_layer.get(mod) or module_layer.get(h)
        if where is None and h in HEADER_ONLY:
            where = {HEADER_ONLY[h]}
        if where is None:
            # proxy_proto_spec -> proxy_proto
            parts = h.split("_")
            for n in range(len(parts) - 1, 0, -1):
                cand = "_".join(parts[:n])
                if cand in module_layer:
                    where = module_layer[cand]
                    break
        if where is None:
            problems.append("include/%s.h: no layer (no source of its "
                            "module, not in HEADER_ONLY)" % h)
        elif len(where) > 1:
            problems.append("include/%s.h: module sources in several "
                            "layers: %s" % (h, ", ".join(sorted(where))))
        else:
            header_layer[h] = next(iter(where))
    for path, layer in sources.items():
        base = os.path.basename(path)[:-2]
        with open(path, encoding="utf-8", errors="replace") as fh:
            incs = INCLUDE.findall(fh.read())
        files[path] = (layer, module_of(base, headers), incs)
    for h in headers:
        path = os.path.join(inc, h + ".h")
        with open(path, encoding="utf-8", errors="replace") as fh:
            incs = INCLUDE.findall(fh.read())
        files[path] = (header_layer.get(h), module_of(h, headers), incs)
    return files, headers, header_layer, problems


def upward(files, headers, header_layer):
    rank = {l: i for i, l in enumerate(LAYERS)}
    rank["main"] = len(LAYERS)
    bad = []
    for path, (layer, mod, incs) in sorted(files.items()):
        if layer is None:
            continue
        for i in incs:
            h = i[:-2] if i.endswith(".h") else i
            if h not in header_layer:
                continue        # auto-config.h, a folder's private header
            if rank[header_layer[h]] > rank[layer]:
                bad.append("%s (%s) includes %s (%s)" %
                           (path, layer, i, header_layer[h]))
    return bad


def cycles(files, headers):
    graph = {}
    for path, (layer, mod, incs) in files.items():
        for i in incs:
            h = i[:-2] if i.endswith(".h") else i
            if h in headers or h.endswith("_internal"):
                dst = module_of(h, headers)
                if dst != mod:
                    graph.setdefault(mod, set()).add(dst)
    # Tarjan's strongly connected components.
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(top):
    files, headers, header_layer, problems = scan(top)
    return problems, upward(files, headers, header_layer), \
        cycles(files, headers)


def tap(top):
    problems, up, cyc = check(top)
    print("1..6")
    points = [
        ("every source folder is a layer and every header has one",
         problems),
        ("no file includes a header of a higher layer", up),
        ("no include cycle between modules",
         [" -> ".join(c) for c in cyc]),
    ]
    failed = 0
    for n, (name, bad) in enumerate(points, 1):
        print("%s %d - %s" % ("not ok" if bad else "ok", n, name))
        for b in bad:
            print("#   " + b)
        failed += bool(bad)
    return failed == 0 and self_test(len(points))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def self_test(n0):
    """A small tree with one upward include and one cycle must fail on
    both, and the same tree without them must pass."""
    ok = True
    with tempfile.TemporaryDirectory() as t:
        write(t + "/include/a.h", "")
        write(t + "/include/b.h", '#include "a.h"\n')
        write(t + "/include/c.h", "")
        write(t + "/src/base/a.c", '#include "a.h"\n')
        write(t + "/src/conn/b.c", '#include "b.h"\n')
        write(t + "/src/conn/c.c", '#include "c.h"\n#include "b.h"\n')
        write(t + "/src/main.c", '#include "c.h"\n')
        problems, up, cyc = check(t)
        clean = not problems and not up and not cyc
        print("%s %d - a layered tree passes" % ("ok" if clean else "not ok",
                                             n0 + 1))
        ok &= clean
        write(t + "/src/base/a.c", '#include "a.h"\n#include "b.h"\n')
        problems, up, cyc = check(t)
        caught = bool(up) and any("a.c" in u for u in up)
        print("%s %d - a lower layer including a higher one's header "
              "fails" % ("ok" if caught else "not ok", n0 + 2))
        ok &= caught
        write(t + "/src/base/a.c", '#include "a.h"\n')
        write(t + "/src/conn/b.c", '#include "b.h"\n#include "c.h"\n')
        problems, up, cyc = check(t)
        caught = ["b", "c"] in cyc
        print("%s %d - two modules including each other fail"
              % ("ok" if caught else "not ok", n0 + 3))
        ok &= caught
    return ok


if __name__ == "__main__":
    sys.exit(0 if tap(sys.argv[1] if len(sys.argv) > 1 else ".") else 1)
