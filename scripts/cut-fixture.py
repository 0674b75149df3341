#!/usr/bin/env python3
"""Cut a small, faithful Packages fixture out of a full Debian Packages index.

For every request (one line of the requests file: package names separated by
spaces) the script asks apt what it would install from an empty system
(`apt-get install -s --no-install-recommends`, offline, on a throw-away root)
and keeps, verbatim and in the order of the full file:

  1. every stanza apt installs (the closure);
  2. every stanza named by any alternative of the Pre-Depends or Depends of a
     closure package, and every stanza that Provides such a name, so that each
     or-group and each virtual name offers the same candidates as the full
     index (the real package and all of its providers);
  3. for each such candidate that apt did not take, the stanzas of apt's own
     closure of that candidate alone, so that the candidate is installable in
     the fixture too and a resolver that picks it is not silently saved by a
     dead end (skip with --no-candidate-closures);
  4. for each package that provides a virtual name with several providers,
     the stanza of the full file that mentions that package first (see
     "apt's tie-break" below).

apt's tie-break: where several providers of a virtual name have the same
Priority (and none is essential, important or installed), apt takes the one
whose package record it created last while reading the index, that is the one
whose first mention (as a stanza, or as a name in a relationship field or in
Provides) comes last in the file. A cut changes which stanza mentions a name
first, and with it apt's choice. Keeping, for every such provider, the stanza
that mentions it first in the full file, in the full file's order, keeps the
relative order of those first mentions, and so apt's choice.

It then runs apt again on the fixture and fails unless, for every request,
apt installs exactly the same `name version` set as on the full index.

Usage:
  scripts/cut-fixture.py --full /path/to/Packages[.xz] \
      --requests tests/fixtures/bookworm-amd64/requests.txt \
      --output tests/fixtures/bookworm-amd64/Packages

Needs apt-get (any host architecture; --arch sets the target) and python3.
Nothing is downloaded: apt reads the given file through a file: source.
"""

import argparse
import concurrent.futures
import lzma
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEP_FIELDS = ("Pre-Depends", "Depends")
# The fields whose names apt records as packages while reading a stanza.
MENTION_FIELDS = ("Pre-Depends", "Depends", "Conflicts", "Breaks", "Suggests",
                  "Recommends", "Enhances", "Replaces", "Obsoletes", "Provides")


def read_index(path):
    """The text of a Packages file, plain, .xz or .gz."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] == b"\xfd7zXZ\x00":
        data = lzma.decompress(data)
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def split_stanzas(text):
    """Verbatim stanzas (without the separating blank line), in file order."""
    out = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        chunk = chunk.strip("\n")
        if chunk:
            out.append(chunk)
    return out


def fields(stanza):
    """Field name -> value (continuation lines joined with spaces)."""
    out = {}
    name = None
    for line in stanza.split("\n"):
        if line.startswith((" ", "\t")):
            if name is not None:
                out[name] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            out[name] = value.strip()
    return out


def relation_names(value, arch):
    """Every package name of every alternative of a relationship field,
    skipping alternatives whose [arch] restriction excludes `arch`."""
    names = []
    for group in value.split(","):
        for alt in group.split("|"):
            alt = alt.strip()
            if not alt:
                continue
            m = re.match(r"([a-z0-9][a-z0-9.+-]*)(?::[a-z0-9-]+)?\s*(?:\([^)]*\))?\s*(?:\[([^\]]*)\])?", alt)
            if not m:
                raise ValueError(f"cannot parse relation {alt!r}")
            restriction = m.group(2)
            if restriction and not arch_allowed(restriction.split(), arch):
                continue
            names.append(m.group(1))
    return names


def arch_allowed(archs, arch):
    if all(a.startswith("!") for a in archs):
        return arch not in [a[1:] for a in archs]
    return arch in archs or "any" in archs


class Index:
    """The stanzas of one architecture (and `all`) of a Packages file."""

    def __init__(self, text, arch):
        self.stanzas = []  # (verbatim text, fields)
        for s in split_stanzas(text):
            f = fields(s)
            if f.get("Architecture") in (arch, "all"):
                self.stanzas.append((s, f))
        self.by_key = {}
        self.by_name = {}
        self.providers = {}
        self.first_mention = {}  # name -> first stanza that names it
        for i, (_, f) in enumerate(self.stanzas):
            self.first_mention.setdefault(f["Package"], i)
            for field in MENTION_FIELDS:
                for name in relation_names(f.get(field, ""), arch):
                    self.first_mention.setdefault(name, i)
            self.by_key[(f["Package"], f["Version"])] = i
            self.by_name.setdefault(f["Package"], []).append(i)
            for name in relation_names(f.get("Provides", ""), arch):
                self.providers.setdefault(name, []).append(i)


class AptRoot:
    """A throw-away apt root whose only source is one Packages file."""

    def __init__(self, packages_text, arch, workdir):
        self.root = os.path.join(workdir, "root")
        repo = os.path.join(workdir, "repo")
        for d in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
                  "etc/apt/trusted.gpg.d", "var/lib/dpkg", "var/lib/apt/lists/partial",
                  "var/cache/apt/archives/partial", "var/log/apt"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.makedirs(repo, exist_ok=True)
        with open(os.path.join(repo, "Packages"), "w", encoding="utf-8") as f:
            f.write(packages_text)
        open(os.path.join(self.root, "var/lib/dpkg/status"), "w").close()
        with open(os.path.join(self.root, "etc/apt/sources.list"), "w") as f:
            f.write(f"deb [trusted=yes] file:{repo} ./\n")
        # Read before the host's configuration, so that none of the host's
        # apt.conf.d (hooks, proxies, Install-Recommends) applies.
        self.config = os.path.join(self.root, "apt.conf")
        with open(self.config, "w") as f:
            f.write(
                f'Dir "{self.root}/";\n'
                f'Dir::Etc::Parts "{self.root}/etc/apt/apt.conf.d";\n'
                f'Dir::Etc::Main "{self.root}/etc/apt/apt.conf";\n'
            )
        self.options = [
            "-o", f"Dir={self.root}",
            "-o", f"Dir::State::status={self.root}/var/lib/dpkg/status",
            "-o", f"Dir::Etc::SourceParts={self.root}/etc/apt/sources.list.d",
            "-o", f"APT::Architecture={arch}",
            "-o", f"APT::Architectures={arch}",
            "-o", "Debug::NoLocking=1",
        ]
        self.apt("update")

    def apt(self, *args):
        env = dict(os.environ, APT_CONFIG=self.config, LC_ALL="C")
        return subprocess.run(["apt-get", *self.options, *args], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)

    def closure(self, request):
        """apt's install set for `request`, as {(name, version)}; raises on failure."""
        r = self.apt("install", "-s", "--no-install-recommends", *request)
        if r.returncode != 0:
            raise AptFailed(" ".join(request), r.stdout)
        out = set()
        for line in r.stdout.splitlines():
            m = re.match(r"Inst (\S+) (?:\[\S+\] )?\((\S+) ", line)
            if m:
                out.add((m.group(1).split(":")[0], m.group(2)))
        return out


