"""Teaching the assistant: importing labelled examples, training a version, measuring it.

`examples_import` takes CSV files (columns text,category; `oos` marks out-of-scope) into the
database; `model_train` trains on every example there, measures the result on a stratified
tenth held out, then trains the shipped model on everything and stores it with its figures in
the database (see artifacts), from where every node serves it. `model_evaluate` measures the
model in service exactly as replies use it.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from bankdesk.assistant.artifacts import (
    PackedModel,
    artifact_pack,
    local_copy_keep,
    local_directory_name,
    staging_directory,
)
from bankdesk.assistant.catalog import forget as forget_catalog
from bankdesk.assistant.choices import OUT_OF_SCOPE, ExampleSource, ModelStatus
from bankdesk.assistant.engine import current_model
from bankdesk.assistant.liveness import process_identity, process_label
from bankdesk.assistant.models import (
    LABEL_PATTERN,
    Intent,
    IntentExample,
    ModelArtifact,
    ModelVersion,
)
from bankdesk.assistant.nlu import IntentModel, train
from bankdesk.assistant.splits import stratified_split
from bankdesk.assistant.training_runs import (
    TrainingAbandoned,
    TrainingHeartbeat,
    training_interrupted_mark,
)
from bankdesk.lib.errors import Conflict, InvalidInput
from bankdesk.lib.redaction import redact_personal_data
from bankdesk.lib.stats import percentile
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.models import Category

Progress = Callable[[str, int, int], None]
TEXT_MAX = 500
HOLDOUT_SHARE = 0.1
LABEL = re.compile(LABEL_PATTERN)
# Texts looked up per query when importing: under every database's parameter limit.
LOOKUP_BATCH = 500
MEASURE_REPORT_EVERY = 100


def canonical_label(label: str, known: dict[str, str]) -> str:
    """Labels compare case-insensitively (`Refund_not_showing_up` is `refund_not_showing_up`);
    the spelling already in the database wins."""
    label = label.strip()
    return known.get(label.lower(), label)


def read_labelled_csv(path: Path) -> list[tuple[str, str]]:
    """Rows of (text, category) from a CSV with those two columns (others are ignored)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="file") from exc
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
            raise InvalidInput(f"{path}: the header must name columns text and category")
        rows = []
        for number, row in enumerate(reader, start=2):
            text, label = (row.get("text") or "").strip(), (row.get("category") or "").strip()
            if not text or not label:
                raise InvalidInput(f"{path} line {number}: text and category are both required")
            if not LABEL.match(label):
                raise InvalidInput(
                    f"{path} line {number}: a category is letters, digits, _, - and ?"
                )
            rows.append((text, label))
    return rows


def _clean_example(text: str) -> str:
    if is_unusable(text):
        raise InvalidInput("an example contains control characters", field="text")
    text = redact_personal_data(clean_text(text))
    if not text or len(text) > TEXT_MAX:
        raise InvalidInput(f"an example is 1–{TEXT_MAX} characters", field="text")
    return text


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_there: int  # stored before, or repeated within the rows
    intents_added: int


@transaction.atomic
def examples_import(
    rows: Iterable[tuple[str, str]], *, source: str, actor: User | None
) -> ImportResult:
    """Store labelled examples; unknown labels become intents titled by their code, for an
    admin to name. An example already stored under its label is counted, not repeated."""
    known = {code.lower(): code for code in Intent.objects.values_list("code", flat=True)}
    wanted: dict[tuple[str, str], None] = {}
    new_intents: dict[str, Intent] = {}
    total = 0
    for text, label in rows:
        total += 1
        label = canonical_label(label, known)
        if label != OUT_OF_SCOPE and label.lower() not in known:
            new_intents[label] = Intent(code=label, title_en=label, title_zh=label)
            known[label.lower()] = label
        wanted[(label, _clean_example(text))] = None
    Intent.objects.bulk_create(new_intents.values())
    transaction.on_commit(forget_catalog)
    stored = _stored(wanted)
    fresh = [
        IntentExample(label=label, text=text, source=source)
        for label, text in wanted
        if (label, text) not in stored
    ]
    IntentExample.objects.bulk_create(fresh, batch_size=1000)
    if fresh or new_intents:  # a repeated import (every `bankdesk up`) changes nothing
        audit_record(
            actor=actor,
            action="assistant.examples_import",
            object_type="assistant.intentexample",
            object_id="",
            reason=f"{len(fresh)} added, {len(new_intents)} new intents, source {source}",
        )
    return ImportResult(len(fresh), total - len(fresh), len(new_intents))


