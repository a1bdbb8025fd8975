"""The `gupshup` command line: ingest, build, publish, snapshots, search, related, stats, serve.

The CLI is the only place that maps errors to exit codes and one-line messages:
1 for data and engine problems, 2 for bad usage (click's own), 0 otherwise.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import ValidationError
from tqdm import tqdm

from api import queries
from api.errors import RequestError
from api.observability import MULTIPROC_ENV
from api.settings import Settings, build_config
from index_data.aliases import alias_file, alias_source, save_aliases
from index_data.build import build_snapshot
from index_data.errors import BuildInProgress, IndexDataError
from index_data.jobs import JobStore
from index_data.live import LiveView
from index_data.readers import read_paths
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore
from recommend import RecommendError
from search import SearchError
from search.aliases import AliasTable
from search.processes import die_with_parent


class GupshupGroup(click.Group):
    """Turns the engine's own errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (IndexDataError, RequestError, SearchError, RecommendError) as exc:
            raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@click.group(cls=GupshupGroup)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Overrides GUPSHUP_DATA_DIR.")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    """Gupshup Search: search and Related Articles for news sites."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"GUPSHUP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise click.ClickException(f"bad setting: {problems}") from None
    if data_dir:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    ctx.obj = settings


def _emit(model: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(model.model_dump_json(indent=2))
    else:
        human()


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--skip-invalid", is_flag=True, help="Store a file's valid records, list the rest.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], skip_invalid: bool) -> None:
    """Load articles from JSONL, CSV, .txt/.html pages or folders into the store."""
    settings = settings_of(ctx)
    reads = read_paths(list(paths))
    rejected_files = 0
    totals = {"inserted": 0, "updated": 0, "unchanged": 0}
    with ArticleStore(settings.store_path) as store:
        for read in reads:
            for problem in read.problems[:20]:
                click.echo(f"error: {problem}", err=True)
            if len(read.problems) > 20:
                click.echo(f"error: {read.path}: {len(read.problems) - 20} more problems", err=True)
            if read.problems and not skip_invalid:
                click.echo(f"rejected {read.path}: nothing stored from it", err=True)
                rejected_files += 1
                continue
            result = store.upsert_many(
                tqdm(
                    read.articles,
                    desc=f"ingest {os.path.basename(read.path)}",
                    unit="article",
                    disable=len(read.articles) < 500,
                    file=sys.stderr,
                )
            )
            for key in totals:
                totals[key] += getattr(result, key)
        count = store.count()
    click.echo(
        f"{totals['inserted']} new, {totals['updated']} updated, {totals['unchanged']} unchanged; "
        f"{count} articles in the store"
    )
    if rejected_files:
        raise click.ClickException(f"{rejected_files} file(s) rejected (see errors above)")


@cli.command()
@click.option("--publish", is_flag=True, help="Publish the new snapshot when it is complete.")
@click.pass_context
def build(ctx: click.Context, publish: bool) -> None:
    """Build a new snapshot (search index + related lists) from the store."""
    settings = settings_of(ctx)
    jobs = JobStore(settings.data_dir)
    try:
        live = jobs.live()
    finally:
        jobs.close()
    if live is not None:
        raise BuildInProgress(f"a rebuild is already running (job {live.id})")
    with ExitStack() as bars:
        open_bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = open_bars.get(stage)
            if bar is None:
                bar = bars.enter_context(
                    tqdm(total=total, desc=stage, unit="article", file=sys.stderr, leave=True)
                )
                open_bars[stage] = bar
            bar.update(done)

        result = build_snapshot(
            settings.data_dir, build_config(settings), publish=publish, progress=progress
        )
    took = result.seconds.get("total", 0.0)
    state = "built and published" if result.published else "built (not published)"
    click.echo(
        f"snapshot {result.snapshot_id} {state}: {result.article_count} articles, "
        f"{result.size_bytes / 1e6:.1f} MB, {took:.1f} s"
    )


@cli.command()
@click.argument("article_id")
@click.pass_context
def delete(ctx: click.Context, article_id: str) -> None:
    """Delete an article from the store (served without it at once; gone from the next build)."""
    with ArticleStore(settings_of(ctx).store_path) as store:
        if not store.delete(article_id):
            raise click.ClickException(f"no article with id {article_id!r}")
        rev = store.rev()
    click.echo(f"deleted {article_id} (store revision {rev})")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /api/admin/aliases).")
