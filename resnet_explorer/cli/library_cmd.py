"""``library``: the saved designs, profiles and probe runs (list, save, show, delete, export,
import). The file is ``--db PATH``, else ``$RESNET_EXPLORER_DB``, else the user's data directory."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from resnet_explorer.cli.common import CliError, load_design, print_json, schema
from resnet_explorer.files import check_output, read_limited, write_file


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "library", help="the library of saved designs and runs (list, save, show, ...)"
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="library file (default: $RESNET_EXPLORER_DB "
        "or ~/.local/share/resnet-explorer/library.sqlite3)",
    )
    # The same flag after the action; SUPPRESS keeps it from overwriting one given before.
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="library file")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="machine-readable output")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = actions.add_parser("list", parents=[db, as_json], help="list saved designs")
    p.add_argument("-q", "--query", help="only names containing this text")
    p.add_argument("--tag", help="only designs with this tag")
    p.add_argument("--block", choices=["basic", "bottleneck"], help="only designs using it")
    p.set_defaults(handler=run_list)

    p = actions.add_parser("save", parents=[db, as_json], help="save a design")
    p.add_argument("ref", metavar="NAME|FILE.json|v1.TOKEN")
    p.add_argument("--name", help="name to save it under (default: the preset or file name)")
    p.add_argument("--tags", default="", help="comma-separated tags, e.g. cifar,baseline")
    p.add_argument("--notes", default="", help="free text")
    p.add_argument(
        "--replace", action="store_true", help="replace a design already saved under the name"
    )
    p.set_defaults(handler=run_save)

    p = actions.add_parser("show", parents=[db, as_json], help="show a saved design")
    p.add_argument("name")
    p.set_defaults(handler=run_show)

    p = actions.add_parser("delete", parents=[db, as_json], help="delete a saved design")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="really delete (required)")
    p.set_defaults(handler=run_delete)

    p = actions.add_parser("export", parents=[db], help="export the library as JSON")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these designs (default: all)")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--no-runs", action="store_true", help="leave out probe runs and steps")
    p.set_defaults(handler=run_export)

    p = actions.add_parser("import", parents=[db, as_json], help="import an exported library")
    p.add_argument("file", metavar="FILE.json")
    p.add_argument(
        "--on-conflict",
        choices=["skip", "rename"],
        default="skip",
        help="a name taken by a different design: skip it (default) or save as 'NAME (imported)'",
    )
    p.set_defaults(handler=run_import)


def _store(args: argparse.Namespace) -> Any:
    """The library for a writing command (created if needed)."""
    from resnet_explorer.store import Store

    return Store(args.db)


def _missing(args: argparse.Namespace) -> bool:
    """True when the library file does not exist yet (reading commands then create nothing)."""
    from resnet_explorer.store import paths

    path = paths.resolve(args.db)
    return not path.exists() and not path.is_symlink()


@contextlib.contextmanager
def reading(db: str | None) -> Iterator[Any]:
    """The library opened read-only for a reading command (it never writes the file), or None
    when there is no file yet. Rows it had to skip are reported on stderr by name."""
    from resnet_explorer.store import Store, paths

    path = paths.resolve(db)
    if not path.exists() and not path.is_symlink():
        yield None
        return
    with Store(db, read_only=True) as store:
        try:
            yield store
        finally:
            for message in store.damaged:
                print(f"warning: skipped a damaged row: {message}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    from resnet_explorer.store import paths

    with reading(args.db) as store:
        found = [] if store is None else store.list_designs(
            query=args.query, tag=args.tag, block=args.block
        )
    if args.json:
        print_json(
            {
                "schema": schema("library-list"),
                "db": str(paths.resolve(args.db)),
                "designs": [d.summary() for d in found],
            }
        )
        return 0
    if not found:
        print("no saved designs" + (" match" if args.query or args.tag or args.block else ""))
        return 0
    width = max(len(d.name) for d in found)
    for d in found:
        tags = ", ".join(d.tags)
        print(f"{d.name:{width}}  {d.hash}  {d.updated[:16].replace('T', ' ')}  {tags}")
    return 0


def run_save(args: argparse.Namespace) -> int:
    label, design = load_design(args.ref)
    name = args.name or (label if label != "link" else f"design-{design.hash[:8]}")
    from resnet_explorer.store import NameTakenError

    with _store(args) as store:
        try:
            saved = store.save_design(
                name, design, tags=args.tags, notes=args.notes, replace=args.replace
            )
        except NameTakenError:
            raise CliError(
                f"a design named {name!r} is already saved in {store.path}; choose another "
                "--name, or pass --replace to replace it"
            ) from None
        db = str(store.path)
    if args.json:
        print_json({"schema": schema("library-save"), "db": db, **saved.summary()})
    else:
        print(f"saved {saved.name!r} (hash {saved.hash}) in {db}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from resnet_explorer.store import NotFoundError

    with reading(args.db) as store:
        if store is None:
            raise NotFoundError(f"no design named {args.name!r}: the library is empty")
        saved = store.get_design(args.name)
        runs = store.runs(design_hash=saved.hash)
        profiles = store.profiles(design_hash=saved.hash)
    design = saved.design
    run_records = [
        {
            "run_id": r.run_id,
            "status": r.status,
            "started": r.started,
            "finished": r.finished,
            "steps": r.steps,
        }
        for r in runs
    ]
    if args.json:
        print_json(
            {
                "schema": schema("library-show"),
                **saved.summary(),
                "url_token": design.to_url(),
                "design": design.to_dict(),
                "profiles": len(profiles),
                "runs": run_records,
            }
        )
        return 0
    print(design.to_json(indent=2))
    print(f"# {saved.name}: hash {saved.hash}, tags: {', '.join(saved.tags) or '-'}")
    print(f"# saved {saved.created}, updated {saved.updated}")
    for line in saved.notes.splitlines():
        print(f"# {line}")
    print(f"# {len(profiles)} profiles, {len(runs)} probe runs")
    for r in run_records:
        print(f"#   run {r['run_id']}: {r['status']}, {r['steps']} steps, started {r['started']}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from resnet_explorer.store import NotFoundError, Store

    if _missing(args):
        raise NotFoundError(f"no design named {args.name!r}: the library is empty")
    with Store(args.db, create=False) as store:
        saved = store.get_design(args.name)  # a missing name is an error even without --yes
        if not args.yes:
            raise CliError(
                f"not deleting {saved.name!r} without --yes (this cannot be undone; "
                f"`library export {saved.name!r} -o FILE` keeps a copy)"
            )
        store.delete_design(saved.name)
    if args.json:
        print_json({"schema": schema("library-delete"), "deleted": saved.summary()})
    else:
        print(f"deleted {saved.name!r}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from resnet_explorer.store import NotFoundError, dumps, exchange

    out = args.output
    if out is not None:  # refuse before reading the library (the rules: resnet_explorer.files)
        check_output(out, force=args.force, what="export file")
    with reading(args.db) as store:
        if store is None:
            if args.names:
                raise NotFoundError(f"no design named {args.names[0]!r}: the library is empty")
            doc = exchange.empty_export()
        else:
            doc = store.export_library(args.names or None, include_runs=not args.no_runs)
    text = dumps(doc)
    if out is None:
        sys.stdout.write(text)
        return 0
    write_file(out, text, force=args.force, what="export file")
    print(
        f"exported {len(doc['designs'])} designs, {len(doc['profiles'])} profiles and "
        f"{len(doc['runs'])} runs to {out}",
        file=sys.stderr,
    )
    return 0


def _remove_library(args: argparse.Namespace) -> None:
    """Remove the library this command created, if it is still empty (never anything else)."""
    from resnet_explorer.store import Store, StoreError, paths

    path = paths.resolve(args.db)
    try:
        with Store(path, read_only=True) as store:
            if any(store.counts().values()):
                return
    except StoreError:
        if path.exists() and path.stat().st_size > 0:
            return  # not ours to judge: leave it
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            path.with_name(path.name + suffix).unlink()


def run_import(args: argparse.Namespace) -> int:
    from resnet_explorer.store import exchange

    text = read_limited(args.file, exchange.MAX_IMPORT_BYTES, what="export file", error=CliError)
    plan = exchange.parse_document(text)  # all checked before the library is even opened
    new = _missing(args)
    try:
        with _store(args) as store:
            report = store.import_library(plan, on_conflict=args.on_conflict)
            db = str(store.path)
    except BaseException:
        if new:  # a failed import leaves no new library behind
            _remove_library(args)
        raise
    if args.json:
        print_json({"schema": schema("library-import"), "db": db, **report.to_dict()})
        return 0
    print(
        f"imported into {db}: {len(report.designs_added)} designs added, "
        f"{len(report.designs_renamed)} renamed, {len(report.designs_skipped)} skipped, "
        f"{len(report.designs_unchanged)} already there; {report.profiles_added} profiles, "
        f"{len(report.runs_added)} runs added"
    )
    for old, new in report.designs_renamed:
        print(f"  {old!r} saved as {new!r} (the name was taken)")
    for name in report.designs_skipped:
        print(f"  {name!r} skipped: a different design has that name (--on-conflict rename)")
    return 0