def _stored(pairs: dict[tuple[str, str], None]) -> set[tuple[str, str]]:
    """Which of these (label, text) pairs are stored already: looked up by their texts, not
    by reading every example there is."""
    texts = sorted({text for _, text in pairs})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(texts), LOOKUP_BATCH):
        batch = texts[start : start + LOOKUP_BATCH]
        found.update(IntentExample.objects.filter(text__in=batch).values_list("label", "text"))
    return found


@transaction.atomic
def intent_create(
    *,
    code: str,
    title_en: str,
    title_zh: str,
    actor: User | None,
    category: Category | None = None,
    is_risk: bool = False,
    examples: Sequence[str] = (),
) -> Intent:
    """An intent admins add, with its first examples; it is learnt at the next training."""
    if code.lower() == OUT_OF_SCOPE or not LABEL.match(code):
        raise InvalidInput("a code is 1–80 letters, digits, _, - and ?, and not oos", field="code")
    if Intent.objects.filter(code__iexact=code).exists():
        raise Conflict("an intent with this code exists", code="intent_exists", field="code")
    intent = Intent.objects.create(
        code=code,
        title_en=clean_text(title_en),
        title_zh=clean_text(title_zh),
        category=category,
        is_risk=is_risk,
    )
    audit_record(actor=actor, action="assistant.intent_create", target=intent, fields=["code"])
    transaction.on_commit(forget_catalog)
    if examples:
        examples_import(
            [(text, code) for text in examples], source=ExampleSource.ADMIN, actor=actor
        )
    return intent


def training_examples() -> list[tuple[str, str]]:
    """Every example of an active intent, and every out-of-scope example."""
    active = set(Intent.objects.filter(is_active=True).values_list("code", flat=True))
    return [
        (text, label)
        for text, label in IntentExample.objects.order_by("id").values_list("text", "label")
        if label in active or label == OUT_OF_SCOPE
    ]


# -- measuring ------------------------------------------------------------------------------


def measure(
    model: IntentModel, rows: Sequence[tuple[str, str]], progress: Progress | None = None
) -> dict[str, float | int]:
    """The figures `bankdesk assistant evaluate` prints, for `rows` of (text, category).

    accuracy: in-scope rows whose top intent is right and not rejected as out-of-scope;
    macro_f1: over in-scope labels, with rejection as a wrong answer; oos_recall: share of
    `oos` rows rejected; p50/p99_ms: one predict() per row, as a reply makes it.
    """
    known = {label.lower(): label for label in model.labels}
    timings: list[float] = []
    true_positive: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    in_scope = correct = oos = rejected = 0
    model.predict("warm-up 预热")  # a serving process is warm: lazily built parts are built
    for done, (text, category) in enumerate(rows):
        if progress is not None and done % MEASURE_REPORT_EVERY == 0:
            progress("measure", done, len(rows))
        started = time.perf_counter()
        prediction = model.predict(text)
        timings.append((time.perf_counter() - started) * 1000)
        guess = OUT_OF_SCOPE if prediction.out_of_scope else prediction.ranked[0][0]
        truth = OUT_OF_SCOPE if category == OUT_OF_SCOPE else known.get(category.lower(), category)
        if truth == OUT_OF_SCOPE:
            oos += 1
            rejected += guess == OUT_OF_SCOPE
            if guess != OUT_OF_SCOPE:
                predicted[guess] += 1
            continue
        in_scope += 1
        actual[truth] += 1
        if guess != OUT_OF_SCOPE:
            predicted[guess] += 1
        if guess == truth:
            correct += 1
            true_positive[truth] += 1
    f1s = []
    for label in actual:
        precision = true_positive[label] / predicted[label] if predicted[label] else 0.0
        recall = true_positive[label] / actual[label]
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {
        "n": len(rows),
        "accuracy": round(correct / in_scope, 4) if in_scope else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        "oos_recall": round(rejected / oos, 4) if oos else 0.0,
        "p50_ms": round(percentile(timings, 0.5), 3),
        "p99_ms": round(percentile(timings, 0.99), 3),
    }


def model_evaluate(rows: Sequence[tuple[str, str]]) -> dict[str, float | int]:
    """Figures for the model in service, loaded exactly as replies load it."""
    serving = current_model()
    if serving is None:
        raise InvalidInput("no model has been trained yet: run bankdesk assistant train")
    return measure(serving[1], rows)


