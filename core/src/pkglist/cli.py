"""The ``pkglist`` command.

Every provider listing becomes ``pkglist <provider> <listing>``, its options
generated from the listing's query class and the provider's credentials, so
the CLI and the Python API never drift. Data goes to stdout, everything else
to stderr; errors are one line (the traceback only with ``--debug``).

Start-up is lazy: the root group knows the providers by their plugins' entry point
names (metadata, nothing imported), ``pkglist PROVIDER ...`` imports the plugin
named after it, and a listing imports the engine and httpx when it runs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TextIO

import click

from ._command_settings import CONTEXT_SETTINGS, FORMATS
from ._diff_command import diff as _diff
from ._entry_points import offered_names
from ._errors import PkglistError, PkglistWarning, UsageError
from ._inventory_command import inventory as _inventory

if TYPE_CHECKING:
    from ._plugins import PluginManager
    from ._provider import Listing, Provider
    from ._summary import Summary

__all__ = ["cli", "main"]

EXIT_INTERRUPTED = 130


def _manager(ctx: click.Context) -> PluginManager:
    from ._plugins import PluginManager, get_plugin_manager, set_plugin_manager

    root = ctx.find_root()
    if root.params.get("no_plugins"):
        if not isinstance(root.obj, PluginManager):
            root.obj = PluginManager(entry_points=False)
            set_plugin_manager(root.obj)
        return root.obj
    return get_plugin_manager()


def _debugging(ctx: click.Context | None) -> bool:
    while ctx is not None:
        if ctx.params.get("debug"):
            return True
        ctx = ctx.parent
    return "--debug" in sys.argv[1:]


def _offered_providers(ctx: click.Context) -> list[str]:
    """Provider names for help and completion, without importing a plugin if none is loaded."""
    plugins = sys.modules.get(f"{__package__}._plugins")  # not imported: no manager was made
    if ctx.find_root().params.get("no_plugins") or getattr(plugins, "_default_manager", None) is not None:
        return _manager(ctx).command_names()
    return offered_names(os.environ)


def _find_provider(ctx: click.Context, name: str) -> Provider | None:
    """The provider ``name``: from the plugin whose entry point is called so if there is one
    (importing no other), else from all the installed plugins."""
    _end_quickly()
    manager = _manager(ctx)
    with warnings.catch_warnings():
        if ctx.resilient_parsing:  # completing a command line: no warning lines
            warnings.simplefilter("ignore")
        manager.load_named(name)
        provider = manager.loaded_provider(name)
        if provider is None:
            record = manager.providers().get(name)
            provider = None if record is None else record.provider
    return provider


class _RootGroup(click.Group):
    """Built-in commands plus one group per provider, built only when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *_offered_providers(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is not None:
            return command
        provider = _find_provider(ctx, cmd_name)
        return None if provider is None else _provider_group(provider)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if name.startswith("-") or name in self.commands:
            return super().resolve_command(ctx, args)
        command = self.get_command(ctx, name)
        if command is not None:
            return name, command, args[1:]
        if ctx.resilient_parsing:  # shell completion after an unknown provider: nothing
            return name, click.Command(name, add_help_option=False), args[1:]
        _manager(ctx).provider(name)  # raises a UsageError with a "did you mean"
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The built-in commands, then the providers by name (click's own would build them all)."""
        limit = formatter.width - 6 - max(len(name) for name in self.commands)
        rows = [(name, command.get_short_help_str(limit)) for name, command in sorted(self.commands.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        names = _offered_providers(ctx)
        with formatter.section("Providers"):
            formatter.write_text(", ".join(names) or "none installed (pip install pkglist-harness, ...)")
            formatter.write_text("(their listings: pkglist PROVIDER --help, or pkglist providers)")


@click.group(cls=_RootGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="pkglist", message="pkglist %(version)s")
@click.option("--debug", is_flag=True, help="Log HTTP exchanges (secrets redacted) and show tracebacks.")
@click.option(
    "--no-plugins",
    is_flag=True,
    is_eager=True,  # before --help, which lists the providers
    help="Run with the built-ins only; load no installed plugin.",
)
def cli(debug: bool, no_plugins: bool) -> None:
    """List packages from many platforms as the same normalized records.

    \b
    pkglist providers                         installed providers and their listings
    pkglist plugins                           installed plugin distributions
    pkglist <provider> <listing> [options]    e.g. pkglist harness packages --account acme
    pkglist emulate <provider> [--port N]     serve a provider's emulator on loopback
    pkglist diff OLD NEW                      packages added, removed and changed between two listings
    pkglist inventory [FILE]                  every source of an inventory file, as one stream
    """


# Listing commands -------------------------------------------------------------------


def _provider_group(provider: Provider) -> click.Group:
    group = click.Group(
        name=provider.name,
        help=provider.title or f"Listings of the {provider.name} provider.",
        context_settings=CONTEXT_SETTINGS,
    )
    for listing in provider.listings:
        group.add_command(_listing_command(provider, listing))
    return group


def _listing_command(provider: Provider, listing: Listing) -> click.Command:
    from ._query import query_options

    params: list[click.Parameter] = []
    for opt in query_options(listing.query):
        notes = []
        if opt.required:
            notes.append("required")
        if opt.envvar:
            notes.append(f"env {opt.envvar}")
        if opt.multiple:
            notes.append("repeatable")
        help_text = opt.help + (f" [{'; '.join(notes)}]" if notes else "")
        kind: Any = {"int": click.INT, "float": click.FLOAT}.get(opt.kind, click.STRING)
        if opt.choices is not None:
            kind = click.Choice(opt.choices)
        if opt.is_flag:
            decls = [f"{opt.flag}/--no-{opt.flag[2:]}"] if opt.default else [opt.flag]
            params.append(click.Option([*decls, opt.name], is_flag=True, default=None, help=help_text))
        else:
            params.append(
                click.Option(
                    [opt.flag, opt.name],
                    type=kind,
                    multiple=opt.multiple,
                    metavar=opt.metavar,
                    help=help_text,
                )
            )
    for credential in provider.credentials:
        if not credential.cli:
            continue
        env = f" [env {' / '.join(credential.envvars)}]" if credential.envvars else ""
        params.append(click.Option([credential.flag, credential.name], help=credential.help + env))
    params.extend(_common_options(provider))

    def callback(**values: Any) -> None:
        _run_listing(provider, listing, values)

    return click.Command(
        name=listing.name,
        params=params,
        callback=callback,
        help=listing.help,
        short_help=listing.help.split(". ")[0],
        context_settings=CONTEXT_SETTINGS,
    )


class _ByteSize(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes: ``1048576``, ``512K``, ``64M``, ``1G`` (powers of 1024; ``KiB`` etc. too)."""

    name = "size"
    _UNITS: ClassVar[dict[str, int]] = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().removesuffix("ib").removesuffix("b")
        number, unit = (text[:-1], text[-1]) if text[-1:].isalpha() else (text, "")
        try:
            return int(float(number) * self._UNITS[unit])
        except (KeyError, ValueError):
            self.fail(f"{value!r} is not a size such as 1048576, 512K, 64M or 1G", param, ctx)


BYTE_SIZE = _ByteSize()


def _common_options(provider: Provider) -> list[click.Option]:
    base = f" [default {provider.default_base_url}]" if provider.default_base_url else ""
    env = f" [env {' / '.join(provider.base_url_envvars)}]" if provider.base_url_envvars else ""
    return [
        click.Option(
            ["-o", "--output"],
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="Output format: table for people, json (one array), jsonl, csv.",
        ),
        click.Option(
            ["--fields"], metavar="F1,F2", help="Columns to output (package fields or extra.<key>)."
        ),
        click.Option(["--limit"], type=click.INT, help="Stop after this many packages."),
        click.Option(["--page-size"], type=click.INT, help="Items per page (default: the listing's)."),
        click.Option(
            ["--concurrency"],
            type=click.INT,
            help="Pin the page requests in flight [default: adapts to the server, up to 64].",
        ),
        click.Option(["--base-url"], metavar="URL", help="API base URL." + base + env),
        click.Option(
            ["--timeout"], type=click.FLOAT, help="Seconds for one whole request, body included [default 30]."
        ),
        click.Option(
            ["--max-page-bytes"],
            type=BYTE_SIZE,
            metavar="SIZE",
            help="Cap on one page's body, e.g. 64M [default 256M].",
        ),
        click.Option(["--retries"], type=click.INT, help="Retries per request [default 5]."),
        click.Option(["--max-retry-wait"], type=click.FLOAT, help="Cap on one wait in seconds [default 60]."),
        click.Option(
            ["--max-pages"], type=click.INT, help="Stop a listing after this many pages [default 20000]."
        ),
        click.Option(["--raw"], is_flag=True, default=None, help="Include the provider's own item."),
        click.Option(
            ["--skip-invalid"],
            is_flag=True,
            default=None,
            help="Report and skip items that cannot be normalized instead of failing.",
        ),
        click.Option(
            ["--rebase-links"],
            is_flag=True,
            default=None,
            help="Follow next links written for another host on the configured origin (if under the listing's path).",
        ),
        click.Option(
            ["--strict"],
            is_flag=True,
            default=None,
            help="Exit 1 (after the output) when the listing warned that it may be incomplete.",
        ),
        click.Option(
            ["--emulate"],
            is_flag=True,
            default=None,
            help="List from the provider's built-in emulator on a loopback port.",
        ),
        click.Option(
            ["--ca-bundle"],
            metavar="FILE",
            shell_complete=_complete_file,
            help="CA certificates to verify TLS with [env SSL_CERT_FILE].",
        ),
        click.Option(
            ["--insecure"],
            is_flag=True,
            default=None,
            help="Do not verify TLS certificates (prints a warning).",
        ),
        click.Option(["--debug"], is_flag=True, default=None, help="Log HTTP exchanges and show tracebacks."),
        *_filter_options(),
    ]


def _filter_options() -> list[click.Option]:
    """``--where``, ``--explain``, ``--summary`` and ``--group-by`` of every listing (the inventory
    command declares its own, with the same names)."""
    return [
        click.Option(
            ["--where"],
            "where",
            multiple=True,
            metavar="EXPR",
            help="Only packages where EXPR holds, e.g. state!=deleted, updated_at<30d, "
            "package_type in DOCKER,HELM, name~^web (repeatable: all must hold).",
        ),
        click.Option(
            ["--explain"],
            is_flag=True,
            default=None,
            help="Print which --where conditions go to the server and which are checked locally.",
        ),
        click.Option(
            ["--summary"], is_flag=True, default=None, help="Output counts per group instead of the packages."
        ),
        click.Option(
            ["--group-by"],
            metavar="F1,F2",
            help="Fields the --summary groups by [default provider,source,scope,package_type,state].",
        ),
    ]


def _complete_file(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


_CLI_ONLY = ("output", "fields", "debug", "explain", "summary", "group_by")


def _run_listing(provider: Provider, listing: Listing, values: dict[str, Any]) -> None:
    import asyncio

    from ._api import prepare
    from ._output import make_writer, parse_fields
    from ._pushdown import explain
    from ._summary import SummaryWriter

    ctx = click.get_current_context()
    fmt = values.pop("output")
    fields = parse_fields(values.pop("fields"))
    if fields is not None and "raw" in fields and not values.get("raw"):
        raise click.UsageError("--fields raw needs the provider's own item: add --raw", ctx)
    if fields is None and fmt == "table" and listing.columns:
        fields = listing.columns
    values.pop("debug", None)
    summary = _summary_of(values.pop("summary"), values.pop("group_by"))
    explaining = values.pop("explain")
    prepared = prepare(provider.name, listing.name, values, manager=_manager(ctx))
    if explaining:
        click.echo("\n".join(f"pkglist: explain: {line}" for line in explain(prepared.plan)), err=True)
    _end_quickly()
    stream = _open_data_stream()
    writer: Any = (
        SummaryWriter(summary, fmt, stream, terminal_width=_terminal_width())
        if summary is not None
        else make_writer(fmt, stream, fields=fields, raw=bool(values.get("raw")), width=_terminal_width())
    )
    global _progress
    if sys.stderr.isatty() and not _debugging(ctx):
        _progress = _Progress(sys.stderr, first_page=getattr(listing.paging, "first", 1))
    progress = _progress
    reader_gone = False
    try:
        count = asyncio.run(_write_all(prepared, _ClearingProgress(writer, stream, progress)))
    except BrokenPipeError:
        reader_gone = True
    finally:
        _progress = None
        if progress is not None:
            progress.clear()
        reader_gone = not _close_data_stream(stream) or reader_gone
    if reader_gone:
        raise _ReaderGone  # click would turn a broken pipe into exit status 1
    if count == 0 and fmt == "table" and summary is None:
        click.echo("pkglist: no packages", err=True)


def _summary_of(summary: bool | None, group_by: str | None) -> Summary | None:
    """The :class:`~pkglist._summary.Summary` asked for (``--group-by`` implies ``--summary``), or ``None``."""
    from ._summary import Summary, parse_group_by

    if not summary and group_by is None:
        return None
    return Summary(parse_group_by(group_by))


def _terminal_width() -> int | None:
    """The columns of the terminal stdout is (``COLUMNS`` if set), ``None`` when it is not one."""
    import shutil

    try:
        if not sys.stdout.isatty():
            return None
    except ValueError:  # closed
        return None
    return shutil.get_terminal_size().columns


#: Set by the commands that load plugins (a listing, a provider's help, providers, plugins):
#: once they are done, the process can end without tearing the interpreter down (see run).
_quick_exit = False


def _end_quickly() -> None:
    global _quick_exit
    _quick_exit = True


class _ReaderGone(Exception):
    """Whoever read stdout has gone (``| head``): a quiet end, not an error."""


def _open_data_stream() -> TextIO:
    """Where records go: stdout, always buffered (whole records even when interrupted, also
    under ``PYTHONUNBUFFERED``, whose raw writes can be partial) and writing a lone surrogate
    in a name escaped, as JSON spells it (``\\ud800``), instead of failing."""
    import io

    try:
        buffer = sys.stdout.buffer
        buffer.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests capture it)
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
        return sys.stdout
    sys.stdout.flush()
    binary: Any = buffer if isinstance(buffer, io.BufferedIOBase) else io.BufferedWriter(buffer)
    return io.TextIOWrapper(
        binary, encoding="utf-8", errors="backslashreplace", newline="\n", write_through=False
    )


def _close_data_stream(stream: TextIO) -> bool:
    """Flush what was written and hand stdout back; ``False`` if its reader has gone."""
    import io

    try:
        stream.flush()
    except BrokenPipeError:
        return False
    finally:
        if stream is not sys.stdout and isinstance(stream, io.TextIOWrapper):
            try:  # detached, so that the wrapper going away does not close stdout
                buffer = stream.detach()
                if buffer is not sys.stdout.buffer and isinstance(buffer, io.BufferedWriter):
                    buffer.detach()
            except OSError:  # a pipe that broke while flushing: nothing left to hand back
                pass
    return True


async def _write_all(prepared: Any, writer: _ClearingProgress) -> int:
    from ._api import _batches
    from ._errors import StrictError

    count = 0
    try:
        async with contextlib.aclosing(_batches(prepared, writer.progress)) as batches:
            async for batch in batches:
                writer.write(batch)
                count += len(batch)
                if gc.get_count()[0] >= _COLLECT_AFTER:
                    gc.collect()
    except StrictError:
        writer.close()  # everything was listed: the output is whole, only its completeness is in doubt
        raise
    writer.close()
    return count


# The collector's count is the tracked objects allocated and not freed since it last
# ran. A listing frees what it allocates (a collection after 100,000 packages found
# nothing), so the count only grows this far if something leaks reference cycles.
_COLLECT_AFTER = 500_000


class _Progress:
    """``123 packages, page 4/200`` on a terminal's stderr, for listings that take a while.

    ``first_page`` is the number the listing's pages start at, so that the count of
    pages is right whether they are numbered from 0 or from 1.
    """

    def __init__(self, stream: TextIO, first_page: int = 1) -> None:
        self._stream = stream
        self._first_page = first_page
        self._started = time.monotonic()
        self._shown_at = 0.0
        self._text = ""
        self._visible = False

    def __call__(self, position: int, last: int | None, emitted: int) -> None:
        now = time.monotonic()
        if now - self._started < 1.0 or now - self._shown_at < 0.1:
            return
        self._shown_at = now
        pages = f"page {position}" + (f"/{last - self._first_page + 1}" if last is not None else "")
        self._text = f"{emitted} packages, {pages}"
        self.show()

    def show(self) -> None:
        if self._text:
            self._stream.write(f"\r\x1b[K{self._text}")
            self._stream.flush()
            self._visible = True

    def clear(self) -> None:
        if self._visible:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._visible = False


#: The progress line of the listing running, if it shows one: warnings clear it too.
_progress: _Progress | None = None


class _ClearingProgress:
    """A writer whose output never mixes with the progress line: the line is cleared before
    a batch is written and drawn again once the batch has reached the terminal."""

    def __init__(self, writer: Any, stream: TextIO, progress: _Progress | None) -> None:
        self._writer = writer
        self._stream = stream
        self.progress = progress

    def write(self, packages: Sequence[Any]) -> None:
        progress = self.progress
        if progress is None:
            self._writer.write(packages)
            return
        progress.clear()
        self._writer.write(packages)
        self._stream.flush()
        progress.show()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.clear()
        self._writer.close()


# Built-in commands --------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def providers(ctx: click.Context, as_json: bool) -> None:
    """Installed providers, their listings and the plugins that provide them."""
    _end_quickly()
    manager = _manager(ctx)
    if not as_json:
        text = _providers_text(manager)
        if text is None:
            click.echo("pkglist: no providers installed (pip install pkglist-harness, ...)", err=True)
        else:
            click.echo(text, nl=False)
        return
    import json

    rows = [
        {
            "provider": name,
            "title": record.provider.title,
            "listings": [listing.name for listing in record.provider.listings],
            "plugin": record.plugin,
            "version": record.version,
        }
        for name, record in manager.providers().items()
    ]
    click.echo(json.dumps(rows, indent=2))


def _providers_text(manager: PluginManager) -> str | None:
    records = manager.providers()
    if not records:
        return None
    rows = [
        [name, ", ".join(listing.name for listing in record.provider.listings), record.plugin, record.version]
        for name, record in records.items()
    ]
    return "\n".join(_table_lines(["PROVIDER", "LISTINGS", "PLUGIN", "VERSION"], rows)) + "\n"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """Plugin distributions registered in the 'pkglist' entry-point group, and their status."""
    import json

    import attrs

    _end_quickly()
    records = _manager(ctx).plugins()
    if as_json:
        click.echo(json.dumps([attrs.asdict(record) for record in records], indent=2))
        return
    if not records:
        click.echo("pkglist: no plugins installed", err=True)
        return
    _print_table(
        ["PLUGIN", "VERSION", "STATUS", "PROVIDERS", "HOOKS", "ENTRY POINT"],
        [
            [
                record.name,
                record.version,
                record.status + (f" ({record.reason})" if record.reason else ""),
                ", ".join(record.providers) or "-",
                ", ".join(record.hooks) or "-",
                record.entry_point,
            ]
            for record in records
        ],
    )


def _complete_provider(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a broken plugin has no business on a completion line
        names = _manager(ctx).providers()
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


@cli.command()
@click.argument("provider", shell_complete=_complete_provider)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one).")
@click.option("--packages", type=click.IntRange(min=0), help="Size of the seeded data set.")
@click.option("--seed", type=click.INT, default=0, show_default=True, help="Seed of the data set.")
@click.option(
    "--latency", type=click.FloatRange(min=0), default=0.0, help="Milliseconds added to every response."
)
@click.option(
    "--capacity",
    type=click.IntRange(min=1),
    help="Requests handled at once; the rest wait their turn (default: no limit).",
)
@click.option(
    "--throttle-above",
    type=click.IntRange(min=1),
    help="Answer 429 (Retry-After: 1) while this many requests are already waiting or handled.",
)
@click.pass_context
def emulate(
    ctx: click.Context,
    provider: str,
    host: str,
    port: int,
    packages: int | None,
    seed: int,
    latency: float,
    capacity: int | None,
    throttle_above: int | None,
) -> None:
    """Serve PROVIDER's emulator on loopback until interrupted."""
    from .testing import EmulatorServer

    chosen = _manager(ctx).provider(provider)
    emulator = chosen.emulator(packages=packages, seed=seed)
    if emulator is None:
        raise UsageError(f"provider {provider!r} has no emulator")
    try:
        server = EmulatorServer(
            emulator,
            host=host,
            port=port,
            latency=latency / 1000,
            capacity=capacity,
            throttle_above=throttle_above,
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    no_option = {c.name: c.envvars for c in chosen.credentials if not c.cli and c.envvars}
    credentials = " ".join(
        f"{no_option[name][0]}={value}" if name in no_option else f"--{name.replace('_', '-')} {value}"
        for name, value in emulator.credentials.items()
    )
    click.echo(server.url)
    click.echo(
        f"pkglist: serving the {chosen.name} emulator at {server.url}"
        + (f" (credentials: {credentials})" if credentials else "")
        + "; Ctrl-C stops it",
        err=True,
    )
    sys.stdout.flush()
    server.serve_forever()


cli.add_command(_diff)
cli.add_command(_inventory)


def _table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max([len(headers[i]), *(len(row[i]) for row in rows)]) for i in range(len(headers))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    for line in _table_lines(headers, rows):
        click.echo(line)


# Entry point -----------------------------------------------------------------------------


def _show_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, *_: Any, **__: Any
) -> None:
    progress = _progress
    if progress is not None:
        progress.clear()
    sys.stderr.write(f"pkglist: warning: {message}\n")
    if progress is not None:
        progress.show()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 runtime error, 2 usage, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    with warnings.catch_warnings():
        warnings.simplefilter("default", PkglistWarning)
        warnings.showwarning = _show_warning
        if not debug:
            return _run(args, debug)
        import logging

        logger = logging.getLogger("pkglist")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("pkglist: debug: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            return _run(args, debug)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)


@contextlib.contextmanager
def _collector_left_to_the_listing() -> Iterator[None]:
    """Leave cyclic garbage collection to the listing loop (:func:`_write_all`) while the CLI runs.

    A listing allocates millions of short-lived, acyclic objects (decoded pages,
    packages) that reference counting frees; the collector, triggered every 700
    allocations, rescanned the page being decoded and cost a third of a CPU-bound
    listing in profiles. Nothing on a listing's path creates reference cycles
    (the memory benchmark stays flat with the collector off), so the listing loop
    collects only if tracked objects pile up. The library leaves the collector
    alone, and so does ``main`` once it returns.
    """
    enabled = gc.isenabled()
    gc.freeze()  # what is loaded by now lives as long as the process
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _run(args: list[str], debug: bool) -> int:
    try:
        with _collector_left_to_the_listing():
            # Without standalone mode click returns a command's ``ctx.exit(status)`` instead of raising.
            status = cli.main(args=args, prog_name="pkglist", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return _interrupted()
    except click.UsageError as exc:
        return _fail(_click_usage(exc), 2, exc, debug)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code, exc, debug)
    except PkglistError as exc:
        return _fail(exc.message, exc.exit_code, exc, debug)
    except KeyboardInterrupt:
        return _interrupted()
    except (BrokenPipeError, _ReaderGone):
        return _broken_pipe()
    except Exception as exc:  # noqa: BLE001 - one line instead of a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}", 1, exc, debug)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    return status if type(status) is int else 0


def _click_usage(exc: click.UsageError) -> str:
    ctx = exc.ctx
    no_command = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2
    if ctx is not None and isinstance(exc, no_command) and isinstance(ctx.command, click.Group):
        # A group without its command (``pkglist harness``): click would put the whole help here.
        names = ", ".join(ctx.command.list_commands(ctx))
        message = f"missing command; choose from {names}"
    else:
        message = " ".join(exc.format_message().split())
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def _fail(message: str, code: int, exc: BaseException, debug: bool) -> int:
    _flush_stdout()
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(f"pkglist: error: {' '.join(message.split())}\n")
    return code


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass


def _interrupted() -> int:
    _flush_stdout()
    sys.stderr.write("pkglist: interrupted\n")
    return EXIT_INTERRUPTED


def _broken_pipe() -> int:
    import os

    # Python would complain when flushing stdout at exit; point it at /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed, or not a file
        pass
    return 0


def run() -> NoReturn:
    """The console script.

    After a command that loaded plugins (a listing above all), the process ends once its
    output is flushed and the ``atexit`` handlers have run: tearing the interpreter down,
    freeing every module the plugins, the engine and httpx loaded, costs tens of
    milliseconds and has nothing left to do (a listing's connections and event loop are
    closed by then). ``diff`` and ``emulate``, which keep temporary files or a server
    thread, end the usual way.
    """
    status = main()
    if _quick_exit:
        import atexit

        _flush_stdout()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(status)
    sys.exit(status)