class AptFailed(Exception):
    def __init__(self, request, output):
        super().__init__(f"apt-get install -s {request} failed:\n{output}")
        self.request = request


def read_requests(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            # '!' marks a request on which debclosure is known to differ
            # from apt; the fixture is cut for it all the same.
            line = line.split("#", 1)[0].strip().lstrip("!").strip()
            if line:
                out.append(line.split())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", required=True, help="the full Packages index (plain, .xz or .gz)")
    ap.add_argument("--requests", required=True, help="one request per line: package names")
    ap.add_argument("--output", required=True, help="where to write the fixture Packages file")
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--no-candidate-closures", action="store_true",
                    help="do not add the closures of candidates apt did not take")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("apt-get") is None:
        sys.exit("cut-fixture: apt-get is needed")

    requests = read_requests(args.requests)
    full_text = read_index(args.full)
    index = Index(full_text, args.arch)
    print(f"full index: {len(index.stanzas)} stanzas for {args.arch}/all", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="cut-fixture-") as tmp:
        full_apt = AptRoot("\n\n".join(s for s, _ in index.stanzas) + "\n", args.arch,
                           os.path.join(tmp, "full"))
        keep = set()
        closures = []
        candidates = set()
        for request in requests:
            closure = full_apt.closure(request)
            closures.append(closure)
            ids = {index.by_key[k] for k in closure}
            keep |= ids
            for i in ids:
                f = index.stanzas[i][1]
                for field in DEP_FIELDS:
                    for name in relation_names(f.get(field, ""), args.arch):
                        candidates.update(index.by_name.get(name, []))
                        candidates.update(index.providers.get(name, []))
            print(f"{' '.join(request)}: {len(closure)} packages", file=sys.stderr)
        extra = sorted(candidates - keep)
        keep |= candidates
        print(f"{len(extra)} candidates outside the closures", file=sys.stderr)

        if not args.no_candidate_closures:
            def candidate_closure(i):
                f = index.stanzas[i][1]
                try:
                    return i, full_apt.closure([f"{f['Package']}={f['Version']}"])
                except AptFailed:
                    return i, None

            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                for i, closure in pool.map(candidate_closure, extra):
                    if closure is None:
                        print(f"  not installable alone: {index.stanzas[i][1]['Package']}", file=sys.stderr)
                        continue
                    keep |= {index.by_key[k] for k in closure}

        # Anchors for apt's tie-break between providers (see the top).
        anchors = set()
        for name, providers in index.providers.items():
            kept = {index.stanzas[i][1]["Package"] for i in providers if i in keep}
            if len(kept) > 1:
                anchors |= {index.first_mention[p] for p in kept}
        print(f"{len(anchors - keep)} stanzas added as first mentions of providers", file=sys.stderr)
        keep |= anchors

        fixture = "".join(index.stanzas[i][0] + "\n\n" for i in sorted(keep))
        fixture_apt = AptRoot(fixture, args.arch, os.path.join(tmp, "fixture"))
        bad = 0
        for request, want in zip(requests, closures):
            got = fixture_apt.closure(request)
            if got != want:
                bad += 1
                print(f"MISMATCH for {' '.join(request)}:", file=sys.stderr)
                for k in sorted(want - got):
                    print(f"  - {k[0]} {k[1]} (full index only)", file=sys.stderr)
                for k in sorted(got - want):
                    print(f"  + {k[0]} {k[1]} (fixture only)", file=sys.stderr)
        if bad:
            sys.exit(f"cut-fixture: apt resolves {bad} request(s) differently on the fixture; not written")

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(fixture)
    print(f"wrote {args.output}: {len(keep)} stanzas, {len(fixture.encode())} bytes; "
          f"apt agrees on all {len(requests)} requests", file=sys.stderr)


if __name__ == "__main__":
    main()