@click.pass_context
def aliases(ctx: click.Context, as_json: bool) -> None:
    """Show the name aliases searched together (one group per line, variants joined by '=')."""
    if ctx.invoked_subcommand is not None:
        return
    data_dir = settings_of(ctx).data_dir
    table = alias_file(data_dir).current()
    if as_json:
        body = {"groups": table.as_lists(), "source": alias_source(data_dir)}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    click.echo(f"# {len(table.groups)} groups from {alias_source(data_dir)}")
    click.echo(table.to_text(), nl=False)


@aliases.command(name="set")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def aliases_set(ctx: click.Context, path: Path) -> None:
    """Replace the alias list with the groups in PATH (checked first; nothing changes if a line
    is bad)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    table = AliasTable.parse(text, str(path))
    saved = save_aliases(settings_of(ctx).data_dir, table)
    click.echo(f"{len(table.groups)} alias groups saved to {saved}")


@aliases.command(name="add")
@click.argument("group")
@click.pass_context
def aliases_add(ctx: click.Context, group: str) -> None:
    """Add one group, e.g. "SRK = Shah Rukh Khan = शाहरुख़ ख़ान" (to the starter list if the
    data dir has no list yet)."""
    data_dir = settings_of(ctx).data_dir
    current = alias_file(data_dir).current()
    added = AliasTable.parse(group, "GROUP")
    table = AliasTable.from_groups(current.as_lists() + added.as_lists())
    saved = save_aliases(data_dir, table)
    click.echo(f"{len(table.groups)} alias groups saved to {saved}")


@cli.command()
@click.argument("snapshot_id")
@click.pass_context
def publish(ctx: click.Context, snapshot_id: str) -> None:
    """Publish a snapshot (also the way to roll back to an earlier one)."""
    manifest = SnapshotDir(settings_of(ctx).data_dir).publish(snapshot_id)
    click.echo(f"published {snapshot_id} ({manifest['article_count']} articles)")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def snapshots(ctx: click.Context, as_json: bool) -> None:
    """List snapshots: id, created, article count, which is current."""
    if ctx.invoked_subcommand is not None:
        return
    infos = SnapshotDir(settings_of(ctx).data_dir).listing()
    if as_json:
        click.echo(json.dumps([vars(i) for i in infos], indent=2))
        return
    if not infos:
        click.echo("no snapshots yet: run `gupshup build`")
    for info in infos:
        mark = "*" if info.current else " "
        click.echo(
            f"{mark} {info.id}  {info.created_at}  {info.article_count:>7} articles  "
            f"{info.size_bytes / 1e6:8.1f} MB{'  (current)' if info.current else ''}"
        )


@snapshots.command()
@click.option("--keep", type=click.IntRange(min=1), default=3, show_default=True)
@click.pass_context
def prune(ctx: click.Context, keep: int) -> None:
    """Delete old snapshots, keeping the newest KEEP and always the current one."""
    removed = SnapshotDir(settings_of(ctx).data_dir).prune(keep)
    click.echo(
        f"removed {len(removed)} snapshot(s)" + (": " + ", ".join(removed) if removed else "")
    )


@cli.command()
@click.argument("query")
@click.option("--category")
@click.option("--author")
@click.option("--tag")
@click.option("--from", "date_from", help="Published on or after (ISO date).")
@click.option("--to", "date_to", help="Published on or before (ISO date).")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), default="relevance")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print what GET /api/search returns.")
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    category: str | None,
    author: str | None,
    tag: str | None,
    date_from: str | None,
    date_to: str | None,
    sort: Literal["relevance", "newest"],
    page: int,
    limit: int,
    as_json: bool,
) -> None:
    """Search the published snapshot."""
    settings = settings_of(ctx)
    view = LiveView.open(settings.data_dir)
    try:
        result = queries.search(
            view,
            settings,
            query,
            page=page,
            per_page=limit,
            category=category,
            author=author,
            tag=tag,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
        )
    finally:
        view.close()
        view.snapshot.close()

    def human() -> None:
        first = (result.page - 1) * result.per_page
        click.echo(
            f"{result.total} results ({result.took_ms:.1f} ms, snapshot {result.snapshot_id})"
        )
        for n, hit in enumerate(result.hits, start=first + 1):
            score = f"{hit.score:.2f}" if hit.score is not None else "-"
            click.echo(f"{n:>3}. {hit.title}  [{hit.category or '-'}]  {hit.id}  score {score}")
            snippet = hit.snippet.replace("<mark>", "\033[1m").replace("</mark>", "\033[0m")
            click.echo(f"     {_unescape(snippet)}")
        if result.facets.get("category"):
            cats = ", ".join(f"{k} {v}" for k, v in result.facets["category"].items())
            click.echo(f"categories: {cats}")

    _emit(result, as_json, human)


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


@cli.command()
@click.argument("article_id")
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--category", help="Only related stories of this category.")
@click.option("--max-age-days", type=click.IntRange(min=1), help="Only stories this recent.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print what GET /api/articles/{id}/related returns."
)
@click.pass_context
def related(
    ctx: click.Context,
    article_id: str,
    limit: int,
    category: str | None,
    max_age_days: int | None,
    as_json: bool,
) -> None:
    """Related articles of a published article."""
    settings = settings_of(ctx)
    view = LiveView.open(settings.data_dir)
    try:
        result = queries.related(
            view,
            settings,
            article_id,
            limit=limit,
            category=category,
            max_age_days=max_age_days,
        )
    finally:
        view.close()
        view.snapshot.close()

    def human() -> None:
        click.echo(f"related to {article_id} (snapshot {result.snapshot_id}):")
        for n, item in enumerate(result.items, start=1):
            click.echo(
                f"{n:>3}. {item.title}  [{item.category or '-'}]  {item.id}  "
                f"cosine {item.score:.3f}  ({', '.join(item.shared_terms)})"
            )

    _emit(result, as_json, human)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Store and current snapshot: counts, sizes, versions."""
    settings = settings_of(ctx)
    with ArticleStore(settings.store_path) as store:
        report: dict[str, Any] = {
            "data_dir": str(settings.data_dir),
            "store": {
                "articles": store.count(),
                "rev": store.rev(),
                "size_bytes": store.size_bytes(),
            },
        }
    snaps = SnapshotDir(settings.data_dir)
    current = snaps.current_id()
    report["snapshots"] = len(snaps.listing())
    report["current"] = None
    if current is not None:
        from index_data.snapshots import read_manifest

        manifest = read_manifest(snaps.path(current))
        report["current"] = {
            "id": current,
            "created_at": manifest.get("created_at"),
            "article_count": manifest.get("article_count"),
            "store_rev": manifest.get("store_rev"),
            "size_bytes": sum(f["size"] for f in manifest.get("files", {}).values()),
            "build_seconds": manifest.get("seconds"),
            "related": manifest.get("related"),
            "versions": manifest.get("versions"),
        }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    st = report["store"]
    click.echo(
        f"store: {st['articles']} articles (rev {st['rev']}), {st['size_bytes'] / 1e6:.1f} MB"
    )
    cur = report["current"]
    if cur is None:
        click.echo("current snapshot: none published")
    else:
        click.echo(
            f"current snapshot: {cur['id']} ({cur['article_count']} articles, "
            f"{cur['size_bytes'] / 1e6:.1f} MB, built {cur['created_at']})"
        )
        click.echo("versions: " + ", ".join(f"{k} {v}" for k, v in cur["versions"].items()))
    click.echo(f"snapshots on disk: {report['snapshots']}")


