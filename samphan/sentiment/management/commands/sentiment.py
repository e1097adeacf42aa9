"""`samphan sentiment train|classify|evaluate`: the Thai/English sentiment model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from samphan.core.errors import ValidationFailed
from samphan.core.management.base import SamphanCommand

# Per language: model file, training report, training and scoring files in --data.
LAYOUT = {
    "th": {"model": "thai.npz", "report": "training-report.json",
           "train": "train.jsonl", "valid": "valid.jsonl"},
    # English also learns from the dev half of the hand-written customer messages (in-domain, as
    # extra examples); their test half is never trained on (data/english/README.md).
    "en": {"model": "english.npz", "report": "training-report-english.json",
           "train": "vader-train.jsonl", "valid": "vader-test.jsonl", "extra": "customer-messages-dev.jsonl"},
}
MODEL_FILE = LAYOUT["th"]["model"]
REPORT_FILE = LAYOUT["th"]["report"]
BATCH = 2000


def default_data_dir(language: str = "th") -> Path:
    if language == "en":  # committed with the code (data/english/README.md)
        return Path(__file__).resolve().parents[2] / "data" / "english"
    # The Thai corpus lives in shared/ beside the repository (see its README.md).
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "wisesight-sentiment"


class Command(SamphanCommand):
    help = (
        "Sentiment (positive, neutral, negative, question) of Thai and English messages. "
        "train: fit the Thai model on DIR/train.jsonl and score it on DIR/valid.jsonl; "
        "classify: one JSON object per line of stdin; evaluate: accuracy, macro-F1, per-class F1 "
        "and messages/s on a labelled JSONL file."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="{train,classify,evaluate,import-vader}")

        train = sub.add_parser("train", help="train the Thai (or, with --language en, the English) model")
        train.add_argument("--language", choices=sorted(LAYOUT), default="th",
                           help="th (default): Wisesight, thai.npz; en: VADER's rated tweets and "
                                "reviews in samphan/sentiment/data/english, english.npz")
        train.add_argument("--data", type=Path, default=None,
                           help="folder with train.jsonl (and valid.jsonl, only scored); "
                                "default ../shared/data/wisesight-sentiment (en: vader-train.jsonl "
                                "and vader-test.jsonl in samphan/sentiment/data/english)")
        train.add_argument("--out", type=Path, default=None,
                           help="folder for the model and its training report (default: the packaged "
                                "model's folder, or var/sentiment/<workspace>/ with --workspace)")
        train.add_argument("--extra", type=Path, default=None,
                           help="JSONL of extra labelled examples (corrections), weighted --extra-weight")
        train.add_argument("--extra-weight", type=float, default=3.0, dest="extra_weight")
        train.add_argument("--workspace", default=None, help="workspace slug (for --with-corrections)")
        train.add_argument("--with-corrections", action="store_true", dest="with_corrections",
                           help="add the workspace's label corrections to the training data")
        train.add_argument("--c", type=float, default=2.0, help="inverse L2 strength (default 2)")
        train.add_argument("--nb-weight", type=float, default=None, dest="nb_weight",
                           help="share of the NB-scaled logistic regression in the weights, 0-1 "
                                "(default: 0.5 for Thai, 0 for English; 0 is plain logistic regression)")
        train.add_argument("--seed", type=int, default=0,
                           help="seed of the folds and of liblinear (default 0): same data and seed, same model")
        train.add_argument("--folds", type=int, default=5,
                           help="folds for tuning the class priors (0: no tuning; default 5)")
        train.add_argument("--json", action="store_true", help="print the training report as JSON")

        classify = sub.add_parser("classify", help="classify each line of stdin; prints JSON lines")
        classify.add_argument("--model", type=Path, default=None, help="a Thai model file (.npz)")

        evaluate = sub.add_parser("evaluate", help="score the model on a labelled JSONL file")
        evaluate.add_argument("file", type=Path, help='lines like {"texts": "…", "category": "pos|neu|neg|q"}')
        evaluate.add_argument("--model", type=Path, default=None, help="a Thai model file (.npz)")
        evaluate.add_argument("--english-model", type=Path, default=None, dest="english_model",
                              help="an English model file (.npz)")
        evaluate.add_argument("--json", action="store_true", help="print JSON")

        vader = sub.add_parser("import-vader", help="turn VADER's rated tweets and Amazon snippets "
                                                    "(hutto_ICWSM_2014 folder) into vader-train/test.jsonl")
        vader.add_argument("folder", type=Path, help="the unpacked hutto_ICWSM_2014 folder")
        vader.add_argument("--out", type=Path, default=None,
                           help="output folder (default samphan/sentiment/data/english)")

    def handle(self, *args, **opts):
        getattr(self, f"_{opts['action'].replace('-', '_')}")(opts)

    # --- train ---------------------------------------------------------------------

    def _train(self, opts):
        from samphan.sentiment import DEFAULT_MODEL
        from samphan.sentiment.training import read_labelled_jsonl, train

        if opts["with_corrections"] and not opts["workspace"]:
            raise CommandError("--with-corrections needs --workspace", returncode=2)
        language = opts["language"]
        layout = LAYOUT[language]
        data = opts["data"] or default_data_dir(language)
        if not data.is_dir():
            raise ValidationFailed(f"{data}: no such folder (give --data DIR with {layout['train']})")
        examples = read_labelled_jsonl(data / layout["train"])
        valid_path = data / layout["valid"]
        valid = read_labelled_jsonl(valid_path) if valid_path.exists() else None
        extra_path = opts["extra"] or (data / layout["extra"] if "extra" in layout else None)
        extra = read_labelled_jsonl(extra_path) if extra_path else []
        workspace = self.workspace_arg(opts["workspace"]) if opts["workspace"] else None
        corrections = []
        if opts["with_corrections"]:
            from samphan.sentiment.corrections import correction_examples

            corrections = correction_examples(workspace=workspace, language=language)
            self.stderr.write(f"{len(corrections):,} label corrections in workspace {workspace.slug} "
                              f"({language})")
            extra = [*extra, *corrections]
        out = opts["out"] or (Path(settings.VAR_DIR) / "sentiment" / workspace.slug if workspace
                              else DEFAULT_MODEL.parent)
        model, report = train(examples, extra=extra, valid=valid, c=opts["c"], folds=opts["folds"],
                              extra_weight=opts["extra_weight"], language=language, seed=opts["seed"],
                              nb_weight=opts["nb_weight"],
                              progress=lambda message: self.stderr.write(message))
        out.mkdir(parents=True, exist_ok=True)
        model_path = out / layout["model"]
        model.save(model_path)
        data_report = {**report.as_json(), "language": language, "data": _shown(data),
                       "model": _shown(model_path)}
        (out / layout["report"]).write_text(json.dumps(data_report, indent=2, ensure_ascii=False) + "\n")
        if workspace is not None:
            # The workspace's own model: stored in the database, where the worker finds it.
            from samphan.sentiment.workspace import workspace_model_store

            row = workspace_model_store(workspace=workspace, language=language, path=model_path,
                                        report=data_report, n_corrections=len(corrections), via="cli")
            data_report["workspace_model_id"] = row.pk
            self.stderr.write(f"stored as workspace {workspace.slug}'s {language} model #{row.pk}; its "
                              "messages are classified with it from now on")
        if opts["json"]:
            self.print_json(data_report)
            return
        self.stdout.write(f"model: {model_path} ({model_path.stat().st_size / 1e6:.1f} MB), "
                          f"{report.n_train:,} examples + {report.n_extra:,} extra, {report.seconds:.0f} s")
        if report.out_of_fold:
            s = report.out_of_fold["after_shift"]
            self.stdout.write(f"out-of-fold on train: accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}")
        if report.validation:
            s = report.validation
            self.stdout.write(f"{valid_path}: accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}")

    # --- classify ------------------------------------------------------------------

    def _classify(self, opts):
        from samphan.sentiment import classify

        if opts["model"] and not opts["model"].is_file():
            raise ValidationFailed(f"{opts['model']}: no such model file")
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        batch: list[str] = []
        for number, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            except UnicodeDecodeError as exc:
                raise ValidationFailed(f"stdin line {number}: not UTF-8 ({exc.reason})") from None
            batch.append(line.rstrip("\r\n"))
            if len(batch) >= BATCH:
                self._emit(classify(batch, model_path=opts["model"]))
                batch = []
        if batch:
            self._emit(classify(batch, model_path=opts["model"]))

    def _emit(self, results):
        self.stdout.write("\n".join(json.dumps(r, ensure_ascii=False) for r in results))

    # --- evaluate ------------------------------------------------------------------

    def _evaluate(self, opts):
        from samphan.sentiment.evaluation import evaluate

        if opts["model"] and not opts["model"].is_file():
            raise ValidationFailed(f"{opts['model']}: no such model file")
        if opts["english_model"] and not opts["english_model"].is_file():
            raise ValidationFailed(f"{opts['english_model']}: no such model file")
        report = evaluate(opts["file"], model_path=opts["model"], english_model_path=opts["english_model"])
        if opts["json"]:
            self.print_json(report)
            return
        self.stdout.write(f"{opts['file']}: {report['n']:,} messages, accuracy {report['accuracy']:.4f}, "
                          f"macro-F1 {report['macro_f1']:.4f}, {report['messages_per_second']:,} messages/s")
        for label, f1 in report["per_class"].items():
            self.stdout.write(f"  F1 {label:<9} " + ("-" if f1 is None else f"{f1:.4f}"))

    # --- import-vader --------------------------------------------------------------

    def _import_vader(self, opts):
        from samphan.sentiment.vader_corpus import convert, write

        paths = write(convert(opts["folder"]), opts["out"] or default_data_dir("en"))
        for name, path in paths.items():
            lines = path.read_text(encoding="utf-8").count("\n")
            self.stdout.write(f"{name}: {path} ({lines:,} messages)")


def _shown(path: Path) -> str:
    """A path relative to the repository (or "../" its parent) when it is under it: reports are committed."""
    root = Path(settings.BASE_DIR).resolve()
    for base, prefix in ((root, ""), (root.parent, "../")):
        try:
            return prefix + str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)
