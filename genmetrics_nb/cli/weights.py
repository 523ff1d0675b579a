"""``genmetrics-nb weights list | fetch NAME | import NAME FILE | verify [NAME ...]``."""
from __future__ import annotations

import sys

__all__ = ["register"]


def _list(args) -> int:
    from genmetrics_nb.weights import manager

    rows = manager.list_weights()
    width = max(len(r["name"]) for r in rows)
    print(f"weights cache: {manager.cache_dir()}  (offline: {manager.is_offline()})")
    for r in rows:
        digest = r["sha256"] or (f"{r['sha256_prefix']}... (prefix only)" if r["sha256_prefix"]
                                 else f"unpublished (md5 {r['md5']})")
        state = "cached " if r["cached"] else "missing"
        size = f"{r['size'] / 1e6:.1f} MB" if r["size"] else "size ?"
        print(f"  {r['name']:<{width}}  {state}  {r['filename']}  {size}  sha256 {digest}")
        if args.verbose:
            print(f"  {'':<{width}}  url: {r['url']}\n  {'':<{width}}  {r['description']}")
    return 0


def _fetch(args) -> int:
    from genmetrics_nb.weights import manager

    for name in args.names:
        p = manager.fetch(name, progress=not args.quiet)
        print(f"{name}: {p}")
    return 0


def _import(args) -> int:
    from genmetrics_nb.weights import manager

    p = manager.import_file(args.name, args.file, move=args.move)
    print(f"{args.name}: imported to {p}")
    return 0


def _verify(args) -> int:
    from genmetrics_nb.weights import manager

    rows = manager.verify(args.names or None)
    bad = 0
    for r in rows:
        print(f"{r['name']}: {r['status']}  {r['file']}")
        if r["status"] == "corrupt":
            bad += 1
            print(f"  {r['detail']}", file=sys.stderr)
    return 1 if bad else 0


def register(subparsers) -> None:
    """Add the ``weights`` command and its sub-commands."""
    p = subparsers.add_parser(
        "weights",
        help="list, download, import and verify pretrained checkpoints",
        description="Offline-first weights: cache in $GENMETRICS_HOME/weights, sha256-checked. "
        "GENMETRICS_OFFLINE=1 forbids downloads.",
    )
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    sub.required = True

    q = sub.add_parser("list", help="known checkpoints and whether they are cached")
    q.add_argument("-v", "--verbose", action="store_true", help="also print URL and description")
    q.set_defaults(func=_list)

    q = sub.add_parser("fetch", help="download checkpoints into the cache (verified)")
    q.add_argument("names", nargs="+", metavar="NAME")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_fetch)

    q = sub.add_parser("import", help="register a copy obtained elsewhere (verified, then copied)")
    q.add_argument("name", metavar="NAME")
    q.add_argument("file", metavar="FILE")
    q.add_argument("--move", action="store_true", help="move the file instead of copying it")
    q.set_defaults(func=_import)

    q = sub.add_parser("verify", help="check cached files against the manifest (exit 1 if any is corrupt)")
    q.add_argument("names", nargs="*", metavar="NAME")
    q.set_defaults(func=_verify)
