"""The ``pkglist diff OLD NEW`` command. Only click is imported here, so that registering it
costs the CLI's start-up nothing; the comparing (``_diff``) is imported when it runs."""

from __future__ import annotations

import click

from ._command_settings import CONTEXT_SETTINGS, FORMATS

__all__ = ["diff"]


@click.command(name="diff", context_settings=CONTEXT_SETTINGS)
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "-o",
    "--output",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json/jsonl one record per package; csv one row per changed field.",
)
@click.option(
    "--fields",
    metavar="F1,F2",
    help="Fields whose change counts (package fields or extra.<key>) [default version,state,updated_at].",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit with status 1 when there are differences, as git diff does."
)
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, output: str, fields: str | None, exit_code: bool) -> None:
    """Packages added, removed and changed between two listings written by pkglist.

    OLD and NEW are -o json or -o jsonl output of a listing or an inventory (- reads stdin).
    Records are matched by (source, provider, listing, id), and sorted that way.
    """
    from ._diff import compare, parse_diff_fields, write_differences
    from .cli import _close_data_stream, _open_data_stream, _ReaderGone

    compared = parse_diff_fields(fields)
    stream = _open_data_stream()
    reader_gone = False
    try:
        with compare(old, new, fields=compared) as differences:
            write_differences(differences, output, stream)
    except BrokenPipeError:
        reader_gone = True
    finally:
        reader_gone = not _close_data_stream(stream) or reader_gone
    if reader_gone:
        raise _ReaderGone
    counts = differences.counts
    if any(counts.values()):
        summary = ", ".join(f"{count} {change}" for change, count in counts.items())
        click.echo(f"pkglist: {summary}", err=True)
    else:
        click.echo("pkglist: no differences", err=True)
    if exit_code and any(counts.values()):
        ctx.exit(1)
