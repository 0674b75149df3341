#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/ from the
test fixtures (tests/fixtures): Packages stanzas, the real relation fields and
versions in them, the Release text inside the InRelease fixture, the golden lock.
Seeds are derived at run time and not committed; the corpora a run grows are
not committed either (fuzz/.gitignore)."""

import gzip
import hashlib
import lzma
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")
CORPUS = os.path.join(HERE, "corpus")


def read(*path, mode="r"):
    with open(os.path.join(FIXTURES, *path), mode) as f:
        return f.read()


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    rng = random.Random(8)
    packages = read("bookworm-amd64", "Packages")
    stanzas = [s + "\n" for s in packages.split("\n\n") if s.strip()]
    inrelease = read("release", "bookworm-resigned-InRelease")
    start = inrelease.index("\n\n") + 2
    end = inrelease.index("\n-----BEGIN PGP SIGNATURE-----") + 1
    release = inrelease[start:end]
    lock = read("golden", "sample.lock")
    versions = [l for l in read("versions.txt").splitlines() if l and not l.startswith("#")]

    relations = set()
    filenames = set()
    for s in stanzas:
        for line in s.splitlines():
            name, _, value = line.partition(": ")
            if name in ("Depends", "Pre-Depends", "Recommends", "Suggests", "Conflicts", "Breaks", "Provides", "Replaces"):
                relations.add(value)
            if name == "Filename":
                filenames.add(value)

    # deb822: single stanzas, runs of stanzas, the Release text
    for s in stanzas[::3]:
        write("deb822", s)
    for i in range(0, len(stanzas), 40):
        write("deb822", "\n".join(stanzas[i:i + 5]))
    write("deb822", release[:4000])

    for r in sorted(relations):
        write("relation", r)

    for _ in range(400):
        write("version", "\n".join(rng.sample(versions, 3)))

    write("release", release)
    lines = release.splitlines(keepends=True)
    for n in (5, 12, 20, 40):
        write("release", "".join(lines[:n]))

    write("lock", lock)

    for f in sorted(filenames)[::4]:
        write("nix", f)
    for s in ['a"b\\c${d}$e\n', "''${x}''", "\t\r\n\u00e9\u2603", ".hidden.deb", "pool/" + "a" * 300 + ".deb"]:
        write("nix", s)

    for i in range(0, len(stanzas), 8):
        chunk = "\n".join(stanzas[i:i + 6])
        write("index", bytes([rng.randrange(256)]) + chunk.encode())

    sample = "\n".join(stanzas[:4]).encode()
    write("decompress", sample)
    write("decompress", lzma.compress(sample))
    write("decompress", lzma.compress(sample, preset=0) + b"\0" * 4 + lzma.compress(b"x\n"))
    write("decompress", gzip.compress(sample))
    write("decompress", gzip.compress(sample) + gzip.compress(b"y\n"))
    write("decompress", lzma.compress(b"\0" * (1 << 20)))

    keyring = read("release", "test-keyring.gpg", mode="rb")
    write("signature", b"\0" + keyring)
    write("signature", b"\1" + inrelease.encode())
    write("signature", b"\2" + release.encode() + b"\0" + read("release", "bookworm-resigned-Release.gpg", mode="rb"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