@cli.command()
@click.option("--host", help="Overrides GUPSHUP_HOST.")
@click.option("--port", type=int, help="Overrides GUPSHUP_PORT.")
@click.option("--workers", type=click.IntRange(min=1), help="Overrides GUPSHUP_WORKERS.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API (uvicorn; every worker follows CURRENT)."""
    import uvicorn

    settings = settings_of(ctx)
    count = workers or settings.workers
    # Worker processes build their own Settings from the environment: pass ours down.
    os.environ["GUPSHUP_DATA_DIR"] = str(settings.data_dir.resolve())
    if count > 1:
        # Each worker writes its metrics to files here; /metrics adds them all up.
        metrics_dir = settings.data_dir.resolve() / "run" / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
    if settings.admin_port is not None and settings.admin_port == (port or settings.port):
        raise click.ClickException("GUPSHUP_ADMIN_PORT must differ from the public port")
    admin = _start_admin_listener(settings)
    try:
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=count,
            log_level=settings.log_level,
            access_log=False,  # ours is structured and carries the snapshot id
        )
    finally:
        if admin is not None:
            admin.terminate()
            try:
                admin.wait(timeout=30)
            except subprocess.TimeoutExpired:
                admin.kill()


def _start_admin_listener(settings: Settings) -> subprocess.Popen[bytes] | None:
    """With GUPSHUP_ADMIN_PORT, the admin API runs in a process of its own on that port
    (and host), so it can sit on an internal address while the public API faces readers."""
    if settings.admin_port is None:
        return None
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise click.ClickException("GUPSHUP_ADMIN_PORT is set but GUPSHUP_ADMIN_TOKEN is not")
    command = [sys.executable, "-m", "uvicorn", "api.app:admin_app_from_env", "--factory"]
    command += ["--host", settings.admin_host, "--port", str(settings.admin_port)]
    command += ["--log-level", settings.log_level, "--no-access-log"]
    # uvicorn re-raises SIGTERM once it has shut down, so `serve` may end without running
    # its `finally`: the kernel stops the admin process when its parent goes, however it goes.
    admin = subprocess.Popen(
        command, preexec_fn=functools.partial(die_with_parent, os.getpid(), signal.SIGTERM)
    )
    # Serve nothing rather than serve without the admin API asked for (a port taken, say).
    deadline = time.monotonic() + 60
    while not _listening(settings.admin_host, settings.admin_port):
        if admin.poll() is not None or time.monotonic() > deadline:
            admin.kill()
            raise click.ClickException(
                f"the admin API could not start on {settings.admin_host}:{settings.admin_port} "
                f"(exit code {admin.poll()}); see the lines above"
            )
        time.sleep(0.1)
    return admin


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@cli.group(name="eval")
def eval_group() -> None:
    """Measure relevance on test collections (see README, Quality)."""


