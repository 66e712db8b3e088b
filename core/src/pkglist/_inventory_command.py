"""The ``pkglist inventory [FILE]`` command. Only click is imported here, so that registering it
costs the CLI's start-up nothing; the inventory itself (``_inventory``) is imported when it runs."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click

from ._command_settings import CONTEXT_SETTINGS, FORMATS

__all__ = ["inventory"]


@click.command(name="inventory", context_settings=CONTEXT_SETTINGS)
@click.argument("path", metavar="[FILE]", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format: table for people, json (one array), jsonl, csv; every record has its source.",
)
@click.option("--fields", metavar="F1,F2", help="Columns to output (source, package fields or extra.<key>).")
@click.option(
    "--where",
    multiple=True,
    metavar="EXPR",
    help="Only packages where EXPR holds, in every source (repeatable; source=NAME works too).",
)
@click.option("--explain", is_flag=True, help="Print, per source, which --where conditions go to the server.")
@click.option("--summary", is_flag=True, help="Output counts per group instead of the packages.")
@click.option(
    "--group-by",
    metavar="F1,F2",
    help="Fields the --summary groups by [default provider,source,scope,package_type,state].",
)
@click.option(
    "--concurrency",
    type=click.INT,
    help="Page requests in flight for the whole run, all sources together [default 8].",
)
@click.option("--strict", is_flag=True, default=None, help="A source that warned counts as failed (exit 1).")
@click.option("--emulate", is_flag=True, default=None, help="List every source from its provider's emulator.")
@click.option("--debug", is_flag=True, help="Log HTTP exchanges and show tracebacks.")
@click.pass_context
def inventory(
    ctx: click.Context,
    path: str | None,
    output: str,
    fields: str | None,
    where: tuple[str, ...],
    explain: bool,
    summary: bool,
    group_by: str | None,
    concurrency: int | None,
    strict: bool | None,
    emulate: bool | None,
    debug: bool,
) -> None:
    """List every source of an inventory file as one stream, each record with its source.

    FILE is TOML (default ./pkglist.toml, else $XDG_CONFIG_HOME/pkglist/inventory.toml): one
    [sources.NAME] table per source with provider, listing, the listing's query options by their
    Python names, common options, where = [...], and credentials only as <credential>_env = "VAR".
    Sources run at once; each one's packages come out in server order, the sources in file order.
    A summary of the sources goes to stderr; the exit status is 1 when any source failed.
    """
    import asyncio

    from ._inventory import ainventory
    from ._output import make_writer, parse_fields
    from ._summary import SummaryWriter
    from .cli import (
        _close_data_stream,
        _debugging,
        _manager,
        _open_data_stream,
        _ReaderGone,
        _summary_of,
        _terminal_width,
    )

    chosen_fields = parse_fields(fields, sources=True)
    counts = _summary_of(summary, group_by)
    on_state = _StateLines(sys.stderr) if sys.stderr.isatty() and not _debugging(ctx) else None
    run = ainventory(
        path,
        where=list(where),
        concurrency=concurrency,
        strict=strict,
        emulate=emulate,
        manager=_manager(ctx),
        on_state=on_state,
    )
    if explain:
        click.echo("\n".join(f"pkglist: explain: {line}" for line in run.explain()), err=True)
    stream = _open_data_stream()
    writer: Any = (
        SummaryWriter(counts, output, stream, terminal_width=_terminal_width())
        if counts is not None
        else make_writer(output, stream, fields=chosen_fields, sources=True)
    )
    reader_gone = False
    written = 0
    try:
        written = asyncio.run(_write_all(run, writer))
    except BrokenPipeError:
        reader_gone = True
    finally:
        reader_gone = not _close_data_stream(stream) or reader_gone
    if reader_gone:
        raise _ReaderGone
    if written == 0 and output == "table" and counts is None:
        click.echo("pkglist: no packages", err=True)
    report = run.report
    assert report is not None  # filled when the run ends
    for source in report.sources:
        click.echo(f"pkglist: source {source.line()}", err=True)
    if report.failed:
        ctx.exit(1)


async def _write_all(run: Any, writer: Any) -> int:
    import contextlib
    import gc

    from .cli import _COLLECT_AFTER

    count = 0
    async with contextlib.aclosing(run.batches()) as batches:
        async for source, batch in batches:
            writer.write(batch, source)
            count += len(batch)
            if gc.get_count()[0] >= _COLLECT_AFTER:
                gc.collect()
    writer.close()
    return count


class _StateLines:
    """``pkglist: prod: listing`` / ``done`` / ``failed`` on a terminal, one line per change."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, source: str, state: str) -> None:
        self._stream.write(f"pkglist: {source}: {state}\n")
        self._stream.flush()
