#!/usr/bin/env python3
"""Checks an image's file system, as `docker export` wrote it, against its
manifest and against this host's dpkg database.

usage: image-contents.py DIR        (exit 0 when every check passed)

- Every file and symlink in DIR is listed in DIR/usr/share/logjet/manifest
  ("PATH PACKAGE VERSION"), and every listed path is there.
- A file listed under a Debian package has the md5 that package's md5sums
  record on this host (either spelling of a merged-/usr path), and the version
  this host has installed; a listed symlink is in that package's file list and
  points where the host's does.
- Files listed as logjet's own are only the ones the image build makes: the
  daemons, the UI, the health check, the user database, nsswitch.conf, the CA
  bundle (as many certificates as the ca-certificates package ships), the NATS
  config and the merged-/usr links.
- No compiler, linker, build tool, header, static library, package manager or
  shell other than busybox (which has no applet links) is in the image.

It reads DIR and /var/lib/dpkg only; it does not run anything in DIR.
"""
import hashlib
import os
import re
import subprocess
import sys

# What `docker export` adds to every container's file system.
DOCKER_PLACEHOLDERS = {'/.dockerenv', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/etc/mtab'}
DOCKER_DIRS = ('/dev/', '/proc/', '/sys/')
MANIFEST = '/usr/share/logjet/manifest'
OWN = re.compile(r'^(/usr/bin/logjet-(publisher|gateway)|/usr/share/logjet/ui/[A-Za-z0-9._/-]+'
                 r'|/usr/lib/logjet/healthcheck|/etc/(passwd|group|nsswitch\.conf)'
                 r'|/etc/ssl/certs/ca-certificates\.crt|/etc/nats/nats-server\.conf'
                 r'|/(bin|sbin|lib|lib64))$')
FORBIDDEN = re.compile(r'(^|/)(gcc[^/]*|g?cc|c\+\+|cpp|clang[^/]*|ld|ld\.(bfd|gold)|as|make|meson|ninja'
                       r'|python3?[^/]*|perl|bash|sh|dash|apt[^/]*|dpkg[^/]*)$|\.(h|a)$|^/usr/include/')
DPKG = '/var/lib/dpkg/info'


def spellings(path):
    """The path as dpkg may have recorded it on a merged-/usr system."""
    out = [path]
    m = re.match(r'^/usr(/(bin|sbin|lib|lib64)/.*)$', path)
    if m:
        out.append(m.group(1))
    return out


def dpkg_file(pkg, suffix):
    for name in (f'{pkg}.{suffix}', f'{pkg}:amd64.{suffix}', f'{pkg}:all.{suffix}'):
        p = os.path.join(DPKG, name)
        if os.path.exists(p):
            return p
    for name in os.listdir(DPKG):
        if name.startswith(pkg + ':') and name.endswith('.' + suffix):
            return os.path.join(DPKG, name)
    return None


def md5sums(pkg, cache={}):
    if pkg not in cache:
        sums = {}
        p = dpkg_file(pkg, 'md5sums')
        if p:
            for line in open(p, encoding='utf-8', errors='replace'):
                sums['/' + line[34:].rstrip('\n')] = line[:32]
        cache[pkg] = sums
    return cache[pkg]


def filelist(pkg, cache={}):
    if pkg not in cache:
        p = dpkg_file(pkg, 'list')
        cache[pkg] = set(l.rstrip('\n') for l in open(p)) if p else set()
    return cache[pkg]


def installed_version(pkg, cache={}):
    if pkg not in cache:
        r = subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg], capture_output=True, text=True)
        cache[pkg] = r.stdout if r.returncode == 0 else None
    return cache[pkg]


def walk(root):
    """Every non-directory path in root, as an absolute path in the image."""
    found = set()
    for d, dirs, files in os.walk(root):
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            found.add('/' + os.path.relpath(os.path.join(d, n), root))
    return {p for p in found if p not in DOCKER_PLACEHOLDERS and not p.startswith(DOCKER_DIRS)}


def main():
    if len(sys.argv) != 2:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    problems = []
    mpath = root + MANIFEST
    if not os.path.isfile(mpath):
        print(f'FAIL {MANIFEST} is missing')
        return 1
    manifest = {}
    for line in open(mpath):
        parts = line.split()
        if len(parts) != 3:
            problems.append(f'manifest line {line.strip()!r} is not PATH PACKAGE VERSION')
            continue
        manifest[parts[0]] = (parts[1], parts[2])
    present = walk(root) - {MANIFEST}
    for p in sorted(present - manifest.keys()):
        problems.append(f'{p} is in the image but not in the manifest')
    for p in sorted(manifest.keys() - present):
        problems.append(f'{p} is in the manifest but not in the image')
    packages = set()
    own = 0
    for p in sorted(present & manifest.keys()):
        pkg, version = manifest[p]
        local = root + p
        if FORBIDDEN.search(p):
            problems.append(f'{p}: a build tool, header, package manager or shell')
        if pkg == 'logjet':
            own += 1
            if not OWN.match(p):
                problems.append(f'{p} is listed as logjet\'s own but the image build makes no such file')
            continue
        packages.add(pkg)
        if installed_version(pkg) != version:
            problems.append(f'{p}: {pkg} {version} in the manifest, {installed_version(pkg)} on this host')
        if os.path.islink(local):
            if not any(s in filelist(pkg) for s in spellings(p)):
                problems.append(f'{p}: symlink not in {pkg}\'s file list')
            elif os.readlink(local) != os.readlink(p):
                problems.append(f'{p}: points to {os.readlink(local)}, the host\'s to {os.readlink(p)}')
            continue
        want = next((md5sums(pkg)[s] for s in spellings(p) if s in md5sums(pkg)), None)
        if want is None:
            problems.append(f'{p}: {pkg} records no md5sum for it')
        elif hashlib.md5(open(local, 'rb').read()).hexdigest() != want:
            problems.append(f'{p}: differs from the file {pkg} {version} ships')
    bundle = root + '/etc/ssl/certs/ca-certificates.crt'
    shipped = [f for f in filelist('ca-certificates') if f.startswith('/usr/share/ca-certificates/') and f.endswith('.crt')]
    if not os.path.isfile(bundle):
        problems.append('no CA bundle at /etc/ssl/certs/ca-certificates.crt')
    else:
        n = open(bundle).read().count('-----BEGIN CERTIFICATE-----')
        if n != len(shipped):
            problems.append(f'the CA bundle holds {n} certificates, the ca-certificates package ships {len(shipped)}')
    for p in problems:
        print(f'FAIL {p}')
    print(f'image-contents: {root}: {len(present)} files and links, {len(present) - own} from '
          f'{len(packages)} Debian packages as dpkg recorded them, {own} logjet\'s own; {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
