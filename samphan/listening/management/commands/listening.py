"""`samphan listening …`: topics, sources, imports, fetches, the priority list and spike checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from samphan.core.errors import NotFound
from samphan.core.management.base import SamphanCommand
from samphan.listening import selectors, services
from samphan.listening.models import ALL_TOPICS, Mention, Source, Topic


class Command(SamphanCommand):
    help = ("Social listening: topics (brand, products, competitors, campaigns), sources (RSS/Atom feeds, "
            "X searches), importing mentions from CSV/JSON or saved X results, fetching, the priority list "
            "and negative-spike checks.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        p = sub.add_parser("topics", help="list topics with their rules and mention counts")
        p.add_argument("--workspace", required=True)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("topic-add", help="add a topic (terms: words, phrases, #hashtags, @handles)")
        p.add_argument("--workspace", required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--kind", default="brand", choices=Topic.Kind.values)
        p.add_argument("--include", action="append", default=[], required=True,
                       help="a term that puts a mention in the topic (repeat the option)")
        p.add_argument("--exclude", action="append", default=[], help="a term that keeps a mention out")
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("import", help="import mentions from a CSV or JSON file, or saved X search results")
        p.add_argument("file", type=Path)
        p.add_argument("--workspace", required=True)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("fetch-x", help="search X now (API v2 recent search) and store new mentions")
        p.add_argument("--workspace", required=True)
        p.add_argument("--query", required=True, help='e.g. "samphan OR #samphan -is:retweet"')
        p.add_argument("--token-env", default="SAMPHAN_X_BEARER_TOKEN",
                       help="environment variable holding the bearer token (default SAMPHAN_X_BEARER_TOKEN)")
        p.add_argument("--since-id", default="")
        p.add_argument("--max-pages", type=int, default=5)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("fetch-rss", help="read an RSS/Atom feed now and store new mentions")
        p.add_argument("--workspace", required=True)
        p.add_argument("--url", required=True)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("source-add", help="add a source fetched on a schedule")
        p.add_argument("kind", choices=Source.Kind.values)
        p.add_argument("--workspace", required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--url", default="", help="rss: the feed's address")
        p.add_argument("--query", default="", help="x: the search query")
        p.add_argument("--token-env", default="", help="x: environment variable holding this source's token")
        p.add_argument("--interval", type=int, default=15, help="minutes between fetches (default 15)")
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("sources", help="list sources and how their last fetch went")
        p.add_argument("--workspace", required=True)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("fetch", help="fetch sources: the due ones (--due, for cron), or one (--source ID)")
        p.add_argument("--workspace", default=None, help="only this workspace's sources")
        p.add_argument("--due", action="store_true")
        p.add_argument("--source", type=int, default=None)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("mentions", help="mentions to handle, worst first")
        p.add_argument("--workspace", required=True)
        p.add_argument("--topic", type=int, default=None)
        p.add_argument("--status", default="new")
        p.add_argument("--limit", type=int, default=20)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("spikes", help="judge the current hour of every topic for a negative spike now")
        p.add_argument("--workspace", required=True)
        p.add_argument("--json", action="store_true")

        p = sub.add_parser("rollups", help="recount the daily rollup from the hourly one, in the workspace's "
                                           "time zone (after changing it; the next ingest does it too)")
        p.add_argument("--workspace", required=True)
        p.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        return getattr(self, "_" + opts["action"].replace("-", "_"))(opts)

    def _out(self, opts, data, lines):
        if opts.get("json"):
            self.print_json(data)
        else:
            for line in lines:
                self.stdout.write(line)

    def _topics(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        counts = selectors.topic_mention_counts(workspace=ws)
        rows = [{"id": t.pk, "name": t.name, "kind": t.kind, "include_terms": t.include_terms,
                 "exclude_terms": t.exclude_terms, "is_active": t.is_active, "mentions": counts.get(t.pk, 0)}
                for t in selectors.topics_of(workspace=ws)]
        self._out(opts, rows, [f"{r['id']}\t{r['kind']}\t{r['name']}\t{r['mentions']}\t+{r['include_terms']} "
                               f"-{r['exclude_terms']}" for r in rows])

    def _topic_add(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        topic = services.topic_create(workspace=ws, name=opts["name"], kind=opts["kind"],
                                      include_terms=opts["include"], exclude_terms=opts["exclude"], via="cli")
        self._out(opts, {"id": topic.pk, "name": topic.name}, [f"topic {topic.pk}: {topic.name}"])

    def _report(self, opts, result: dict, errors: list) -> None:
        data = {**result, "errors": errors}
        lines = [", ".join(f"{k} {v}" for k, v in result.items() if k != "errors")]
        lines += [f"row {e['row']}: {e['field'] or '(row)'}: {e['reason']}" for e in errors]
        self._out(opts, data, lines)

    def _import(self, opts):
        from samphan.listening.connectors.upload import mentions_import

        ws = self.workspace_arg(opts["workspace"])
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=1)
        result = mentions_import(workspace=ws, content=path.read_bytes(), name=path.name)
        errors = result.pop("errors")
        self._report(opts, result, errors)

    def _fetch_x(self, opts):
        from samphan.listening.connectors.x import search_recent
        from samphan.listening.ingest import mentions_ingest

        ws = self.workspace_arg(opts["workspace"])
        token = os.environ.get(opts["token_env"], "")
        if not token:
            raise CommandError(f"set the bearer token in ${opts['token_env']}", returncode=1)
        items, errors, newest = search_recent(query=opts["query"], bearer_token=token, since_id=opts["since_id"],
                                              max_pages=opts["max_pages"])
        result = mentions_ingest(workspace=ws, items=items, connector=Mention.Connector.X).as_dict()
        self._report(opts, {**result, "rows_rejected": len(errors), "newest_id": newest}, errors)

    def _fetch_rss(self, opts):
        from samphan.listening.connectors.rss import fetch_feed, parse_feed
        from samphan.listening.ingest import mentions_ingest

        ws = self.workspace_arg(opts["workspace"])
        body, _etag, _modified = fetch_feed(url=opts["url"])
        items, errors, _info = parse_feed(body or b"", feed_url=opts["url"])
        result = mentions_ingest(workspace=ws, items=items, connector=Mention.Connector.RSS).as_dict()
        self._report(opts, {**result, "rows_rejected": len(errors)}, errors)

    def _source_add(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        token = os.environ.get(opts["token_env"], "") if opts["token_env"] else ""
        if opts["token_env"] and not token:
            raise CommandError(f"${opts['token_env']} is empty", returncode=1)
        source = services.source_create(workspace=ws, kind=opts["kind"], name=opts["name"], url=opts["url"],
                                        query=opts["query"], bearer_token=token,
                                        interval_minutes=opts["interval"], via="cli")
        self._out(opts, {"id": source.pk, "name": source.name}, [f"source {source.pk}: {source.name}"])

    def _sources(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        rows = [{"id": s.pk, "kind": s.kind, "name": s.name, "target": s.url or s.query, "active": s.is_active,
                 "last_fetched_at": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
                 "last_count": s.last_count, "last_error": s.last_error}
                for s in selectors.sources_of(workspace=ws)]
        self._out(opts, rows, [f"{r['id']}\t{r['kind']}\t{r['name']}\t{r['target']}\t{r['last_fetched_at'] or '-'}"
                               f"\t{r['last_count']}\t{r['last_error']}" for r in rows])

    def _fetch(self, opts):
        from samphan.listening.connectors.scheduler import fetch_due_sources, source_fetch_now

        ws = self.workspace_arg(opts["workspace"]) if opts["workspace"] else None
        if opts["source"]:
            source = Source.objects.filter(pk=opts["source"])
            if ws is not None:
                source = source.filter(workspace=ws)
            if not source.exists():
                raise NotFound(f"source #{opts['source']} not found")
            outcome = source_fetch_now(source_id=opts["source"])
            self._out(opts, outcome, [str(outcome)])
            if outcome.get("error"):
                sys.exit(1)
            return
        if not opts["due"]:
            raise CommandError("say --due (every source whose time has come) or --source ID", returncode=2)
        outcome = fetch_due_sources(workspace=ws)
        self._out(opts, outcome, [f"{outcome['sources']} sources fetched, {outcome['created']} new mentions, "
                                  f"{outcome['failed']} failed"]
                  + [f"  source {o['source']}: {o.get('error') or o.get('created')}" for o in outcome["outcomes"]])

    def _mentions(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        rows, _ = selectors.mention_list(workspace=ws, filters=selectors.MentionFilters(
            topic_id=opts["topic"], status=opts["status"]), limit=opts["limit"])
        data = [{"id": m.pk, "priority": m.priority, "label": m.label, "source": m.source,
                 "author": m.author_handle or m.author_name, "reach": m.reach, "text": m.text[:200],
                 "published_at": m.published_at.isoformat(), "url": m.url} for m in rows]
        self._out(opts, data, [f"{d['id']}\t{d['priority']:.3f}\t{d['label']}\t{d['source']}\t{d['author']}\t"
                               f"{' '.join(d['text'].split())[:80]}" for d in data])

    def _spikes(self, opts):
        from samphan.listening.spikes import check

        ws = self.workspace_arg(opts["workspace"])
        scopes = [ALL_TOPICS, *selectors.topics_of(workspace=ws, active_only=True).values_list("id", flat=True)]
        alerts = check(workspace_id=ws.pk, scopes=scopes, now=timezone.now())
        data = [{"id": a.pk, "topic_id": a.topic_id, "observed": a.observed, "threshold": a.threshold}
                for a in alerts]
        self._out(opts, data, [f"alert {d['id']}: topic {d['topic_id'] or 'all'}: {d['observed']} negative "
                               f"(threshold {d['threshold']})" for d in data] or ["no new spike"])

    def _rollups(self, opts):
        from samphan.listening.rollups import daily_rebuild_workspace

        ws = self.workspace_arg(opts["workspace"])
        zone = daily_rebuild_workspace(workspace_id=ws.pk)
        self._out(opts, {"time_zone": zone}, [f"daily rollup recounted in {zone}"])