# -- training -------------------------------------------------------------------------------


def model_train(
    *,
    actor: User | None,
    progress: Progress | None = None,
    holdout: bool = True,
    seed: int = 0,
    retry_of: ModelVersion | None = None,
) -> ModelVersion:
    """Train a new version on the database's examples; it serves from its first reply on, on
    every node.

    With `holdout`, a stratified tenth is first held out and the model trained on the rest is
    measured on it: those are the version's figures. The version served is then trained on
    every example. `retry_of` names the interrupted run this one trains again.
    """
    examples = training_examples()
    labels = {label for _, label in examples if label != OUT_OF_SCOPE}
    if len(labels) < 2:
        raise InvalidInput("training needs examples of at least two intents")
    version = ModelVersion.objects.create(
        requested_by=actor,
        examples=len(examples),
        labels=len(labels),
        worker=process_label(),
        worker_identity=process_identity(),
        heartbeat_at=timezone.now(),
        retry_of=retry_of,
    )
    started = time.monotonic()
    heartbeat = TrainingHeartbeat(version.pk, progress)
    staging: Path | None = None
    try:
        # A directory of this run's own: runs at once, on one node or many, share no files.
        staging = staging_directory(f"training-v{version.pk:04d}")
        metrics: dict[str, float | int] = {}
        if holdout:
            kept, held = stratified_split(examples, HOLDOUT_SHARE, seed)
            trial = train(kept, seed=seed, progress=_staged(heartbeat, "holdout "))
            metrics = measure(trial, held, progress=_staged(heartbeat, "holdout "))
        model = train(examples, seed=seed, progress=heartbeat)
        model.save(staging)
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2), "utf-8")
        packed = artifact_pack(staging)
        _ready(version, packed, metrics=metrics, seconds=time.monotonic() - started, actor=actor)
    except BaseException as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _failed(version, exc, seconds=time.monotonic() - started)
        raise
    try:
        local_copy_keep(staging, version_id=version.pk, sha256=packed.sha256)
    except OSError:  # this node fetches its copy from the database, as every other node does
        shutil.rmtree(staging, ignore_errors=True)
    return version


@transaction.atomic
def _ready(
    version: ModelVersion,
    packed: PackedModel,
    *,
    metrics: dict[str, float | int],
    seconds: float,
    actor: User | None,
) -> None:
    """Store the files and mark the version ready, together: no node sees a ready version
    whose files it cannot fetch."""
    locked = ModelVersion.objects.select_for_update().only("status").get(pk=version.pk)
    if locked.status != ModelStatus.TRAINING:
        raise TrainingAbandoned(
            f"model v{version.pk} was marked interrupted while it was still training"
        )
    ModelArtifact.objects.create(
        version=version, sha256=packed.sha256, size=packed.size, content=packed.content
    )
    version.status = ModelStatus.READY
    version.directory = local_directory_name(version.pk, packed.sha256)
    version.metrics = metrics
    version.seconds = round(seconds, 1)
    version.finished_at = timezone.now()
    version.heartbeat_at = version.finished_at
    version.save()
    audit_record(
        actor=actor,
        action="assistant.model_train",
        target=version,
        reason=(
            f"{version.examples} examples, {version.labels} intents, {json.dumps(metrics)}, "
            f"files sha256 {packed.sha256}"
        ),
    )


def _failed(version: ModelVersion, exc: BaseException, *, seconds: float) -> None:
    if isinstance(exc, TrainingAbandoned):
        return  # marked already, by the worker that found it silent
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C on `bankdesk assistant train`
        training_interrupted_mark(
            version_id=version.pk,
            reason="interrupted: training was cancelled (Ctrl-C)",
            is_cancelled=True,
        )
        return
    if not isinstance(exc, Exception):  # SystemExit: the worker was told to stop at once
        training_interrupted_mark(
            version_id=version.pk, reason="interrupted: the worker was stopped during training"
        )
        return
    ModelVersion.objects.filter(pk=version.pk, status=ModelStatus.TRAINING).update(
        status=ModelStatus.FAILED,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        seconds=round(seconds, 1),
        finished_at=timezone.now(),
    )


def _staged(progress: Progress | None, prefix: str) -> Progress | None:
    if progress is None:
        return None

    def report(stage: str, done: int, total: int) -> None:
        progress(prefix + stage, done, total)

    return report