@eval_group.command(name="search")
@click.option(
    "--collection",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A folder with corpus.jsonl, queries.jsonl and qrels.tsv.",
)
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_search_command(ctx: click.Context, collection: str, split: str, as_json: bool) -> None:
    """nDCG@10, recall@100 and MAP of the served search on a BEIR-style collection."""
    from api.evaluate import eval_search, table

    # Claims can be longer than a search box allows; the limit is a setting, not a path.
    settings = settings_of(ctx).model_copy(update={"max_query_chars": 10_000})
    result = eval_search(Path(collection), split, settings)
    click.echo(json.dumps(result) if as_json else table(result))


@eval_group.command(name="related")
@click.option(
    "--corpus",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A folder with articles.jsonl (id, title, body, category).",
)
@click.option("--k", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_related_command(ctx: click.Context, corpus: str, k: int, as_json: bool) -> None:
    """Same-category precision@k of the served related lists (categories never reach them)."""
    from api.evaluate import eval_related, table

    result = eval_related(Path(corpus), k, settings_of(ctx))
    click.echo(json.dumps(result) if as_json else table(result))


def main() -> None:
    cli(prog_name="gupshup")


@eval_group.command(name="variants")
@click.option(
    "--queries",
    "query_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("sample/variant_queries.jsonl"),
    show_default=True,
    help="One JSON object per line: kind, query, expected ids.",
)
@click.option(
    "--corpus",
    "corpus",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    default=[Path("sample/articles.jsonl"), Path("sample/pages")],
    show_default=True,
    help="Files or folders to build from (repeat the option for several).",
)
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_variants_command(
    ctx: click.Context, query_file: Path, corpus: tuple[Path, ...], k: int, as_json: bool
) -> None:
    """Success@k of name-variant queries (aliases, romanised spellings, typos, Hindi) with
    each feature off and on."""
    from api.evaluate import eval_variants

    result = eval_variants(list(corpus), query_file, settings_of(ctx), k)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['queries']} queries, success@{k}")
    for name, row in result["configs"].items():
        kinds = ", ".join(f"{kind} {value:.3f}" for kind, value in row["by_kind"].items())
        click.echo(f"{name:<16} {row[f'success@{k}']:.3f}  ({kinds})")
